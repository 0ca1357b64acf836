// The poll loop: within one invocation, read new EventLogEntry rows about every second and queue them before the cursor moves.
import { randomUUID } from 'node:crypto';
import { advance, backlogIds, initialCursor, type CursorState, type EventRow } from './event-log.js';
import { LeaseLostError, type LeaseHolder, type PollerLease } from './poller-lease.js';
import { nextKept, type KeptLogSettings } from './kept-window.js';
import { systemClock, type Clock } from '../clock.js';
import type { SiteSchema } from '../schema/index.js';
import { ShotgunFault, ShotgunTransportError } from '../site/index.js';
import { ANY_TYPE } from '../store/index.js';

/** Where events come from: the site's EventLogEntry, read as the shotgunEvents daemon reads it. */
export interface EventSource {
  /** Rows with id > afterId, id ascending, at most `limit`. */
  readAfter(afterId: number, limit: number): Promise<EventRow[]>;
  /** Rows among `ids` that exist now (late commits). */
  readIds(ids: number[]): Promise<EventRow[]>;
  /** The newest event id, or 0 for an empty log. */
  latestId(): Promise<number>;
  /** Whether the row with this id still exists (false once the site's retention dropped it). */
  exists(id: number): Promise<boolean>;
}

/** Where events go: resolves only once every event is durably queued (SQS FIFO in AWS and locally). */
export interface EventSink {
  /** `run` names the poller invocation (the dedup id carries it: shared/sync/event-log.ts deduplicationId). */
  send(events: EventRow[], run?: string): Promise<void>;
}

export interface PollerMetrics {
  heartbeat(): void;
  forwarded(n: number): void;
  dropped(n: number): void;
  /** Missing ids (committed out of order) the cursor waits for. */
  backlog(size: number): void;
  /** How far the cursor is behind the site's latest event id (0 when the last poll came back short). */
  behind(events: number): void;
  expired(ids: number[]): void;
  lagSeconds(seconds: number): void;
  cursorBeyondRetention(): void;
}

export interface PollerOptions {
  lease: PollerLease;
  source: EventSource;
  sink: EventSink;
  schema: SiteSchema;
  metrics: PollerMetrics;
  pollIntervalMs: number;
  pageSize?: number;
  backlogTimeoutMs?: number;
  /** The time source of the loop, the lease's heartbeat and the waits (default the real clock). */
  clock?: Clock;
  /** Stop polling when fewer than one interval remains before this instant (on `clock`). */
  deadline: number;
  /**
   * Called when the cursor is older than the site's retention: a full import must run. The cursor then restarts at
   * the site's latest event (what lies between is lost from the log; the rebuild replaces it: shared/sync/rebuild.ts).
   * `lost`: the saved cursor, whose `seenAt` and backlog bound when the lost changes happened.
   */
  onRetentionExceeded?: (lost: CursorState) => Promise<void>;
  /** Checked before every poll: true stops the loop early (the Lambda runtime is shutting the invocation down). */
  shouldStop?: () => boolean;
  /** Called after every poll with the saved cursor (status reporting). */
  onPoll?: (cursor: CursorState) => void;
  /**
   * Called with every event of a batch, relevant or not, before the cursor moves (the response cache's generation
   * counters: shared/reads/response-cache.ts). A failure stops the poll, as a failed send does.
   */
  onEvents?: (events: EventRow[]) => Promise<void>;
  /**
   * The kept event log (shared/sync/kept-window.ts): the rows of `types` a poll read are written before the cursor
   * that has seen them is saved, and the cursor carries the window in which the kept log is complete. Omitted: the
   * cursor carries no window (nothing may be served from the kept log). `write` returns the ids it could not keep
   * (too large for an item): the window moves past them, as past ids never seen.
   */
  keep?: KeptLogSettings & { write: (rows: EventRow[], nowMs: number) => Promise<number[]> };
  /**
   * Marks relevant events as queued and not yet applied (shared/store/pending-events.ts), before they are sent: reads of
   * their types are not provably fresh until the consumer has applied them. A failure stops the poll.
   */
  markPending?: (events: EventRow[]) => Promise<void>;
  /** Told when a poll failed because of the site (down, or its event log failing) and when polling works again. */
  onSiteTrouble?: (e: Error | undefined) => void;
  /** Jitter for the wait after a failed poll (default Math.random). */
  random?: () => number;
}

export interface PollerRun {
  status: 'done' | 'lease-held' | 'lease-lost';
  polls: number;
  forwarded: number;
  dropped: number;
  cursor: CursorState | null;
}

/** Event types that carry no entity change for the cache. */
const ENTITY_EVENT = /^Shotgun_(.+)_(New|Change|Retirement|Revival)$/;

/**
 * Whether the cache needs an event: entity events of cached types (Changes of cached fields only), DisplayColumn
 * events (schema changes), and renames, retirements and revivals of uncached link-target types (link names and flags).
 */
export function isRelevant(schema: SiteSchema, ev: EventRow): boolean {
  if (ev.event_type.startsWith('Shotgun_DisplayColumn_')) return true;
  const m = ENTITY_EVENT.exec(ev.event_type);
  if (!m) return false;
  const type = m[1];
  const attr = ev.attribute_name ?? null;
  if (schema.hasType(type)) {
    // A retirement_date Change precedes every Retirement/Revival, which carry the same fact: forwarded only if cached.
    if (m[2] !== 'Change' || attr === null) return true;
    return schema.field(type, attr) !== undefined;
  }
  // Uncached link targets: their renames, retirements and revivals change how cached links read.
  const identifier = schema.identifier(type);
  if (identifier === undefined) return false;
  return m[2] === 'Change' ? attr !== null && identifier === attr : m[2] === 'Retirement' || m[2] === 'Revival';
}

/** The pending-event key of a relevant event (shared/store/pending-events.ts): its cached type, or `*` when it changes how every type reads. */
export function pendingKeyOf(schema: SiteSchema, ev: EventRow): string {
  const m = ENTITY_EVENT.exec(ev.event_type);
  return m && schema.hasType(m[1]) ? m[1] : ANY_TYPE;
}

export async function runPoller(o: PollerOptions): Promise<PollerRun> {
  const clock = o.clock ?? systemClock;
  const now = () => clock.now();
  const sleep = (ms: number) => clock.sleep(ms);
  const random = o.random ?? Math.random;
  const pageSize = o.pageSize ?? 500;
  const backlogTimeoutMs = o.backlogTimeoutMs ?? 5 * 60_000;
  const owner = randomUUID();
  const holder = await o.lease.acquire(owner, now());
  const run: PollerRun = { status: 'done', polls: 0, forwarded: 0, dropped: 0, cursor: null };
  if (!holder) return { ...run, status: 'lease-held' };
  try {
    let cursor = holder.cursor;
    let started = false;
    let downSince: number | null = null;
    let troubled = false;
    while (now() + o.pollIntervalMs < o.deadline && !o.shouldStop?.()) {
      try {
        if (!started) {
          cursor = await startingCursor(o, holder, now);
          started = true;
        }
        const c = cursor!;
        const missing = backlogIds(c);
        const [fresh, late] = await Promise.all([o.source.readAfter(c.maxSeen, pageSize), missing.length ? o.source.readIds(missing) : Promise.resolve([])]);
        const step = advance(c, [...fresh, ...late], now(), backlogTimeoutMs);
        const relevant = step.forward.filter((ev) => isRelevant(o.schema, ev));
        if (relevant.length && o.markPending) await o.markPending(relevant);
        if (relevant.length) await o.sink.send(relevant, owner);
        if (step.forward.length && o.onEvents) await o.onEvents(step.forward);
        const keptTypes = o.keep && new Set(o.keep.types);
        const kept = keptTypes ? step.forward.filter((ev) => keptTypes.has(ev.event_type)) : [];
        const unkept = kept.length ? await o.keep!.write(kept, now()) : [];
        const next = nextKept(c, step.next, Math.max(step.unseen, ...unkept), now(), o.keep);
        await o.lease.save(holder, now(), next, {
          caughtUp: fresh.length < pageSize,
          ...(downSince !== null || run.polls === 0 ? { siteDownSince: null } : {}),
        });
        cursor = next;
        downSince = null;
        if (troubled) o.onSiteTrouble?.(undefined);
        troubled = false;
        run.polls += 1;
        run.forwarded += relevant.length;
        run.dropped += step.forward.length - relevant.length;
        o.metrics.heartbeat();
        o.metrics.forwarded(relevant.length);
        o.metrics.dropped(step.forward.length - relevant.length);
        o.metrics.backlog(backlogIds(cursor).length);
        o.metrics.behind(fresh.length === pageSize ? Math.max(0, (await o.source.latestId()) - cursor.maxSeen) : 0);
        o.onPoll?.(cursor);
        if (step.expired.length) o.metrics.expired(step.expired);
        const last = step.forward.at(-1);
        const lastAt = last?.created_at ? Date.parse(last.created_at) : NaN;
        o.metrics.lagSeconds(Number.isFinite(lastAt) && fresh.length === pageSize ? Math.max(0, (now() - lastAt) / 1000) : 0);
        if (fresh.length < pageSize) await sleep(o.pollIntervalMs);
      } catch (e) {
        // The site down (or only its event log failing): nothing moved; the lease is kept alive and the poll tried again
        // after about one interval (the site's circuit breaker decides whether a call is made: shared/site/site-health.ts).
        if (!(e instanceof ShotgunTransportError || e instanceof ShotgunFault)) throw e;
        troubled = true;
        o.onSiteTrouble?.(e);
        if (e instanceof ShotgunTransportError && downSince === null) downSince = now();
        await o.lease.save(holder, now(), undefined, { siteDownSince: downSince });
        await sleep(Math.floor(o.pollIntervalMs * (0.5 + random() / 2)));
      }
    }
    run.cursor = cursor;
    await o.lease.release(holder);
    return run;
  } catch (e) {
    if (e instanceof LeaseLostError) return { ...run, status: 'lease-lost' };
    throw e;
  }
}

/** The cursor to poll from: the saved one, a new one at the site's latest event, or (beyond the site's retention) a restart there after requesting a rebuild. */
async function startingCursor(o: PollerOptions, holder: LeaseHolder, now: () => number): Promise<CursorState> {
  const saved = holder.cursor;
  if (saved && !(saved.maxSeen > 0 && !(await o.source.exists(saved.maxSeen)))) return saved;
  if (saved) {
    o.metrics.cursorBeyondRetention();
    await o.onRetentionExceeded?.(saved);
  }
  const cursor = initialCursor(await o.source.latestId());
  await o.lease.save(holder, now(), cursor, saved ? { gapAt: now() } : {});
  return cursor;
}
