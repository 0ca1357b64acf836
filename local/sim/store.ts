// The sim's in-memory entity store: entities per type in id order, id counters, retired flags, and undoable transactions.
import type { EntityLookup, EntityRecord } from '../../shared/semantics/index.js';
import { EventHistory, type HistorySpec } from './event-history.js';

/** An entity as the sim keeps it: the shared record plus when it was retired (ISO date_time), for event meta. */
export interface StoredEntity extends EntityRecord {
  retiredAt?: string;
}

interface TypeTable {
  byId: Map<number, StoredEntity>;
  /** Ascending id order (ids are allocated increasing; out-of-order event rows are inserted in place). */
  list: StoredEntity[];
  nextId: number;
}

/** The JSON form of the store inside a snapshot file. */
export interface StoreSnapshot {
  nextIds: Record<string, number>;
  nextEventId: number;
  /** Per type: [id, retired (0/1), values, retiredAt?]. */
  entities: Record<string, Array<[number, number, Record<string, unknown>, string?]>>;
  /** The seeded EventLogEntry history below the real rows (local/sim/event-history.ts), when the seed made one. */
  history?: HistorySpec;
}

export class SiteStore implements EntityLookup {
  private readonly tables = new Map<string, TypeTable>();
  private nextEventIdValue = 1;
  private journal: Array<() => void> | undefined;
  private historyRows: EventHistory | undefined;
  /** Called after every committed change (the snapshot writer debounces on it). */
  onChange: () => void = () => {};

  constructor(typeNames: Iterable<string>) {
    for (const t of typeNames) this.tables.set(t, { byId: new Map(), list: [], nextId: 1 });
  }

  hasType(type: string): boolean {
    return this.tables.has(type);
  }

  get(type: string, id: number): StoredEntity | undefined {
    const rec = this.tables.get(type)?.byId.get(id);
    if (rec || type !== 'EventLogEntry' || !this.historyRows?.has(id)) return rec;
    return this.historyRows.row(id);
  }

  /** Gives the store a synthesized EventLogEntry history below its real rows (undefined: none). */
  setHistory(spec: HistorySpec | undefined): void {
    this.historyRows =
      spec &&
      new EventHistory({ ...spec, types: [...spec.types], users: [...spec.users] }, (t, id) => {
        const p = this.get(t, id)?.values.project as { type: string; id: number } | undefined;
        return p && { type: p.type, id: p.id };
      });
  }

  get history(): EventHistory | undefined {
    return this.historyRows;
  }

  /**
   * The EventLogEntry rows with ids in (afterId, beforeId): every real one, and of the synthesized history at most
   * `historyLimit`, those nearest the low end (the newest with `newestFirst`). Without a history: the real rows.
   */
  eventRows(afterId: number, beforeId: number, historyLimit: number, newestFirst: boolean): readonly StoredEntity[] {
    const real = this.after('EventLogEntry', afterId).filter((e) => e.id < beforeId);
    if (!this.historyRows) return real;
    const old = this.historyRows.rows(afterId, beforeId, historyLimit, newestFirst);
    return old.length ? [...old, ...real] : real;
  }

  /** Every entity of a type (retired ones included), ascending id; for EventLogEntry the real rows only (not the history). Do not mutate. */
  all(type: string): readonly StoredEntity[] {
    return this.tables.get(type)?.list ?? [];
  }

  /** Entities of a type with id > `id`, ascending (a binary search, for event-log polls). */
  after(type: string, id: number): readonly StoredEntity[] {
    const list = this.all(type);
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid].id <= id) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? list : list.slice(lo);
  }

  /** How many rows a type has (EventLogEntry: the history's too). */
  count(type: string): number {
    return (this.tables.get(type)?.list.length ?? 0) + (type === 'EventLogEntry' ? (this.historyRows?.size ?? 0) : 0);
  }

  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const t of this.tables.keys()) out[t] = this.count(t);
    return out;
  }

  /** Starts a type's id sequence at `next` unless it is already past it. */
  setNextId(type: string, next: number): void {
    const tab = this.table(type);
    tab.nextId = Math.max(tab.nextId, next);
  }

  setNextEventId(next: number): void {
    this.nextEventIdValue = Math.max(this.nextEventIdValue, next);
  }

  /** Allocates an entity id. Like a database sequence it is never given back, even when a transaction rolls back. */
  allocateId(type: string): number {
    return this.table(type).nextId++;
  }

  /** Allocates an EventLogEntry id (never given back). */
  allocateEventId(): number {
    return this.nextEventIdValue++;
  }

  peekNextEventId(): number {
    return this.nextEventIdValue;
  }

  insert(rec: StoredEntity): void {
    const tab = this.table(rec.type);
    if (tab.byId.has(rec.id)) throw new Error(`duplicate ${rec.type} id ${rec.id}`);
    tab.byId.set(rec.id, rec);
    const list = tab.list;
    if (list.length === 0 || list[list.length - 1].id < rec.id) list.push(rec);
    else list.splice(this.indexFor(list, rec.id), 0, rec);
    if (rec.type !== 'EventLogEntry' && rec.id >= tab.nextId) tab.nextId = rec.id + 1;
    this.record(() => {
      tab.byId.delete(rec.id);
      const i = list.indexOf(rec);
      if (i >= 0) list.splice(i, 1);
    });
  }

  /** Sets (or, with undefined, unsets) one field. Values are replaced, never mutated in place. */
  setField(rec: StoredEntity, field: string, value: unknown): void {
    const had = Object.hasOwn(rec.values, field);
    const old = rec.values[field];
    if (value === undefined) delete rec.values[field];
    else rec.values[field] = value;
    this.record(() => {
      if (had) rec.values[field] = old;
      else delete rec.values[field];
    });
  }

  setRetired(rec: StoredEntity, retired: boolean, at?: string): void {
    const old = { retired: rec.retired, retiredAt: rec.retiredAt };
    rec.retired = retired;
    if (retired) rec.retiredAt = at;
    else delete rec.retiredAt;
    this.record(() => {
      rec.retired = old.retired;
      if (old.retiredAt === undefined) delete rec.retiredAt;
      else rec.retiredAt = old.retiredAt;
    });
  }

  /**
   * Runs `fn` as one transaction: if it throws, every insert and field change it made is undone (id counters
   * are not, as with a real database sequence). Nested calls join the outer transaction.
   */
  transaction<T>(fn: () => T): T {
    if (this.journal) return fn();
    this.journal = [];
    let ok = false;
    try {
      const r = fn();
      ok = true;
      return r;
    } finally {
      const j = this.journal;
      this.journal = undefined;
      if (!ok) for (let i = j.length - 1; i >= 0; i--) j[i]();
      else if (j.length > 0) this.onChange();
    }
  }

  /** Removes every row of `type` with an id below `id` for good (the event log's retention: local/sim/chaos.ts); returns how many. */
  dropBelow(type: string, id: number): number {
    const tab = this.table(type);
    const gone = tab.list.filter((e) => e.id < id);
    for (const e of gone) tab.byId.delete(e.id);
    tab.list.splice(0, gone.length);
    const synthesized = type === 'EventLogEntry' ? (this.historyRows?.trimBelow(id) ?? 0) : 0;
    if (gone.length + synthesized) this.onChange();
    return gone.length + synthesized;
  }

  /** Marks the store changed outside a transaction (e.g. event rows becoming visible). */
  touch(): void {
    this.onChange();
  }

  toSnapshot(): StoreSnapshot {
    const nextIds: Record<string, number> = {};
    const entities: StoreSnapshot['entities'] = {};
    for (const [t, tab] of this.tables) {
      nextIds[t] = tab.nextId;
      entities[t] = tab.list.map((e) => (e.retiredAt === undefined ? [e.id, e.retired ? 1 : 0, e.values] : [e.id, e.retired ? 1 : 0, e.values, e.retiredAt]));
    }
    const history = this.historyRows?.spec;
    return history ? { nextIds, nextEventId: this.nextEventIdValue, entities, history } : { nextIds, nextEventId: this.nextEventIdValue, entities };
  }

  /** Replaces the contents with a snapshot's (types the schema no longer has are dropped). */
  loadSnapshot(s: StoreSnapshot): void {
    for (const tab of this.tables.values()) {
      tab.byId.clear();
      tab.list.length = 0;
      tab.nextId = 1;
    }
    this.setHistory(s.history);
    for (const [t, rows] of Object.entries(s.entities)) {
      const tab = this.tables.get(t);
      if (!tab) continue;
      for (const [id, retired, values, retiredAt] of rows) {
        const rec: StoredEntity = { type: t, id, retired: retired === 1, values };
        if (retiredAt !== undefined) rec.retiredAt = retiredAt;
        tab.byId.set(id, rec);
        tab.list.push(rec);
      }
      tab.list.sort((a, b) => a.id - b.id);
      tab.nextId = Math.max(s.nextIds[t] ?? 1, (tab.list.at(-1)?.id ?? 0) + 1);
    }
    this.nextEventIdValue = Math.max(s.nextEventId, (this.all('EventLogEntry').at(-1)?.id ?? 0) + 1);
  }

  private table(type: string): TypeTable {
    const tab = this.tables.get(type);
    if (!tab) throw new Error(`unknown entity type ${type}`);
    return tab;
  }

  private indexFor(list: StoredEntity[], id: number): number {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid].id < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private record(undo: () => void): void {
    if (this.journal) this.journal.push(undo);
  }
}
