// The seeded site's EventLogEntry history: years of rows below the first real event id, synthesized from (seed, id) when read, never stored.
import { formatDateTime, type Link } from '../../shared/site/index.js';
import type { StoredEntity } from './store.js';
import { Prng } from './prng.js';

/** What the history is made from (kept in snapshots: the rows themselves are never stored). */
export interface HistorySpec {
  seed: number;
  /** Rows exist for every id in [firstId, lastId] (retention may move firstId up). */
  firstId: number;
  lastId: number;
  /** The newest row's created_at (epoch ms); each id below it is `msPerId` older (the oldest rows years back). */
  endMs: number;
  msPerId: number;
  /** The entity types the rows are about, with the seeded id range and a weight (their count). */
  types: Array<{ type: string; firstId: number; lastId: number; weight: number }>;
  /** Who made the changes. */
  users: Link[];
}

/** At most this many history rows are put before a read filtered on more than the id (the sim's scan window). */
export const HISTORY_SCAN = 10_000;

const STATUSES = ['wtg', 'rdy', 'ip', 'rev', 'apr', 'fin', 'hld'];

/** The rows of a history, by id, deterministically (the same id always gives the same row). */
export class EventHistory {
  private readonly cumulative: number[] = [];
  private readonly totalWeight: number;

  constructor(
    readonly spec: HistorySpec,
    /** The project of a seeded entity (rows carry it as real ones do), undefined if it has none. */
    private readonly projectOf: (type: string, id: number) => Link | undefined,
  ) {
    let sum = 0;
    for (const t of spec.types) this.cumulative.push((sum += t.weight));
    this.totalWeight = sum;
  }

  get size(): number {
    return Math.max(0, this.spec.lastId - this.spec.firstId + 1);
  }

  has(id: number): boolean {
    return id >= this.spec.firstId && id <= this.spec.lastId && this.totalWeight > 0;
  }

  /** Retention: rows below `id` are gone for good; returns how many went. */
  trimBelow(id: number): number {
    const gone = Math.max(0, Math.min(id, this.spec.lastId + 1) - this.spec.firstId);
    this.spec.firstId += gone;
    return gone;
  }

  /** The rows with ids in (afterId, beforeId), at most `limit`, ascending; the newest `limit` of them with `newestFirst`. */
  rows(afterId: number, beforeId: number, limit: number, newestFirst: boolean): StoredEntity[] {
    const lo = Math.max(this.spec.firstId, afterId + 1);
    const hi = Math.min(this.spec.lastId, beforeId - 1);
    if (hi < lo || this.totalWeight === 0) return [];
    const n = Math.min(limit, hi - lo + 1);
    const start = newestFirst ? hi - n + 1 : lo;
    const out: StoredEntity[] = [];
    for (let id = start; id < start + n; id++) out.push(this.row(id));
    return out;
  }

  /** The row with this id (a New or a status Change of a seeded entity); ids outside the history give rows too (check has()). */
  row(id: number): StoredEntity {
    const s = this.spec;
    const r = new Prng(s.seed ^ Math.imul(id, 0x9e3779b1));
    const pick = r.next() * this.totalWeight;
    let k = 0;
    while (this.cumulative[k] <= pick) k++;
    const t = s.types[k];
    const entityId = r.int(t.firstId, t.lastId);
    const user = s.users[r.int(0, s.users.length - 1)];
    const createdAt = formatDateTime(new Date(Math.floor((s.endMs - (s.lastId - id) * s.msPerId) / 1000) * 1000));
    const values: Record<string, unknown> = { user, created_at: createdAt, entity: { type: t.type, id: entityId } };
    const project = this.projectOf(t.type, entityId);
    if (project) values.project = project;
    if (r.chance(0.15)) {
      values.event_type = `Shotgun_${t.type}_New`;
      values.meta = { type: 'new_entity', entity_type: t.type, entity_id: entityId };
      values.description = `${t.type} #${entityId} created`;
    } else {
      const from = r.pick(STATUSES);
      const to = r.pick(STATUSES);
      values.event_type = `Shotgun_${t.type}_Change`;
      values.attribute_name = 'sg_status_list';
      values.meta = {
        type: 'attribute_change',
        attribute_name: 'sg_status_list',
        entity_type: t.type,
        entity_id: entityId,
        field_data_type: 'status_list',
        old_value: from,
        new_value: to,
      };
      values.description = `changed "Status" from "${from}" to "${to}" on ${t.type} #${entityId}`;
    }
    return { type: 'EventLogEntry', id, retired: false, values };
  }
}

/** The types a seeded history is about (those a studio's log is mostly made of), in this order. */
const HISTORY_TYPES = ['Version', 'PublishedFile', 'Note', 'Task', 'Shot', 'Asset', 'Playlist', 'Sequence'];
const YEARS_MS = 3 * 365 * 86_400_000;

/**
 * The history of a freshly seeded store: `rows` rows ending just below its next event id, the newest a minute
 * before `epochMs`, the oldest three years earlier, about the seeded entities of HISTORY_TYPES by their counts.
 */
export function seededHistory(
  store: { all(type: string): ReadonlyArray<{ id: number; retired: boolean; values: Record<string, unknown> }>; peekNextEventId(): number },
  seed: number,
  epochMs: number,
  rows: number,
): HistorySpec {
  const lastId = store.peekNextEventId() - 1;
  const types = HISTORY_TYPES.map((type) => ({ type, list: store.all(type) }))
    .filter((t) => t.list.length > 0)
    .map(({ type, list }) => ({ type, firstId: list[0].id, lastId: list[list.length - 1].id, weight: list.length }));
  const users = store
    .all('HumanUser')
    .filter((u) => !u.retired && u.values.sg_status_list === 'act')
    .slice(0, 64)
    .map((u) => ({ type: 'HumanUser', id: u.id }));
  const n = Math.max(0, Math.min(rows, lastId));
  return { seed: seed ^ 0x4157, firstId: lastId - n + 1, lastId, endMs: epochMs - 60_000, msPerId: YEARS_MS / Math.max(1, n), types, users };
}
