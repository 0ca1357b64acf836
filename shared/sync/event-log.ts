// The event-log cursor: which EventLogEntry ids have been forwarded, which are missing (committed out of order), and what to ask for next.
import { z } from 'zod';

/**
 * The site allocates event ids in order but commits them late (long transactions), so "max id seen" is not a
 * complete watermark (protocol.md §6, peers.md §6). The cursor keeps `maxSeen` plus a backlog of ids below it that
 * have not appeared yet, each with the time it was first found missing. A backlog id that shows up later is
 * forwarded then; one that never shows up is dropped after `backlogTimeoutMs` (the reconciliation scan is the
 * safety net for whatever it carried).
 */
export const CursorStateSchema = z.object({
  /** Highest event id seen (and forwarded). 0 before the first event. */
  maxSeen: z.number().int().nonnegative(),
  /** Missing ids below maxSeen -> epoch ms when first found missing. Keys are decimal ids. */
  backlog: z.record(z.string(), z.number()),
  /**
   * The site's created_at (epoch ms) of the event maxSeen: after a trimmed log, what the lost events changed has
   * updated_at from about then on (shared/sync/rebuild.ts). Absent on cursors saved before it existed or not yet polled.
   */
  seenAt: z.number().optional(),
  /** The kept event log's window (shared/sync/kept-window.ts); absent: nothing kept yet. */
  kept: z
    .object({
      /** The kept log holds every event of `types` with an id in (after, maxSeen] that is not in the backlog. */
      after: z.number().int().nonnegative(),
      /** The event types kept since `after`. */
      types: z.array(z.string()),
      /** Retention marks [maxSeen, epoch ms], oldest first: once a mark is older than the retention, `after` moves to it. */
      marks: z.array(z.tuple([z.number().int().nonnegative(), z.number()])),
    })
    .optional(),
});
export type CursorState = z.infer<typeof CursorStateSchema>;

export const EventRowSchema = z.looseObject({
  id: z.number().int().positive(),
  event_type: z.string(),
  attribute_name: z.string().nullable().optional(),
  meta: z.unknown().optional(),
  entity: z.object({ type: z.string(), id: z.number().int() }).loose().nullable().optional(),
  project: z.unknown().optional(),
  user: z.unknown().optional(),
  session_uuid: z.string().nullable().optional(),
  created_at: z.string().nullable().optional(),
});
export type EventRow = z.infer<typeof EventRowSchema>;

/** The fields the poller asks for, as the shotgunEvents daemon does. */
export const EVENT_FIELDS = ['id', 'event_type', 'attribute_name', 'meta', 'entity', 'user', 'project', 'session_uuid', 'created_at'] as const;

export interface AdvanceResult {
  next: CursorState;
  /** Events to forward, in id order: new ones above maxSeen and backlog ids that finally appeared. */
  forward: EventRow[];
  /** Backlog ids given up on (timed out) in this step. */
  expired: number[];
  /** Ids newly found missing in this step. */
  newlyMissing: number[];
  /** The highest id this step gave up on without seeing it (expired, or below a gap too wide to backlog); 0 if none. */
  unseen: number;
}

/**
 * A gap wider than this between consecutive ids is not a late commit (those leave a few ids behind) but unused ids,
 * e.g. the distance from an empty cursor to the site's first event: it is not backlogged.
 */
export const MAX_GAP = 1000;

export function initialCursor(startAfter: number): CursorState {
  return { maxSeen: startAfter, backlog: {} };
}

export function backlogIds(state: CursorState): number[] {
  return Object.keys(state.backlog)
    .map(Number)
    .sort((a, b) => a - b);
}

/**
 * Folds one poll's rows (any order, duplicates allowed: rows above maxSeen and rows answering a backlog query)
 * into the cursor. Pure: the caller persists `next` only after `forward` is durably queued.
 */
export function advance(state: CursorState, rows: readonly EventRow[], nowMs: number, backlogTimeoutMs: number): AdvanceResult {
  const backlog = { ...state.backlog };
  let maxSeen = state.maxSeen;
  let seenAt = state.seenAt;
  const byId = new Map<number, EventRow>();
  for (const r of rows) byId.set(r.id, r);
  const ids = [...byId.keys()].sort((a, b) => a - b);
  const forward: EventRow[] = [];
  const newlyMissing: number[] = [];
  let unseen = 0;
  for (const id of ids) {
    if (id <= state.maxSeen) {
      const key = String(id);
      if (Object.hasOwn(backlog, key)) {
        delete backlog[key];
        forward.push(byId.get(id)!);
      }
      continue;
    }
    if (id - maxSeen - 1 <= MAX_GAP) {
      for (let gap = maxSeen + 1; gap < id; gap++) {
        backlog[String(gap)] = nowMs;
        newlyMissing.push(gap);
      }
    } else {
      unseen = Math.max(unseen, id - 1);
    }
    if (id > maxSeen) {
      maxSeen = id;
      const at = Date.parse(byId.get(id)!.created_at ?? '');
      seenAt = Number.isFinite(at) ? at : undefined;
    }
    forward.push(byId.get(id)!);
  }
  const expired: number[] = [];
  for (const [key, since] of Object.entries(backlog)) {
    if (nowMs - since >= backlogTimeoutMs) {
      delete backlog[key];
      expired.push(Number(key));
    }
  }
  expired.sort((a, b) => a - b);
  if (expired.length) unseen = Math.max(unseen, expired[expired.length - 1]);
  const next: CursorState = { maxSeen, backlog, ...(seenAt !== undefined ? { seenAt } : {}), ...(state.kept ? { kept: state.kept } : {}) };
  return { next, forward, expired, newlyMissing, unseen };
}

/**
 * The entity an event's change belongs to: the SQS FIFO message group, so one entity's events apply in order.
 * The type comes from event_type (Shotgun_<Type>_<Action>) and the id from `entity`; `meta.entity_id` is used
 * only when `entity` is null (the entity is retired now) and the event is not a back-reference change, whose
 * meta describes the entity on the other side of the link (peers.md §6).
 */
export function owningEntity(ev: EventRow): { type: string; id: number } | null {
  const m = /^Shotgun_(.+)_(New|Change|Retirement|Revival)$/.exec(ev.event_type);
  if (!m) return null;
  const type = m[1];
  if (ev.entity && typeof ev.entity.id === 'number') return { type: ev.entity.type ?? type, id: ev.entity.id };
  const meta = (ev.meta ?? {}) as Record<string, unknown>;
  if (meta.actual_attribute_changed !== undefined) return null;
  const id = meta.entity_id;
  const metaType = meta.entity_type;
  if (typeof id === 'number' && (metaType === undefined || metaType === type)) return { type, id };
  return null;
}

export function messageGroupId(ev: EventRow): string {
  const owner = owningEntity(ev);
  return owner ? `${owner.type}#${owner.id}` : `event#${ev.event_type}`;
}

/**
 * `evt-<id>`, and with `run` (the poller invocation) `evt-<id>-<run>`: a later invocation that sends an event again (its
 * predecessor died before saving the cursor) has it delivered again, so the apply (a no-op by version) clears the
 * pending marker it wrote again (shared/store/pending-events.ts) instead of SQS dropping it as a duplicate.
 */
export function deduplicationId(ev: EventRow, run?: string): string {
  return run ? `evt-${ev.id}-${run.slice(0, 8)}` : `evt-${ev.id}`;
}
