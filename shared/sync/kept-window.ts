// The kept event log's window in the cursor: which event types are kept, the low watermark from which the kept log is complete, and how retention moves it.
import { z } from 'zod';
import type { CursorState } from './event-log.js';

/**
 * What the poller keeps of the event log (EVENT_LOG_KEEP_TYPES, EVENT_LOG_RETENTION_DAYS): every event of `types`,
 * for `retentionMs`. Rows are written before the cursor that has seen them is saved.
 */
export interface KeptLogSettings {
  types: readonly string[];
  retentionMs: number;
}

/** tk-core's path-cache events (python/tank/path_cache.py): what Toolkit reads back from the log. */
export const DEFAULT_KEPT_TYPES: readonly string[] = ['Toolkit_Folders_Create', 'Toolkit_Folders_Delete'];
export const DEFAULT_KEPT_RETENTION_DAYS = 30;
const DAY_MS = 86_400_000;

/** Retention marks per retention period: the low watermark trails the retention by at most one mark interval. */
export const MARKS_PER_RETENTION = 16;

export function markIntervalMs(retentionMs: number): number {
  return Math.max(1, Math.floor(retentionMs / MARKS_PER_RETENTION));
}

/**
 * When a row kept at `nowMs` may expire (epoch seconds, the TTL): the retention plus one mark interval, so the low
 * watermark has always moved past a row before DynamoDB may delete it (see `nextKept`).
 */
export function keptUntilS(nowMs: number, retentionMs: number): number {
  return Math.ceil((nowMs + retentionMs + markIntervalMs(retentionMs)) / 1000);
}

const sameTypes = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((t, i) => t === b[i]);

/**
 * The cursor to save after a poll (`next` from `advance`), with its kept window moved on:
 * - no settings: no window (nothing is kept, so nothing may be served from it);
 * - a first window, or other types than before: the kept log starts after the previous cursor's maxSeen;
 * - ids given up on unseen (`unseen`: expired backlog ids, wide gaps) raise the low watermark past them: if one did
 *   commit later, the kept log would not have it;
 * - retention: a mark [maxSeen, now] per mark interval. Rows with ids above a mark were all polled after it, so they
 *   live (TTL) until at least the mark's time plus the retention; once that has passed, the watermark moves to the
 *   next mark (or to maxSeen), i.e. past every row that may have expired.
 */
export function nextKept(prev: CursorState, next: CursorState, unseen: number, nowMs: number, settings: KeptLogSettings | undefined): CursorState {
  const { kept: _dropped, ...bare } = next;
  if (!settings) return bare;
  const types = [...new Set(settings.types)].sort();
  const base = prev.kept && sameTypes(prev.kept.types, types) ? prev.kept : { after: prev.maxSeen, types, marks: [] };
  let after = Math.max(base.after, unseen);
  const marks = base.marks.map(([id, at]) => [id, at] as [number, number]);
  while (marks.length && marks[0][1] + settings.retentionMs <= nowMs) {
    after = Math.max(after, marks[1]?.[0] ?? next.maxSeen);
    marks.shift();
  }
  const last = marks.at(-1);
  if (!last || nowMs - last[1] >= markIntervalMs(settings.retentionMs)) marks.push([next.maxSeen, nowMs]);
  return { ...bare, kept: { after: Math.min(after, next.maxSeen), types, marks } };
}

const typesSchema = z.string().transform((s) =>
  s
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean),
);

/** EVENT_LOG_KEEP_TYPES (comma-separated event types; `off` keeps nothing) and EVENT_LOG_RETENTION_DAYS. */
export function keptLogSettingsFromEnv(env: Record<string, string | undefined>): KeptLogSettings | undefined {
  const raw = env.EVENT_LOG_KEEP_TYPES?.trim();
  if (raw?.toLowerCase() === 'off') return undefined;
  const types = raw ? typesSchema.parse(raw) : [...DEFAULT_KEPT_TYPES];
  if (types.length === 0) return undefined;
  const daysRaw = env.EVENT_LOG_RETENTION_DAYS?.trim();
  const days = daysRaw ? Number(daysRaw) : DEFAULT_KEPT_RETENTION_DAYS;
  if (!(days > 0) || !Number.isFinite(days)) throw new Error(`EVENT_LOG_RETENTION_DAYS must be a positive number of days, not "${daysRaw}"`);
  return { types, retentionMs: Math.round(days * DAY_MS) };
}

/** What the kept log can vouch for within the ids [from, to] of a read (`to` already capped at the cursor's maxSeen). */
export interface KnownIds {
  from: number;
  to: number;
  /** The lowest and highest ids in [from, to] that are not known (below the window, or pending in the backlog); absent: all known. */
  firstUnknown?: number;
  lastUnknown?: number;
  /** Why some are not known: a backlog id (committed out of order, not seen yet), or below the kept window. */
  cause?: 'backlog' | 'incomplete';
}

/**
 * The kept log's knowledge of ids [lo, hi] as of the cursor: an id is known when it lies in (kept.after, maxSeen]
 * and is not in the backlog (it was read, or it was never committed; every read row of a kept type was written
 * before this cursor was saved). Ids above maxSeen are events after the last poll: the answer is as of that poll.
 */
export function knownIds(c: CursorState, lo: number, hi: number): KnownIds {
  const to = Math.min(hi, c.maxSeen);
  const from = Math.max(1, lo);
  if (from > to) return { from, to };
  const after = c.kept ? c.kept.after : c.maxSeen;
  const pending = Object.keys(c.backlog)
    .map(Number)
    .filter((id) => id >= from && id <= to);
  const below = from <= after;
  if (!below && pending.length === 0) return { from, to };
  const firstUnknown = below ? from : Math.min(...pending);
  const lastUnknown = pending.length ? Math.max(...pending) : Math.min(to, after);
  return { from, to, firstUnknown, lastUnknown, cause: pending.length ? 'backlog' : 'incomplete' };
}
