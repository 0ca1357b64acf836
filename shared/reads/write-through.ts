// Write-through: once the site accepted a caller's create/update/delete/revive/batch, the written entities go into the cache at once (read-your-writes).
//
// The write itself always goes to the site with the caller's own credentials; this module only runs after the site
// answered with a result. It then (as the cache's own script) reads back every cached field of each written entity,
// retired included, and stores it; deletes and revives flip the stored retired flag (fetching the entity only when
// the cache does not hold it); a Shot created with a task_template also gets its new Tasks fetched and stored. Link
// names and retired flags elsewhere follow through propagateLinkFacts, as for events. The other side of a connection
// changes too (a new Task appears in its Shot's `tasks`, a Shot leaves its old Sequence's `shots`): every cached entity
// the written ones link to (now or before the write) whose type has a multi-entity field that can hold the written
// type is read back as well, up to MAX_RELATED per write (beyond that the event pipeline brings them).
//
// The version (docs/design.md §5 "Versioned writes") — it must never beat a newer event-driven state:
//   base = the event-log cursor's watermark: maxSeen, or just below the oldest id still missing (uncommitted) below it;
//   V    = base + 0.5 + n * 2^-20, n = a per-base counter in the state table (1, 2, ...).
// Every event at or below `base` had committed before the cursor was read, which is before the read-back, so the
// read-back already reflects it: rejecting it later as stale loses nothing. Every event committed later has an id
// above `base` (ids below it that had not committed are in the backlog, hence above the watermark), so it is > V and
// applies over the written-through state, in order, exactly as it would over an imported one. The counter orders
// several write-throughs between two cursor moves (a later one must not be stale against an earlier one); it stays
// below base + 1 for 2^19 writes per cursor position, and the sum is exact in a double while base < 2^32. With no
// cursor yet (the import has not started: nothing is served from the cache) the write-through is skipped.
import { UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CachedSchema } from '../schema/index.js';
import { propagateStoredFacts, type EntityStore, type WriteResult } from '../store/index.js';
import { backlogIds, type CursorState, PollerLease } from '../sync/index.js';
import type { EntityRecord } from '../semantics/index.js';

export const WRITE_METHODS: ReadonlySet<string> = new Set(['create', 'update', 'delete', 'revive', 'batch']);

/** At most this many other-side entities are read back per write. */
export const MAX_RELATED = 100;

/** Fraction step of write-through versions (see the header): 2^-20. */
export const VERSION_STEP = 2 ** -20;
const MAX_COUNTER = 2 ** 19 - 1;
/** How long a per-base counter item lives (the cursor moves on long before). */
const COUNTER_TTL_SECONDS = 24 * 3600;

/** Reads entities from the site as the cache's own script. */
export interface SiteReader {
  read(params: Record<string, unknown>): Promise<Array<Record<string, unknown>>>;
}

/** The version a write-through stamps: undefined when there is no event-log cursor yet. */
export interface WriteVersionSource {
  next(): Promise<number | undefined>;
}

/** The highest event id below which everything has committed and been seen: maxSeen, or just below the oldest missing id. */
export function cursorWatermark(c: CursorState): number {
  const missing = backlogIds(c);
  return missing.length ? Math.min(c.maxSeen, missing[0] - 1) : c.maxSeen;
}

export function writeVersion(base: number, n: number): number {
  return base + 0.5 + Math.min(Math.max(n, 1), MAX_COUNTER) * VERSION_STEP;
}

/** Versions from the poller's cursor (state table, pk "poller") and a per-base counter (pk "writethrough"). */
export class CursorWriteVersions implements WriteVersionSource {
  private readonly lease: PollerLease;

  constructor(
    private readonly ddb: DynamoDBClient,
    doc: DynamoDBDocumentClient,
    private readonly stateTable: string,
    private readonly now: () => number = Date.now,
  ) {
    this.lease = new PollerLease(doc, stateTable, 0);
  }

  async next(): Promise<number | undefined> {
    const { cursor } = await this.lease.read();
    if (!cursor) return undefined;
    const base = cursorWatermark(cursor);
    const r = await this.ddb.send(
      new UpdateItemCommand({
        TableName: this.stateTable,
        Key: { pk: { S: 'writethrough' }, sk: { S: `base#${base}` } },
        UpdateExpression: 'ADD n :one SET #ttl = :ttl',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':one': { N: '1' }, ':ttl': { N: String(Math.ceil(this.now() / 1000) + COUNTER_TTL_SECONDS) } },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return writeVersion(base, Number(r.Attributes?.n?.N ?? 1));
  }
}

export interface WriteThroughOutcome {
  /** Entities stored (whole states and retired flips that applied). */
  written: number;
  /** Writes the store refused as older than what it holds (a newer event already applied). */
  stale: number;
  /** Entities of uncached types, or gone from the site by the time of the read-back. */
  skipped: number;
  /** Entities elsewhere whose stored link facts (names, retired flags) were updated. */
  propagated: number;
  /** Other-side entities of connections read back (included in written/stale). */
  related: number;
  version?: number;
}

interface Ref {
  type: string;
  id: number;
}
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const key = (r: Ref) => `${r.type}#${r.id}`;

/** What one write (or batch item) did, from its params and the site's result. */
interface Effect {
  touched: Ref[];
  retired: Array<Ref & { retired: boolean }>;
  taskTemplateShots: Ref[];
}

function fieldValue(params: Record<string, unknown>, name: string): unknown {
  const fields = Array.isArray(params.fields) ? params.fields : [];
  const f = fields.find((x) => isObj(x) && x.field_name === name) as { value?: unknown } | undefined;
  return f?.value;
}

function effectOf(requestType: string, params: unknown, result: unknown, into: Effect): void {
  if (!isObj(params) || typeof params.type !== 'string') return;
  const type = params.type;
  if (requestType === 'create') {
    const r = Array.isArray(result) ? result[0] : result;
    if (!isObj(r) || !Number.isInteger(r.id)) return;
    const ref = { type, id: r.id as number };
    into.touched.push(ref);
    if (type === 'Shot' && fieldValue(params, 'task_template') != null) into.taskTemplateShots.push(ref);
  } else if (requestType === 'update') {
    if (Number.isInteger(params.id)) into.touched.push({ type, id: params.id as number });
  } else if (requestType === 'delete' || requestType === 'revive') {
    // true or false (already retired / not retired): either way the entity is now in that state.
    if (Number.isInteger(params.id) && typeof result === 'boolean') into.retired.push({ type, id: params.id as number, retired: requestType === 'delete' });
  }
}

export interface WriteThroughDeps {
  schema: CachedSchema;
  store: EntityStore;
  site: SiteReader;
  log?: (message: string, details?: Record<string, unknown>) => void;
}

export class WriteThrough {
  constructor(private readonly d: WriteThroughDeps) {}

  /**
   * Stores what a successful write did. `params` is the write's params[1], `result` the site's `results`, `version`
   * from WriteVersionSource.next() (taken before the read-back; undefined: nothing is written). Throws on store or site
   * errors: the caller logs them and still answers the client (the sync pipeline repairs the cache).
   */
  async apply(method: string, params: unknown, result: unknown, version: number | undefined): Promise<WriteThroughOutcome> {
    const out: WriteThroughOutcome = { written: 0, stale: 0, skipped: 0, propagated: 0, related: 0, version };
    const effect: Effect = { touched: [], retired: [], taskTemplateShots: [] };
    if (method === 'batch') {
      if (!Array.isArray(params) || !Array.isArray(result)) return out;
      params.forEach((item, i) => {
        if (isObj(item) && typeof item.request_type === 'string') effectOf(item.request_type, item, result[i], effect);
      });
    } else {
      effectOf(method, params, result, effect);
    }
    if (version === undefined) {
      out.skipped = effect.touched.length + effect.retired.length;
      return out;
    }
    const cached = (r: Ref) => this.d.schema.site.hasType(r.type);
    /** Entities whose name or retired flag the write changed: their link facts are pushed afterwards. */
    const propagate: Ref[] = [];
    const count = (r: WriteResult, target: Ref) => {
      if (r.status === 'applied') out.written++;
      else if (r.status === 'stale') out.stale++;
      if (r.status === 'applied' && r.propagate) propagate.push(target);
    };

    // Retire / revive: flip the stored flag; an entity the cache does not hold is read back whole instead.
    const fetch = new Map<string, Ref>();
    const flips = new Map<string, Ref & { retired: boolean }>();
    for (const r of effect.retired) flips.set(key(r), r);
    for (const r of effect.touched) flips.delete(key(r));
    for (const r of flips.values()) {
      if (!cached(r)) {
        out.skipped++;
        continue;
      }
      const res = await this.d.store.setRetired(r.type, r.id, r.retired, version);
      if (res.status === 'missing') fetch.set(key(r), r);
      else count(res, r);
    }
    for (const r of effect.touched) {
      if (cached(r)) fetch.set(key(r), r);
      else out.skipped++;
    }

    const touched = [...fetch.values()];
    const [records, before] = await Promise.all([this.readBack(touched), this.stored(touched)]);
    for (const r of fetch.values()) if (!records.has(key(r))) out.skipped++;
    if (effect.taskTemplateShots.length && this.d.schema.site.hasType('Task')) {
      for (const shot of effect.taskTemplateShots) {
        for (const t of await this.tasksOf(shot)) records.set(key(t), t);
      }
    }
    const related = this.relatedTargets([...records.values(), ...before], records);
    if (related.length) {
      for (const rec of (await this.readBack(related)).values()) {
        records.set(key(rec), rec);
        out.related++;
      }
    }
    for (const rec of records.values()) count(await this.d.store.putEntity(rec, version), rec);
    // The stored facts, confirmed by a read after each push (shared/store/link-facts.ts): the consumer may apply a newer
    // change of the target meanwhile, and this push must not land after its.
    for (const target of propagate) out.propagated += await propagateStoredFacts(this.d.store, this.d.schema, target);
    return out;
  }

  /** The stored states of entities about to be replaced (their old link targets may lose a back-reference). */
  private async stored(refs: Ref[]): Promise<EntityRecord[]> {
    const byType = new Map<string, number[]>();
    for (const r of refs) byType.set(r.type, [...(byType.get(r.type) ?? []), r.id]);
    const out: EntityRecord[] = [];
    for (const [type, ids] of byType) for (const e of (await this.d.store.getMany(type, ids)).entities) out.push(e.record);
    return out;
  }

  /** Whether `type` has a multi-entity field that can hold links to `from` (the other side of a connection). */
  private holdsBackReference(type: string, from: string): boolean {
    const t = this.d.schema.site.type(type);
    return !!t && Object.values(t.fields).some((f) => f.data_type === 'multi_entity' && (f.valid_types ?? []).includes(from));
  }

  /** Cached link targets of `records` that may show them in a multi-entity field, not already read back. */
  private relatedTargets(records: EntityRecord[], have: Map<string, EntityRecord>): Ref[] {
    const out = new Map<string, Ref>();
    for (const rec of records) {
      for (const [field, v] of Object.entries(rec.values)) {
        const dt = this.d.schema.site.dataType(rec.type, field);
        if (dt !== 'entity' && dt !== 'multi_entity') continue;
        for (const l of Array.isArray(v) ? v : v ? [v] : []) {
          if (!isObj(l) || typeof l.type !== 'string' || !Number.isInteger(l.id)) continue;
          const ref = { type: l.type, id: l.id as number };
          if (have.has(key(ref)) || !this.holdsBackReference(ref.type, rec.type)) continue;
          out.set(key(ref), ref);
        }
      }
    }
    if (out.size > MAX_RELATED) {
      this.d.log?.('too many other-side entities to read back; the event pipeline updates them', { count: out.size });
      return [];
    }
    return [...out.values()];
  }

  private fields(type: string): string[] {
    return Object.keys(this.d.schema.site.type(type)?.fields ?? {}).filter((f) => f !== 'id');
  }

  private toRecord(type: string, e: Record<string, unknown>, retired: boolean): EntityRecord {
    const { type: _t, id, ...values } = e;
    return { type, id: id as number, retired, values };
  }

  /** Every cached field of each entity, active first, then the retired ones among those not found. */
  private async readBack(refs: Ref[]): Promise<Map<string, EntityRecord>> {
    const out = new Map<string, EntityRecord>();
    const byType = new Map<string, number[]>();
    for (const r of refs) byType.set(r.type, [...(byType.get(r.type) ?? []), r.id]);
    for (const [type, ids] of byType) {
      for (let i = 0; i < ids.length; i += 500) {
        let missing = ids.slice(i, i + 500);
        for (const returnOnly of ['active', 'retired'] as const) {
          if (!missing.length) break;
          const rows = await this.d.site.read({
            type,
            return_fields: this.fields(type),
            filters: { logical_operator: 'and', conditions: [{ path: 'id', relation: 'in', values: missing }] },
            return_only: returnOnly,
            paging: { entities_per_page: 500, current_page: 1 },
          });
          for (const row of rows) out.set(`${type}#${row.id}`, this.toRecord(type, row, returnOnly === 'retired'));
          missing = missing.filter((id) => !out.has(`${type}#${id}`));
        }
      }
    }
    return out;
  }

  /** The Tasks a task template gave a new Shot (sgcache found tools ask for them right after the create). */
  private async tasksOf(shot: Ref): Promise<EntityRecord[]> {
    const rows = await this.d.site.read({
      type: 'Task',
      return_fields: this.fields('Task'),
      filters: { logical_operator: 'and', conditions: [{ path: 'entity', relation: 'is', values: [shot] }] },
      return_only: 'active',
      paging: { entities_per_page: 500, current_page: 1 },
    });
    return rows.map((row) => this.toRecord('Task', row, false));
  }
}
