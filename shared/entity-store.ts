// Persisting and reading cached entities in DynamoDB: the item codec, versioned writes, link edges, spill chunks, and one query primitive per index.
//
// Layout (docs/design.md "Items"): one entity item per entity (pk "<Type>#<id>", sk "E"), one edge item per link value
// (sk "L#<field>#<TargetType>#<targetId>", in the byRef GSI), and spill chunks for fields too large to keep inline
// (sk "X#<field>#<gen>#<n>"). Every write is read-merge-write under an optimistic lock on the write counter `w`;
// versions (event ids or fetch stamps) decide per field whether a change is newer than what is stored.
import { randomUUID } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  BatchGetItemCommand, BatchWriteItemCommand, ConditionalCheckFailedException, DeleteItemCommand, GetItemCommand,
  PutItemCommand, QueryCommand, type AttributeValue, type ConsumedCapacity, type GetItemCommandOutput, type DynamoDBClient, type QueryCommandInput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import type { CachedSchema } from './cached-schema.js';
import type { EntityRecord } from './records.js';
import type { TableNames } from './table-design.js';

type Item = Record<string, AttributeValue>;

/** Entity item sort key. */
export const ENTITY_SK = 'E';
/** Ids in sort keys are zero-padded to this width so that string order is id order (Shotgun ids are int32). */
export const ID_WIDTH = 10;
/** Entity items are kept under this many bytes (DynamoDB's limit is 400 KB); larger fields spill into chunk items. */
export const INLINE_LIMIT = 300_000;
/** Bytes of compressed field data per chunk item. */
export const CHUNK_BYTES = 350_000;
/** The fv key that versions the entity's retired state. */
const RETIRED_KEY = '@retired';

export const padId = (id: number): string => String(id).padStart(ID_WIDTH, '0');
export const entityPk = (type: string, id: number): string => `${type}#${id}`;
export const edgeSk = (field: string, target: LinkValue): string => `L#${field}#${target.type}#${target.id}`;
const chunkPrefix = (field: string, gen: string): string => `X#${field}#${gen}#`;

/** A link as stored: the site's {type, id, name}, plus `retired` when the target is known to be retired. */
export interface LinkValue { type: string; id: number; name: unknown; retired?: boolean }

/** What the store keeps per entity. Link fields hold LinkValue (entity) or LinkValue[] (multi_entity). */
export interface EntityState {
  type: string;
  id: number;
  retired: boolean;
  values: Record<string, unknown>;
  /** Highest version applied to the entity. */
  v: number;
  /** Version of the last whole-entity write (putEntity). */
  b: number;
  /** Versions of fields (and RETIRED_KEY) changed after `b`. */
  fv: Record<string, number>;
  /** Write counter: the optimistic lock. */
  w: number;
}

/** Denormalized facts about one link target, as one entity stores them. */
export interface LinkInfo { type: string; id: number; name: unknown; retired: boolean }

/** An entity read back: the record in the semantics model's form (links {type, id}) and its links' stored names. */
export interface StoredEntity {
  record: EntityRecord;
  version: number;
  links: LinkInfo[];
}

/** What a read cost, for tests and benchmarks. `items` counts every item DynamoDB read (entity, chunk, edge). */
export interface ReadStats { items: number; rcu: number; calls: number }
export const emptyStats = (): ReadStats => ({ items: 0, rcu: 0, calls: 0 });
export function addStats(a: ReadStats, b: ReadStats): ReadStats {
  a.items += b.items; a.rcu += b.rcu; a.calls += b.calls;
  return a;
}

export type WriteStatus = 'applied' | 'stale' | 'missing' | 'unchanged';

export interface PutOptions {
  /**
   * A re-read that reflects no newer event than `version` but may reflect writes that logged no event (scripts with
   * events off): it replaces a whole-entity state of the same version too (only a newer one makes it stale).
   */
  refresh?: boolean;
}
export interface WriteResult {
  status: WriteStatus;
  /** Set when an applied write changed the entity's identifier value or retired state: links to it elsewhere need updating. */
  propagate?: { name?: unknown; retired?: boolean };
}

// ---------------------------------------------------------------------------------------------------------------
// Value codec

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Non-link values: scalars natively, arrays as lists, objects as JSON text under {j} (DynamoDB maps do not keep key order). */
export function encodeValue(v: unknown): AttributeValue {
  if (v === null || v === undefined) return { NULL: true };
  if (typeof v === 'string') return { S: v };
  if (typeof v === 'boolean') return { BOOL: v };
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`cannot store the number ${v}`);
    return { N: String(v) };
  }
  if (Array.isArray(v)) return { L: v.map(encodeValue) };
  return { M: { j: { S: JSON.stringify(v) } } };
}

export function decodeValue(av: AttributeValue): unknown {
  if (av.NULL) return null;
  if (av.S !== undefined) return av.S;
  if (av.N !== undefined) return Number(av.N);
  if (av.BOOL !== undefined) return av.BOOL;
  if (av.L) return av.L.map(decodeValue);
  if (av.M?.j?.S !== undefined) return JSON.parse(av.M.j.S);
  throw new Error(`unexpected stored attribute ${JSON.stringify(av).slice(0, 80)}`);
}

function encodeLink(l: LinkValue): AttributeValue {
  const m: Item = { t: { S: l.type }, i: { N: String(l.id) }, n: encodeValue(l.name) };
  if (l.retired) m.r = { BOOL: true };
  return { M: m };
}

function decodeLink(av: AttributeValue): LinkValue {
  const m = av.M!;
  const l: LinkValue = { type: m.t.S!, id: Number(m.i.N), name: decodeValue(m.n) };
  if (m.r?.BOOL) l.retired = true;
  return l;
}

const isLinkType = (dt: string | undefined): dt is 'entity' | 'multi_entity' => dt === 'entity' || dt === 'multi_entity';

function encodeField(dataType: string | undefined, v: unknown): AttributeValue {
  if (dataType === 'entity') return v === null ? { NULL: true } : encodeLink(v as LinkValue);
  if (dataType === 'multi_entity') return { L: (v as LinkValue[]).map(encodeLink) };
  return encodeValue(v);
}

function decodeField(dataType: string | undefined, av: AttributeValue): unknown {
  if (dataType === 'entity') return av.NULL ? null : decodeLink(av);
  if (dataType === 'multi_entity') return (av.L ?? []).map(decodeLink);
  return decodeValue(av);
}

/** Approximate stored size of an attribute value, erring high (DynamoDB item size rules). */
export function attributeSize(av: AttributeValue): number {
  if (av.S !== undefined) return Buffer.byteLength(av.S, 'utf8');
  if (av.N !== undefined) return 21;
  if (av.B !== undefined) return av.B.length;
  if (av.NULL !== undefined || av.BOOL !== undefined) return 1;
  if (av.L) return 3 + av.L.reduce((n, x) => n + 1 + attributeSize(x), 0);
  if (av.M) return 3 + Object.entries(av.M).reduce((n, [k, x]) => n + 1 + Buffer.byteLength(k, 'utf8') + attributeSize(x), 0);
  return 64;
}

export function itemSize(item: Item): number {
  return Object.entries(item).reduce((n, [k, v]) => n + Buffer.byteLength(k, 'utf8') + attributeSize(v), 0);
}

/** A link-ish input value -> LinkValue, keeping the stored name/retired flag when the input has no name. */
function toLink(v: unknown, prev: Map<string, LinkValue>): LinkValue | null {
  if (!isObj(v) || typeof v.type !== 'string' || typeof v.id !== 'number') return null;
  const before = prev.get(`${v.type}#${v.id}`);
  const l: LinkValue = { type: v.type, id: v.id, name: 'name' in v ? (v.name ?? null) : (before?.name ?? null) };
  if (before?.retired) l.retired = true;
  return l;
}

function linksOf(v: unknown): LinkValue[] {
  if (Array.isArray(v)) return v as LinkValue[];
  return v === null || v === undefined ? [] : [v as LinkValue];
}

// ---------------------------------------------------------------------------------------------------------------
// Entity <-> items

export interface EncodedEntity {
  item: Item;
  chunks: Item[];
  /** Edge items, keyed by sort key. */
  edges: Map<string, Item>;
}

/**
 * Encodes an entity as its entity item, spill chunks (generation `gen`) and edge items. Fields not in the cached
 * schema are not stored.
 */
export function encodeEntity(schema: CachedSchema, s: EntityState, gen: string): EncodedEntity {
  const pk = entityPk(s.type, s.id);
  const item: Item = {
    pk: { S: pk }, sk: { S: ENTITY_SK }, t: { S: s.type }, id: { N: String(s.id) },
    r: { BOOL: s.retired }, v: { N: String(s.v) }, b: { N: String(s.b) }, w: { N: String(s.w) },
    fv: { M: Object.fromEntries(Object.entries(s.fv).map(([k, n]) => [k, { N: String(n) }])) },
  };
  const project = s.values.project;
  if (isObj(project) && project.type === 'Project' && typeof project.id === 'number') item.tp = { S: `${s.type}#${project.id}` };
  const updatedAt = s.values.updated_at;
  if (typeof updatedAt === 'string') item.u = { S: `${updatedAt}#${padId(s.id)}` };
  for (const [field, slot] of schema.linkSlots(s.type)) {
    const l = s.values[field];
    if (isObj(l) && typeof l.type === 'string') item[`l${slot}`] = { S: `${s.type}.${field}#${l.type}#${l.id}` };
  }
  const fields: Array<[string, AttributeValue, number]> = [];
  for (const [name, v] of Object.entries(s.values)) {
    const def = schema.site.field(s.type, name);
    if (!def || name === 'id') continue;
    const av = encodeField(def.data_type, v);
    fields.push([name, av, Buffer.byteLength(name, 'utf8') + 1 + attributeSize(av)]);
  }
  let size = itemSize(item) + 200 + fields.reduce((n, f) => n + f[2], 0);
  const spill = new Set<string>();
  for (const [name, , sz] of [...fields].sort((a, b) => b[2] - a[2])) {
    if (size <= INLINE_LIMIT) break;
    spill.add(name);
    size -= sz;
  }
  const f: Item = {};
  const x: Item = {};
  const chunks: Item[] = [];
  for (const [name, av] of fields) {
    if (!spill.has(name)) { f[name] = av; continue; }
    const data = gzipSync(Buffer.from(JSON.stringify(s.values[name]), 'utf8'));
    const n = Math.max(1, Math.ceil(data.length / CHUNK_BYTES));
    for (let i = 0; i < n; i++) {
      chunks.push({ pk: { S: pk }, sk: { S: `${chunkPrefix(name, gen)}${String(i).padStart(4, '0')}` }, d: { B: data.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES) } });
    }
    x[name] = { M: { g: { S: gen }, n: { N: String(n) } } };
  }
  item.f = { M: f };
  if (Object.keys(x).length) item.x = { M: x };
  const edges = new Map<string, Item>();
  for (const [name, v] of Object.entries(s.values)) {
    if (!isLinkType(schema.site.dataType(s.type, name))) continue;
    for (const l of linksOf(v)) {
      const sk = edgeSk(name, l);
      edges.set(sk, {
        pk: { S: pk }, sk: { S: sk }, ref: { S: `${l.type}#${l.id}` }, src: { S: `${s.type}.${name}#${padId(s.id)}` }, ev: { N: String(s.w) },
      });
    }
  }
  return { item, chunks, edges };
}

/** Spilled fields of an entity item: field -> generation and chunk count. */
export function spilledFields(item: Item): Map<string, { gen: string; n: number }> {
  const out = new Map<string, { gen: string; n: number }>();
  for (const [name, av] of Object.entries(item.x?.M ?? {})) out.set(name, { gen: av.M!.g.S!, n: Number(av.M!.n.N) });
  return out;
}

/** Decodes an entity item; `spilled` supplies the values of spilled fields (already reassembled). */
export function decodeEntity(schema: CachedSchema, item: Item, spilled: Map<string, unknown> = new Map()): EntityState {
  const type = item.t.S!;
  const values: Record<string, unknown> = {};
  for (const [name, av] of Object.entries(item.f?.M ?? {})) values[name] = decodeField(schema.site.dataType(type, name), av);
  for (const [name] of spilledFields(item)) {
    if (!spilled.has(name)) throw new Error(`${item.pk.S}: spilled field ${name} was not loaded`);
    values[name] = spilled.get(name);
  }
  return {
    type, id: Number(item.id.N), retired: item.r?.BOOL ?? false, values,
    v: Number(item.v.N), b: Number(item.b.N), w: Number(item.w.N),
    fv: Object.fromEntries(Object.entries(item.fv?.M ?? {}).map(([k, n]) => [k, Number(n.N)])),
  };
}

/** The semantics model's view of a state: links {type, id} (no name), plus the links' denormalized facts. */
export function toStoredEntity(schema: CachedSchema, s: EntityState): StoredEntity {
  const values: Record<string, unknown> = {};
  const links: LinkInfo[] = [];
  for (const [name, v] of Object.entries(s.values)) {
    const dt = schema.site.dataType(s.type, name);
    if (!isLinkType(dt)) { values[name] = v; continue; }
    for (const l of linksOf(v)) links.push({ type: l.type, id: l.id, name: l.name, retired: l.retired === true });
    values[name] = dt === 'entity' ? (v === null ? null : { type: (v as LinkValue).type, id: (v as LinkValue).id })
      : (v as LinkValue[]).map((l) => ({ type: l.type, id: l.id }));
  }
  return { record: { type: s.type, id: s.id, retired: s.retired, values }, version: s.v, links };
}

// ---------------------------------------------------------------------------------------------------------------
// The store

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const backoff = (attempt: number) => sleep(Math.min(1000, 20 * 2 ** attempt) * (0.5 + Math.random() / 2));

async function pool<T>(items: readonly T[], limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]);
    }
  });
  await Promise.all(workers);
}

function capacity(c: ConsumedCapacity | ConsumedCapacity[] | undefined): number {
  if (!c) return 0;
  return (Array.isArray(c) ? c : [c]).reduce((n, x) => n + (x.CapacityUnits ?? 0), 0);
}

export interface QueryPage { items: Item[]; stats: ReadStats }

/** A link target for edge and slot queries. */
export interface Target { type: string; id: number }

/** A row of the byRef index: `type.field` of entity `id` links to the queried target. */
export interface RefRow { type: string; field: string; id: number }

export interface EntityStoreOptions {
  /** Max attempts of the read-merge-write loop under contention. */
  maxWriteAttempts?: number;
  /** Parallel requests for edge and chunk writes and per-entity propagation. */
  concurrency?: number;
  /** Limit per Query call (default: DynamoDB's 1 MB pages); tests set it to exercise pagination. */
  queryPageSize?: number;
}

export class EntityStore {
  private readonly maxWriteAttempts: number;
  private readonly concurrency: number;
  private readonly queryPageSize: number | undefined;

  constructor(readonly ddb: DynamoDBClient, readonly tables: TableNames, readonly schema: CachedSchema, opts: EntityStoreOptions = {}) {
    this.maxWriteAttempts = opts.maxWriteAttempts ?? 50;
    this.concurrency = opts.concurrency ?? 16;
    this.queryPageSize = opts.queryPageSize;
  }

  // ----- writes ---------------------------------------------------------------------------------------------

  /**
   * Whole-entity write (an import or a re-fetch) stamped `version` (the event id the fetched state reflects).
   * Stale when the stored whole-entity version is >= `version`; fields changed by newer field-level events
   * (fv > version) keep their stored value. Links without `name` keep the stored name.
   */
  putEntity(record: EntityRecord, version: number, opts: PutOptions = {}): Promise<WriteResult> {
    return this.mutate(record.type, record.id, (cur) => {
      if (cur && (opts.refresh ? cur.b > version : cur.b >= version)) return 'stale';
      const prevLinks = cur ? linkMap(this.schema, cur) : new Map<string, LinkValue>();
      const values: Record<string, unknown> = {};
      const fv: Record<string, number> = {};
      for (const [name, v] of Object.entries(record.values)) {
        if (name === 'id' || !this.schema.isCached(record.type, name)) continue;
        values[name] = this.normalize(record.type, name, v, prevLinks);
      }
      let retired = record.retired;
      if (cur) {
        for (const [k, n] of Object.entries(cur.fv)) {
          if (n <= version) continue;
          fv[k] = n;
          if (k === RETIRED_KEY) retired = cur.retired;
          else if (Object.hasOwn(cur.values, k)) values[k] = cur.values[k];
          else delete values[k];
        }
      }
      return { type: record.type, id: record.id, retired, values, v: Math.max(cur?.v ?? 0, version), b: version, fv, w: (cur?.w ?? 0) + 1 };
    });
  }

  /**
   * Bulk whole-entity writes for the import (docs/design.md W1), stamped `version`. Entities not stored yet are
   * created with their edges and spill chunks written by BatchWriteItem and the entity item put under
   * `attribute_not_exists(pk)`, so an entity a concurrent writer (the consumer) created meanwhile is never
   * overwritten: it, and every entity already stored, goes through putEntity's read-merge-write instead.
   */
  async importEntities(records: readonly EntityRecord[], version: number, opts: PutOptions = {}): Promise<{ created: number; merged: number; stale: number }> {
    const out = { created: 0, merged: 0, stale: 0 };
    const stored = await this.existing(records);
    const fresh: Array<{ record: EntityRecord; enc: EncodedEntity }> = [];
    const merge: EntityRecord[] = [];
    for (const record of records) {
      if (stored.has(entityPk(record.type, record.id))) { merge.push(record); continue; }
      const values: Record<string, unknown> = {};
      for (const [name, v] of Object.entries(record.values)) {
        if (name === 'id' || !this.schema.isCached(record.type, name)) continue;
        values[name] = this.normalize(record.type, name, v, new Map());
      }
      const state: EntityState = { type: record.type, id: record.id, retired: record.retired, values, v: version, b: version, fv: {}, w: 1 };
      fresh.push({ record, enc: encodeEntity(this.schema, state, `${padId(1)}-${randomUUID().slice(0, 8)}`) });
    }
    await this.writeItems(fresh.flatMap((f) => [...f.enc.chunks, ...f.enc.edges.values()]));
    await pool(fresh, this.concurrency, async ({ record, enc }) => {
      try {
        await this.ddb.send(new PutItemCommand({ TableName: this.tables.entities, Item: enc.item, ConditionExpression: 'attribute_not_exists(pk)' }));
        out.created++;
      } catch (e) {
        if (!(e instanceof ConditionalCheckFailedException)) throw e;
        if (enc.chunks.length) await this.deleteItems(enc.chunks.map((c) => ({ pk: c.pk, sk: c.sk })));
        merge.push(record);
      }
    });
    await pool(merge, this.concurrency, async (record) => {
      const r = await this.putEntity(record, version, opts);
      if (r.status === 'applied') out.merged++; else out.stale++;
    });
    return out;
  }

  /** Which of these entities have an entity item (BatchGetItem of the keys only). */
  private async existing(records: readonly { type: string; id: number }[]): Promise<Set<string>> {
    const found = new Set<string>();
    const keys = [...new Set(records.map((r) => entityPk(r.type, r.id)))];
    const batches: string[][] = [];
    for (let i = 0; i < keys.length; i += 100) batches.push(keys.slice(i, i + 100));
    await pool(batches, this.concurrency, async (batch) => {
      let pending: Item[] = batch.map((pk) => ({ pk: { S: pk }, sk: { S: ENTITY_SK } }));
      for (let attempt = 0; pending.length; attempt++) {
        if (attempt > 10) throw new Error(`BatchGetItem: ${pending.length} keys still unprocessed after ${attempt} attempts`);
        if (attempt) await backoff(attempt);
        const r = await this.ddb.send(new BatchGetItemCommand({
          RequestItems: { [this.tables.entities]: { Keys: pending, ProjectionExpression: 'pk', ConsistentRead: true } },
        }));
        for (const it of r.Responses?.[this.tables.entities] ?? []) found.add(it.pk.S!);
        pending = (r.UnprocessedKeys?.[this.tables.entities]?.Keys ?? []) as Item[];
      }
    });
    return found;
  }

  /**
   * Field-level change (an attribute_change event) with `version` = its event id. Applies each field only when
   * `version` is newer than both the whole-entity version and that field's version. Undefined value = unset.
   */
  applyChange(type: string, id: number, changes: Record<string, unknown>, version: number, opts: PutOptions = {}): Promise<WriteResult> {
    const newer = (stored: number) => (opts.refresh ? stored > version : stored >= version);
    return this.mutate(type, id, (cur) => {
      if (!cur) return 'missing';
      if (newer(cur.b)) return 'stale';
      const prevLinks = linkMap(this.schema, cur);
      const next = cloneState(cur);
      let changed = false;
      for (const [name, v] of Object.entries(changes)) {
        if (name === 'id' || !this.schema.isCached(type, name)) continue;
        if (newer(cur.fv[name] ?? 0)) continue;
        if (v === undefined) delete next.values[name];
        else next.values[name] = this.normalize(type, name, v, prevLinks);
        next.fv[name] = version;
        changed = true;
      }
      if (!changed) return 'stale';
      next.v = Math.max(cur.v, version);
      next.w = cur.w + 1;
      return next;
    });
  }

  /**
   * Multi-entity delta (a Change event's added/removed) with `version` = its event id; same rule as applyChange.
   * Added links go to the end, in order, unless present; removed ones are dropped.
   */
  applyLinkDelta(type: string, id: number, field: string, delta: { added?: unknown[]; removed?: unknown[] }, version: number): Promise<WriteResult> {
    return this.mutate(type, id, (cur) => {
      if (!cur) return 'missing';
      if (cur.b >= version || (cur.fv[field] ?? 0) >= version) return 'stale';
      if (this.schema.site.dataType(type, field) !== 'multi_entity') throw new Error(`${type}.${field} is not a cached multi_entity field`);
      const prevLinks = linkMap(this.schema, cur);
      const next = cloneState(cur);
      const list = [...((cur.values[field] as LinkValue[] | undefined) ?? [])];
      const key = (l: { type: string; id: number }) => `${l.type}#${l.id}`;
      const removed = new Set((delta.removed ?? []).map((l) => toLink(l, prevLinks)).filter((l): l is LinkValue => l !== null).map(key));
      const out = list.filter((l) => !removed.has(key(l)));
      for (const a of delta.added ?? []) {
        const l = toLink(a, prevLinks);
        if (l && !out.some((x) => key(x) === key(l))) out.push(l);
      }
      next.values[field] = out;
      next.fv[field] = version;
      next.v = Math.max(cur.v, version);
      next.w = cur.w + 1;
      return next;
    });
  }

  /** Retirement (retired = true) or revival, versioned like a field. */
  setRetired(type: string, id: number, retired: boolean, version: number): Promise<WriteResult> {
    return this.mutate(type, id, (cur) => {
      if (!cur) return 'missing';
      if (cur.b >= version || (cur.fv[RETIRED_KEY] ?? 0) >= version) return 'stale';
      const next = cloneState(cur);
      next.retired = retired;
      next.fv[RETIRED_KEY] = version;
      next.v = Math.max(cur.v, version);
      next.w = cur.w + 1;
      return next;
    });
  }

  /**
   * Updates the denormalized facts (name, retired flag) of every stored link to `target`, found through byRef.
   * Versions are untouched: these are derived facts, re-derived on every reconciliation pass (docs/design.md).
   */
  async propagateLinkFacts(target: Target, facts: { name?: unknown; retired?: boolean }): Promise<{ entities: number; stats: ReadStats }> {
    const { rows, stats } = await this.refs(target);
    const byEntity = new Map<string, { type: string; id: number; fields: Set<string> }>();
    for (const r of rows) {
      const k = entityPk(r.type, r.id);
      const e = byEntity.get(k) ?? { type: r.type, id: r.id, fields: new Set<string>() };
      e.fields.add(r.field);
      byEntity.set(k, e);
    }
    let entities = 0;
    await pool([...byEntity.values()], this.concurrency, async (e) => {
      const res = await this.mutate(e.type, e.id, (cur) => {
        if (!cur) return 'missing';
        const next = cloneState(cur);
        let changed = false;
        for (const field of e.fields) {
          const dt = this.schema.site.dataType(e.type, field);
          if (!isLinkType(dt)) continue;
          const patch = (l: LinkValue): LinkValue => {
            if (l.type !== target.type || l.id !== target.id) return l;
            const n: LinkValue = { ...l };
            if (facts.name !== undefined && n.name !== facts.name) { n.name = facts.name; changed = true; }
            if (facts.retired !== undefined && (n.retired === true) !== facts.retired) {
              if (facts.retired) n.retired = true; else delete n.retired;
              changed = true;
            }
            return n;
          };
          const v = next.values[field];
          if (dt === 'entity' && isObj(v)) next.values[field] = patch(v as unknown as LinkValue);
          else if (dt === 'multi_entity' && Array.isArray(v)) next.values[field] = (v as LinkValue[]).map(patch);
        }
        if (!changed) return 'unchanged';
        next.w = cur.w + 1;
        return next;
      });
      if (res.status === 'applied') entities++;
    });
    return { entities, stats };
  }

  private normalize(type: string, field: string, v: unknown, prevLinks: Map<string, LinkValue>): unknown {
    const dt = this.schema.site.dataType(type, field);
    if (dt === 'entity') return toLink(v, prevLinks);
    if (dt === 'multi_entity') {
      const out: LinkValue[] = [];
      const seen = new Set<string>();
      for (const x of Array.isArray(v) ? v : []) {
        const l = toLink(x, prevLinks);
        if (l && !seen.has(`${l.type}#${l.id}`)) { seen.add(`${l.type}#${l.id}`); out.push(l); }
      }
      return out;
    }
    return v === undefined ? null : v;
  }

  /**
   * The read-merge-write loop: reads the entity (consistently), lets `fn` compute the next state (or say why there
   * is nothing to write), then writes new chunks and added edges, the entity item under the lock
   * (`w` unchanged), and finally removes dropped edges and old chunks. Retries on a lost race.
   */
  private async mutate(type: string, id: number, fn: (cur: EntityState | undefined) => EntityState | Exclude<WriteStatus, 'applied'>): Promise<WriteResult> {
    const pk = { S: entityPk(type, id) };
    /** Edges this call put in attempts that lost the race: removed again unless some state still needs them. */
    let leftovers = new Set<string>();
    for (let attempt = 0; attempt < this.maxWriteAttempts; attempt++) {
      const cur = await this.readState(type, id);
      const next = fn(cur?.state);
      const oldEdges = cur ? edgeKeys(this.schema, cur.state) : new Set<string>();
      const enc = typeof next === 'string' ? undefined : encodeEntity(this.schema, next, `${padId(next.w)}-${randomUUID().slice(0, 8)}`);
      if (cur && leftovers.size) {
        const orphans = [...leftovers].filter((sk) => !oldEdges.has(sk) && !enc?.edges.has(sk));
        await this.deleteEdges(pk, orphans, cur.state.w);
        leftovers = new Set([...leftovers].filter((sk) => !orphans.includes(sk)));
      }
      if (typeof next === 'string') return { status: next };
      const added = [...enc!.edges.entries()].filter(([sk]) => !oldEdges.has(sk)).map(([, it]) => it);
      const removed = [...oldEdges].filter((sk) => !enc!.edges.has(sk));
      await this.writeItems(enc!.chunks);
      await this.putEdges(added, next.w, cur === undefined);
      try {
        await this.ddb.send(new PutItemCommand({
          TableName: this.tables.entities,
          Item: enc!.item,
          ConditionExpression: cur ? 'w = :w' : 'attribute_not_exists(pk)',
          ExpressionAttributeValues: cur ? { ':w': { N: String(cur.state.w) } } : undefined,
        }));
      } catch (e) {
        if (!(e instanceof ConditionalCheckFailedException)) throw e;
        await this.deleteItems(enc!.chunks.map((c) => ({ pk: c.pk, sk: c.sk })));
        for (const it of added) leftovers.add(it.sk.S!);
        await backoff(Math.min(attempt, 6));
        continue;
      }
      await this.deleteEdges(pk, removed, next.w);
      if (cur) await this.deleteItems(cur.chunkKeys);
      return { status: 'applied', propagate: this.factsChanged(cur?.state, next) };
    }
    throw new Error(`${type} ${id}: gave up after ${this.maxWriteAttempts} write attempts under contention`);
  }

  /**
   * Deletes edge items no longer backed by the state written at counter `w`. An edge put since by a writer that read
   * a later state carries a higher ev and stays.
   */
  private async deleteEdges(pk: AttributeValue, sks: string[], w: number): Promise<void> {
    await pool(sks, this.concurrency, async (sk) => {
      try {
        await this.ddb.send(new DeleteItemCommand({
          TableName: this.tables.entities, Key: { pk, sk: { S: sk } },
          ConditionExpression: 'ev <= :w', ExpressionAttributeValues: { ':w': { N: String(w) } },
        }));
      } catch (e) {
        if (!(e instanceof ConditionalCheckFailedException)) throw e;
      }
    });
  }

  private factsChanged(cur: EntityState | undefined, next: EntityState): WriteResult['propagate'] {
    if (!cur) return undefined;
    const out: { name?: unknown; retired?: boolean } = {};
    const idf = this.schema.site.identifier(next.type);
    if (idf && idf !== 'id' && (cur.values[idf] ?? null) !== (next.values[idf] ?? null)) out.name = next.values[idf] ?? null;
    if (cur.retired !== next.retired) out.retired = next.retired;
    return Object.keys(out).length ? out : undefined;
  }

  /**
   * Edge puts: one by one under `ev < :ev` (a stale writer never lowers an edge's ev), or in batches of 25 when the
   * entity is new or many are added at once (imports); see docs/design.md "Edges" for the window the batch path leaves.
   */
  private async putEdges(edges: Item[], w: number, bulk = false): Promise<void> {
    if (bulk || edges.length > 25) return this.writeItems(edges);
    await pool(edges, this.concurrency, async (it) => {
      try {
        await this.ddb.send(new PutItemCommand({
          TableName: this.tables.entities, Item: it,
          ConditionExpression: 'attribute_not_exists(ev) OR ev < :w', ExpressionAttributeValues: { ':w': { N: String(w) } },
        }));
      } catch (e) {
        if (!(e instanceof ConditionalCheckFailedException)) throw e;
      }
    });
  }

  private async batchWrite(requests: WriteRequest[]): Promise<void> {
    const batches: WriteRequest[][] = [];
    for (let i = 0; i < requests.length; i += 25) batches.push(requests.slice(i, i + 25));
    await pool(batches, this.concurrency, async (batch) => {
      let pending = batch;
      for (let attempt = 0; pending.length; attempt++) {
        if (attempt > 10) throw new Error(`BatchWriteItem: ${pending.length} items still unprocessed after ${attempt} attempts`);
        if (attempt) await backoff(attempt);
        const r = await this.ddb.send(new BatchWriteItemCommand({ RequestItems: { [this.tables.entities]: pending } }));
        pending = r.UnprocessedItems?.[this.tables.entities] ?? [];
      }
    });
  }

  private writeItems(items: Item[]): Promise<void> {
    return this.batchWrite(items.map((Item) => ({ PutRequest: { Item } })));
  }

  private deleteItems(keys: Item[]): Promise<void> {
    return this.batchWrite(keys.map((Key) => ({ DeleteRequest: { Key } })));
  }

  /**
   * Rewrites an entity's edge items from its stored links: adds missing ones and removes ones no link backs.
   * The reconciliation pass runs it to close the windows described in docs/design.md.
   */
  async repairEdges(type: string, id: number): Promise<{ added: number; removed: number }> {
    const cur = await this.readState(type, id);
    const want = cur ? encodeEntity(this.schema, cur.state, 'repair').edges : new Map<string, Item>();
    const { items } = await this.queryAll({
      TableName: this.tables.entities, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :l)',
      ExpressionAttributeValues: { ':pk': { S: entityPk(type, id) }, ':l': { S: 'L#' } }, ConsistentRead: true,
    });
    const have = new Set(items.map((it) => it.sk.S!));
    const add = [...want.entries()].filter(([sk]) => !have.has(sk)).map(([, it]) => it);
    const stale = [...have].filter((sk) => !want.has(sk));
    await this.putEdges(add, cur?.state.w ?? 0);
    await this.deleteEdges({ S: entityPk(type, id) }, stale, cur?.state.w ?? 0);
    return { added: add.length, removed: stale.length };
  }

  /**
   * Deletes an entity that vanished from the site (neither active nor retired there any more): its item, edges and
   * chunks. Links to it elsewhere keep their stored facts until their own entities are re-read.
   */
  async removeEntity(type: string, id: number): Promise<number> {
    const { items } = await this.queryAll({
      TableName: this.tables.entities, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: entityPk(type, id) } },
      ProjectionExpression: 'pk, sk', ConsistentRead: true,
    });
    const entity = items.filter((it) => it.sk.S === ENTITY_SK);
    // The entity item first: once it is gone no reader reaches the rest.
    await this.deleteItems(entity.map((it) => ({ pk: it.pk, sk: it.sk })));
    await this.deleteItems(items.filter((it) => it.sk.S !== ENTITY_SK).map((it) => ({ pk: it.pk, sk: it.sk })));
    return items.length;
  }

  // ----- reads ----------------------------------------------------------------------------------------------

  /** Ids of a type's stored entities and which are retired (byType, two attributes per item): counts and sweeps. */
  async typeSummary(type: string): Promise<{ ids: number[]; retired: Set<number>; stats: ReadStats }> {
    const { items, stats } = await this.queryAll({
      TableName: this.tables.entities, IndexName: 'byType', KeyConditionExpression: '#t = :t',
      ExpressionAttributeNames: { '#t': 't', '#id': 'id', '#r': 'r' }, ExpressionAttributeValues: { ':t': { S: type } },
      ProjectionExpression: '#id, #r',
    });
    const ids = items.map((it) => Number(it.id.N));
    return { ids, retired: new Set(items.filter((it) => it.r?.BOOL).map((it) => Number(it.id.N))), stats };
  }

  /** One entity's full state, read consistently (the write path), with the keys of its current chunks. */
  private async readState(type: string, id: number): Promise<{ state: EntityState; chunkKeys: Item[] } | undefined> {
    for (let attempt = 0; ; attempt++) {
      const r = await this.ddb.send(new GetItemCommand({
        TableName: this.tables.entities, Key: { pk: { S: entityPk(type, id) }, sk: { S: ENTITY_SK } }, ConsistentRead: true,
      }));
      if (!r.Item) return undefined;
      const loaded = await this.loadSpilled(r.Item, true);
      if (loaded) return { state: decodeEntity(this.schema, r.Item, loaded.values), chunkKeys: loaded.keys };
      if (attempt > 5) throw new Error(`${type} ${id}: spill chunks keep changing under the read`);
    }
  }

  /**
   * Values of an item's spilled fields; undefined when a chunk set is incomplete (a concurrent write replaced it:
   * the caller re-reads the entity item).
   */
  private async loadSpilled(item: Item, consistent: boolean, stats?: ReadStats): Promise<{ values: Map<string, unknown>; keys: Item[] } | undefined> {
    const values = new Map<string, unknown>();
    const keys: Item[] = [];
    for (const [field, { gen, n }] of spilledFields(item)) {
      const { items, stats: s } = await this.queryAll({
        TableName: this.tables.entities, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :x)',
        ExpressionAttributeValues: { ':pk': item.pk, ':x': { S: chunkPrefix(field, gen) } }, ConsistentRead: consistent,
      });
      if (stats) addStats(stats, s);
      if (items.length !== n) return undefined;
      const data = Buffer.concat(items.map((c) => Buffer.from(c.d.B!)));
      values.set(field, JSON.parse(gunzipSync(data).toString('utf8')));
      keys.push(...items.map((c) => ({ pk: c.pk, sk: c.sk })));
    }
    return { values, keys };
  }

  /** Decodes entity items from a read, loading spilled fields (re-reading items whose chunks moved). */
  private async materialize(items: Item[], stats: ReadStats): Promise<StoredEntity[]> {
    const out: StoredEntity[] = [];
    for (const it of items) {
      let item: Item | undefined = it;
      for (let attempt = 0; item; attempt++) {
        if (!item.x) { out.push(toStoredEntity(this.schema, decodeEntity(this.schema, item))); break; }
        const loaded = await this.loadSpilled(item, false, stats);
        if (loaded) { out.push(toStoredEntity(this.schema, decodeEntity(this.schema, item, loaded.values))); break; }
        if (attempt > 5) throw new Error(`${item.pk.S}: spill chunks keep changing under the read`);
        const r: GetItemCommandOutput = await this.ddb.send(new GetItemCommand({
          TableName: this.tables.entities, Key: { pk: item.pk, sk: item.sk }, ConsistentRead: true, ReturnConsumedCapacity: 'TOTAL',
        }));
        addStats(stats, { items: r.Item ? 1 : 0, rcu: capacity(r.ConsumedCapacity), calls: 1 });
        item = r.Item;
      }
    }
    return out;
  }

  /** Entities by id (BatchGetItem, 100 keys per call, unprocessed keys retried with backoff), in `ids` order; missing ids are left out. */
  async getMany(type: string, ids: readonly number[], stats: ReadStats = emptyStats()): Promise<{ entities: StoredEntity[]; stats: ReadStats }> {
    const unique = [...new Set(ids)];
    const found = new Map<number, Item>();
    const batches: number[][] = [];
    for (let i = 0; i < unique.length; i += 100) batches.push(unique.slice(i, i + 100));
    await pool(batches, this.concurrency, async (batch) => {
      let keys: Item[] = batch.map((id) => ({ pk: { S: entityPk(type, id) }, sk: { S: ENTITY_SK } }));
      for (let attempt = 0; keys.length; attempt++) {
        if (attempt > 10) throw new Error(`BatchGetItem: ${keys.length} keys still unprocessed after ${attempt} attempts`);
        if (attempt) await backoff(attempt);
        const r = await this.ddb.send(new BatchGetItemCommand({ RequestItems: { [this.tables.entities]: { Keys: keys } }, ReturnConsumedCapacity: 'TOTAL' }));
        const got = r.Responses?.[this.tables.entities] ?? [];
        addStats(stats, { items: got.length, rcu: capacity(r.ConsumedCapacity), calls: 1 });
        for (const it of got) found.set(Number(it.id.N), it);
        keys = (r.UnprocessedKeys?.[this.tables.entities]?.Keys ?? []) as Item[];
      }
    });
    const ordered = unique.filter((id) => found.has(id)).map((id) => found.get(id)!);
    return { entities: await this.materialize(ordered, stats), stats };
  }

  /** One entity, or undefined. */
  async get(type: string, id: number): Promise<StoredEntity | undefined> {
    return (await this.getMany(type, [id])).entities[0];
  }

  private async queryAll(input: QueryCommandInput, stats: ReadStats = emptyStats()): Promise<QueryPage> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const r = await this.ddb.send(new QueryCommand({ ...input, ExclusiveStartKey: start, ReturnConsumedCapacity: 'TOTAL', Limit: this.queryPageSize }));
      items.push(...(r.Items ?? []));
      addStats(stats, { items: r.ScannedCount ?? r.Count ?? 0, rcu: capacity(r.ConsumedCapacity), calls: 1 });
      start = r.LastEvaluatedKey;
    } while (start);
    return { items, stats };
  }

  private async queryEntities(input: QueryCommandInput): Promise<{ entities: StoredEntity[]; stats: ReadStats }> {
    const { items, stats } = await this.queryAll(input);
    return { entities: await this.materialize(items, stats), stats };
  }

  /** A type's entities in id order (byType), optionally within [from, to]. */
  byType(type: string, range: { from?: number; to?: number } = {}): Promise<{ entities: StoredEntity[]; stats: ReadStats }> {
    return this.queryEntities({
      TableName: this.tables.entities, IndexName: 'byType',
      KeyConditionExpression: '#t = :t AND #id BETWEEN :a AND :b', ExpressionAttributeNames: { '#t': 't', '#id': 'id' },
      ExpressionAttributeValues: { ':t': { S: type }, ':a': { N: String(range.from ?? 0) }, ':b': { N: String(range.to ?? 2 ** 53 - 1) } },
    });
  }

  /** A type's entities whose `project` is Project `projectId` (byProject), in id order. */
  byProject(type: string, projectId: number): Promise<{ entities: StoredEntity[]; stats: ReadStats }> {
    return this.queryEntities({
      TableName: this.tables.entities, IndexName: 'byProject',
      KeyConditionExpression: '#tp = :tp', ExpressionAttributeNames: { '#tp': 'tp' }, ExpressionAttributeValues: { ':tp': { S: `${type}#${projectId}` } },
    });
  }

  /** A type's entities whose indexed entity field `field` links to `target` (the field's byLink slot), in id order. */
  byLink(type: string, field: string, target: Target): Promise<{ entities: StoredEntity[]; stats: ReadStats }> {
    const slot = this.schema.linkSlot(type, field);
    if (slot === undefined) throw new Error(`${type}.${field} has no link slot (not an indexed entity field)`);
    return this.queryEntities({
      TableName: this.tables.entities, IndexName: `byLink${slot}`,
      KeyConditionExpression: '#l = :l', ExpressionAttributeNames: { '#l': `l${slot}` }, ExpressionAttributeValues: { ':l': { S: `${type}.${field}#${target.type}#${target.id}` } },
    });
  }

  /** Every stored link to `target` (byRef), optionally only from `type` / `type.field`, in (type, field, id) order. */
  async refs(target: Target, from: { type?: string; field?: string } = {}): Promise<{ rows: RefRow[]; stats: ReadStats }> {
    const prefix = from.type === undefined ? undefined : from.field === undefined ? `${from.type}.` : `${from.type}.${from.field}#`;
    const { items, stats } = await this.queryAll({
      TableName: this.tables.entities, IndexName: 'byRef',
      KeyConditionExpression: prefix ? '#ref = :r AND begins_with(#src, :p)' : '#ref = :r',
      ExpressionAttributeNames: prefix ? { '#ref': 'ref', '#src': 'src' } : { '#ref': 'ref' },
      ExpressionAttributeValues: { ':r': { S: `${target.type}#${target.id}` }, ...(prefix ? { ':p': { S: prefix } } : {}) },
    });
    const rows = items.map((it) => {
      const src = it.src.S!;
      const hash = src.lastIndexOf('#');
      const dot = src.indexOf('.');
      return { type: src.slice(0, dot), field: src.slice(dot + 1, hash), id: Number(src.slice(hash + 1)) };
    });
    return { rows, stats };
  }

  /** Entities of `type` whose link field `field` holds `target` (byRef, then BatchGet), in id order. */
  async members(type: string, field: string, target: Target): Promise<{ entities: StoredEntity[]; stats: ReadStats }> {
    const { rows, stats } = await this.refs(target, { type, field });
    return this.getMany(type, rows.map((r) => r.id), stats);
  }

  /** Ids and updated_at of a type's entities with updated_at in [from, to] (byUpdated, KEYS_ONLY), oldest first. */
  async byUpdated(type: string, range: { from?: string; to?: string } = {}): Promise<{ rows: Array<{ id: number; updatedAt: string }>; stats: ReadStats }> {
    const { items, stats } = await this.queryAll({
      TableName: this.tables.entities, IndexName: 'byUpdated',
      KeyConditionExpression: '#t = :t AND #u BETWEEN :a AND :b', ExpressionAttributeNames: { '#t': 't', '#u': 'u' },
      ExpressionAttributeValues: { ':t': { S: type }, ':a': { S: range.from ?? '0' }, ':b': { S: `${range.to ?? '9999'}#~` } },
    });
    return {
      rows: items.map((it) => ({ id: Number(it.id?.N ?? it.pk.S!.slice(it.pk.S!.indexOf('#') + 1)), updatedAt: it.u.S!.slice(0, it.u.S!.lastIndexOf('#')) })),
      stats,
    };
  }
}

function cloneState(s: EntityState): EntityState {
  return { ...s, values: { ...s.values }, fv: { ...s.fv } };
}

function edgeKeys(schema: CachedSchema, s: EntityState): Set<string> {
  const out = new Set<string>();
  for (const [name, v] of Object.entries(s.values)) {
    if (isLinkType(schema.site.dataType(s.type, name))) for (const l of linksOf(v)) out.add(edgeSk(name, l));
  }
  return out;
}

function linkMap(schema: CachedSchema, s: EntityState): Map<string, LinkValue> {
  const m = new Map<string, LinkValue>();
  for (const [name, v] of Object.entries(s.values)) {
    if (!isLinkType(schema.site.dataType(s.type, name))) continue;
    for (const l of linksOf(v)) m.set(`${l.type}#${l.id}`, l);
  }
  return m;
}
