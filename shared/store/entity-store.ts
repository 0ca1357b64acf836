// Persisting and reading cached entities in DynamoDB: the item codec, versioned writes, link edges, spill chunks, and one query primitive per index.
//
// Layout (docs/design.md "Items"): one entity item per entity (pk "<Type>#<id>", sk "E") and spill chunks for fields too
// large to keep inline (sk "X#<field>#<gen>#<n>") in the entities table; one edge item per link value no entities GSI
// covers in the refs table (pk "<TargetType>#<targetId>", sk "<Type>.<field>#<id padded>"). Every write is read-merge-write under an optimistic lock on the write counter `w`;
// versions (event ids or fetch stamps) decide per field whether a change is newer than what is stored.
import { randomUUID } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  BatchGetItemCommand, BatchWriteItemCommand, ConditionalCheckFailedException, DeleteItemCommand, GetItemCommand,
  PutItemCommand, QueryCommand, type AttributeValue, type ConsumedCapacity, type GetItemCommandOutput, type DynamoDBClient, type QueryCommandInput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import type { CachedSchema } from '../schema/index.js';
import type { EntityRecord } from '../semantics/index.js';
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
/** An edge's identity within its source entity (the key of EncodedEntity.edges). */
const edgeId = (field: string, target: { type: string; id: number }): string => `${field}#${target.type}#${target.id}`;
/** The refs-table key of the edge `type.field` of entity `id` -> `target`. */
export function edgeKey(type: string, id: number, field: string, target: { type: string; id: number }): Item {
  return { pk: { S: `${target.type}#${target.id}` }, sk: { S: `${type}.${field}#${padId(id)}` } };
}
/** The pk of a creation-journal item (state table; sk the zero-padded id). */
export const journalPk = (type: string): string => `born#${type}`;
/** How long creation-journal items live (they matter only while an import runs). */
const JOURNAL_TTL_S = 86_400;
/**
 * Version of the item layout (docs/design.md §3). 2: edge items in the refs table, none for covered fields, `eg` on
 * entity items. Recorded in the state table once no served entity predates it; an older or missing record next to
 * ready types means a full re-import is due (shared/sync/importer.ts).
 */
export const ITEM_LAYOUT = 2;
const LAYOUT_KEY = { pk: { S: 'layout' }, sk: { S: 'items' } };
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
  /**
   * Link fields whose values had edge items when the stored item was written (stored as `eg`; encodeEntity recomputes
   * it). Which fields need edges depends on the schema's link slots, so the stored set, not today's schema, says which
   * edges exist.
   */
  eg?: string[];
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
export interface ImportWriteOptions extends PutOptions {
  /** Create absent entities by unconditional BatchWriteItem and report journaled creators as suspects (importEntities). */
  blind?: boolean;
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

/** Whether a stored attribute has the shape `dataType` is stored in (links as {t, i, n} maps, other values not). */
function storedUnder(dataType: string | undefined, av: AttributeValue): boolean {
  const isLinkMap = (x: AttributeValue) => x.M?.t?.S !== undefined && x.M?.i?.N !== undefined;
  if (dataType === 'entity') return av.NULL === true || isLinkMap(av);
  if (dataType === 'multi_entity') return av.L !== undefined && av.L.every(isLinkMap);
  return !isLinkMap(av) && !(av.L !== undefined && av.L.some(isLinkMap));
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
  /** Edge items (refs table), keyed by edgeId. */
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
  const eg: string[] = [];
  for (const [name, v] of Object.entries(s.values)) {
    if (!needsEdges(schema, s.type, name, v)) continue;
    eg.push(name);
    for (const l of linksOf(v)) edges.set(edgeId(name, l), { ...edgeKey(s.type, s.id, name, l), ev: { N: String(s.w) } });
  }
  if (eg.length) item.eg = { SS: eg };
  return { item, chunks, edges };
}

/**
 * Whether the links of `type.field` (value `v`) get edge items: every link field, except those another index already
 * answers "who links to X" for: `project` holding a Project (byProject, `tp`) and indexed entity fields (byLinkN).
 */
export function needsEdges(schema: CachedSchema, type: string, field: string, v: unknown): boolean {
  const dt = schema.site.dataType(type, field);
  if (!isLinkType(dt)) return false;
  if (dt === 'entity' && schema.linkSlot(type, field) !== undefined) return false;
  if (dt === 'entity' && field === 'project' && isObj(v) && v.type === 'Project') return false;
  return true;
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
  for (const [name, av] of Object.entries(item.f?.M ?? {})) {
    const dt = schema.site.dataType(type, name);
    // Stored under another definition (a deploy changed the field's type): left out, the field is rebuilt before it is served (docs/sync.md, Schema changes).
    if (!storedUnder(dt, av)) continue;
    values[name] = decodeField(dt, av);
  }
  for (const [name] of spilledFields(item)) {
    if (!spilled.has(name)) throw new Error(`${item.pk.S}: spilled field ${name} was not loaded`);
    values[name] = spilled.get(name);
  }
  return {
    type, id: Number(item.id.N), retired: item.r?.BOOL ?? false, values,
    v: Number(item.v.N), b: Number(item.b.N), w: Number(item.w.N),
    fv: Object.fromEntries(Object.entries(item.fv?.M ?? {}).map(([k, n]) => [k, Number(n.N)])),
    eg: item.eg?.SS ?? [],
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

/** A query that would read more items than its caller allows (a whole type or project too large to answer quickly). */
export class ScanTooLarge extends Error {
  constructor(readonly maxItems: number) {
    super(`more than ${maxItems} items`);
    this.name = 'ScanTooLarge';
  }
}

/** A link target for edge and slot queries. */
export interface Target { type: string; id: number }

/** A reverse reference: `type.field` of entity `id` links to the queried target. */
export interface RefRow { type: string; field: string; id: number }

export interface EntityStoreOptions {
  /** Max attempts of the read-merge-write loop under contention. */
  maxWriteAttempts?: number;
  /** Parallel requests for edge and chunk writes and per-entity propagation. */
  concurrency?: number;
  /** Limit per Query call (default: DynamoDB's 1 MB pages); tests set it to exercise pagination. */
  queryPageSize?: number;
  /** Tests: runs inside importEntities between the existence check and the blind write, with the ids about to be written blind. */
  onImportChecked?: (fresh: Target[]) => Promise<void>;
}

export class EntityStore {
  private readonly maxWriteAttempts: number;
  private readonly concurrency: number;
  private readonly queryPageSize: number | undefined;
  private readonly onImportChecked: EntityStoreOptions['onImportChecked'];

  constructor(readonly ddb: DynamoDBClient, readonly tables: TableNames, readonly schema: CachedSchema, opts: EntityStoreOptions = {}) {
    this.maxWriteAttempts = opts.maxWriteAttempts ?? 50;
    this.concurrency = opts.concurrency ?? 16;
    this.queryPageSize = opts.queryPageSize;
    this.onImportChecked = opts.onImportChecked;
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
   * Bulk whole-entity writes (docs/design.md W1), stamped `version`. Entities already stored go through putEntity's
   * read-merge-write. Entities not stored yet get their spill chunks and edges by BatchWriteItem, then:
   *
   * - by default, the entity item under `attribute_not_exists(pk)`, so an entity a concurrent writer created meanwhile
   *   is never overwritten (it goes through putEntity instead);
   * - with `blind` (the import), the entity items by BatchWriteItem too, no condition (3x the rate). A creator that
   *   raced the blind write (the consumer or write-through created the entity between the existence check and the
   *   write) is found in the creation journal, queried after the write for every id of `records`: those ids come back
   *   as `suspects`, whose stored state may be the import's older one, and the caller must re-fetch them from the site
   *   and write them at a fresh stamp. A creator that comes later finds the blind write's item and merges on top of it.
   */
  async importEntities(records: readonly EntityRecord[], version: number, opts: ImportWriteOptions = {}): Promise<{ created: number; merged: number; stale: number; suspects: Target[] }> {
    const out = { created: 0, merged: 0, stale: 0, suspects: [] as Target[] };
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
    await this.onImportChecked?.(fresh.map((f) => ({ type: f.record.type, id: f.record.id })));
    // Spill chunks before the entity items that point to them (as in mutate).
    await this.writeItems(this.tables.entities, fresh.flatMap((f) => f.enc.chunks));
    const edges = fresh.flatMap((f) => [...f.enc.edges.values()]);
    if (opts.blind) {
      // Edges and entity items at once: the import's types are not served until it completes (docs/design.md §6),
      // so no reader depends on edges landing first.
      await Promise.all([this.writeItems(this.tables.refs, edges), this.writeItems(this.tables.entities, fresh.map((f) => f.enc.item))]);
      out.created = fresh.length;
      // Every id of the page, stored or not: a page redone after a crash between its blind write and this query finds
      // its entities stored, and a creation that raced the first attempt must still be caught.
      const byType = new Map<string, number[]>();
      for (const r of records) byType.set(r.type, [...(byType.get(r.type) ?? []), r.id]);
      await Promise.all([...byType].map(async ([type, ids]) => {
        const born = await this.journaled(type, Math.min(...ids), Math.max(...ids));
        for (const id of ids) if (born.has(id)) out.suspects.push({ type, id });
      }));
    } else {
      await this.writeItems(this.tables.refs, edges);
      await pool(fresh, this.concurrency, async ({ record, enc }) => {
        try {
          await this.ddb.send(new PutItemCommand({ TableName: this.tables.entities, Item: enc.item, ConditionExpression: 'attribute_not_exists(pk)' }));
          out.created++;
        } catch (e) {
          if (!(e instanceof ConditionalCheckFailedException)) throw e;
          if (enc.chunks.length) await this.deleteItems(this.tables.entities, enc.chunks.map((c) => ({ pk: c.pk, sk: c.sk })));
          merge.push(record);
        }
      });
    }
    await pool(merge, this.concurrency, async (record) => {
      const r = await this.putEntity(record, version, opts);
      if (r.status === 'applied') out.merged++; else out.stale++;
    });
    return out;
  }

  /** Which of these entities have an entity item (consistent BatchGetItem of the keys only), as entity pks. */
  private async existing(records: readonly { type: string; id: number }[]): Promise<Set<string>> {
    const keys = [...new Set(records.map((r) => entityPk(r.type, r.id)))].map((pk): Item => ({ pk: { S: pk }, sk: { S: ENTITY_SK } }));
    const items = await this.batchGet(this.tables.entities, keys, { projection: 'pk', consistent: true });
    return new Set(items.map((it) => it.pk.S!));
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
    const stats = emptyStats();
    const rows = await this.refRows(target, {}, stats);
    const byEntity = new Map<string, { type: string; id: number; fields: Set<string>; edgeFields: Set<string> }>();
    for (const r of rows) {
      const k = entityPk(r.type, r.id);
      const e = byEntity.get(k) ?? { type: r.type, id: r.id, fields: new Set<string>(), edgeFields: new Set<string>() };
      e.fields.add(r.field);
      if (r.edge) e.edgeFields.add(r.field);
      byEntity.set(k, e);
    }
    let entities = 0;
    await pool([...byEntity.values()], this.concurrency, async (e) => {
      /** Edge items found for links the entity does not hold (orphans), with the write counter of the state that shows it. */
      let orphans: { keys: Item[]; w: number } = { keys: [], w: 0 };
      const res = await this.mutate(e.type, e.id, (cur) => {
        if (!cur) return 'missing';
        const have = edgeKeys(this.schema, cur);
        orphans = { keys: [...e.edgeFields].filter((f) => !have.has(edgeId(f, target))).map((f) => edgeKey(e.type, e.id, f, target)), w: cur.w };
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
      if (orphans.keys.length) await this.deleteEdges(orphans.keys, orphans.w);
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
   * (`w` unchanged), and finally removes dropped edges and old chunks. Retries on a lost race. Before it creates an
   * entity (no stored state) it records the creation in the journal, which the import's blind writes consult
   * (importEntities).
   */
  private async mutate(type: string, id: number, fn: (cur: EntityState | undefined) => EntityState | Exclude<WriteStatus, 'applied'>): Promise<WriteResult> {
    /** Edges this call put in attempts that lost the race: removed again unless some state still needs them. */
    let leftovers = new Map<string, Item>();
    let journaled = false;
    for (let attempt = 0; attempt < this.maxWriteAttempts; attempt++) {
      const cur = await this.readState(type, id);
      const next = fn(cur?.state);
      const oldEdges = cur ? edgeKeys(this.schema, cur.state) : new Map<string, Item>();
      const enc = typeof next === 'string' ? undefined : encodeEntity(this.schema, next, `${padId(next.w)}-${randomUUID().slice(0, 8)}`);
      if (cur && leftovers.size) {
        const orphans = [...leftovers].filter(([k]) => !oldEdges.has(k) && !enc?.edges.has(k));
        await this.deleteEdges(orphans.map(([, key]) => key), cur.state.w);
        for (const [k] of orphans) leftovers.delete(k);
      }
      if (typeof next === 'string') return { status: next };
      if (!cur && !journaled) {
        await this.journalCreation(type, id);
        journaled = true;
      }
      const added = [...enc!.edges.entries()].filter(([k]) => !oldEdges.has(k));
      const removed = [...oldEdges].filter(([k]) => !enc!.edges.has(k)).map(([, key]) => key);
      await this.writeItems(this.tables.entities, enc!.chunks);
      await this.putEdges(added.map(([, it]) => it), next.w, cur === undefined);
      try {
        await this.ddb.send(new PutItemCommand({
          TableName: this.tables.entities,
          Item: enc!.item,
          ConditionExpression: cur ? 'w = :w' : 'attribute_not_exists(pk)',
          ExpressionAttributeValues: cur ? { ':w': { N: String(cur.state.w) } } : undefined,
        }));
      } catch (e) {
        if (!(e instanceof ConditionalCheckFailedException)) throw e;
        await this.deleteItems(this.tables.entities, enc!.chunks.map((c) => ({ pk: c.pk, sk: c.sk })));
        for (const [k, it] of added) leftovers.set(k, { pk: it.pk, sk: it.sk });
        await backoff(Math.min(attempt, 6));
        continue;
      }
      await this.deleteEdges(removed, next.w);
      if (cur) await this.deleteItems(this.tables.entities, cur.chunkKeys);
      return { status: 'applied', propagate: this.factsChanged(cur?.state, next) };
    }
    throw new Error(`${type} ${id}: gave up after ${this.maxWriteAttempts} write attempts under contention`);
  }

  /** The item layout version the stored entities follow (1 when none is recorded: tables written before versioning). */
  async itemLayout(): Promise<number> {
    const r = await this.ddb.send(new GetItemCommand({ TableName: this.tables.state, Key: LAYOUT_KEY, ConsistentRead: true }));
    return r.Item?.v?.N ? Number(r.Item.v.N) : 1;
  }

  /** Records that every served entity follows ITEM_LAYOUT (the importer, once no type imported under an older one is ready). */
  async recordItemLayout(): Promise<void> {
    await this.ddb.send(new PutItemCommand({ TableName: this.tables.state, Item: { ...LAYOUT_KEY, v: { N: String(ITEM_LAYOUT) } } }));
  }

  /** Journal entry "entity type#id is being created" (state table, pk "born#<Type>", sk the padded id, expires after a day). */
  private async journalCreation(type: string, id: number): Promise<void> {
    await this.ddb.send(new PutItemCommand({
      TableName: this.tables.state,
      Item: { pk: { S: journalPk(type) }, sk: { S: padId(id) }, ttl: { N: String(Math.floor(Date.now() / 1000) + JOURNAL_TTL_S) } },
    }));
  }

  /** Ids of `type` in [from, to] the creation journal holds (read consistently). */
  async journaled(type: string, from: number, to: number): Promise<Set<number>> {
    const { items } = await this.queryAll({
      TableName: this.tables.state, ConsistentRead: true, ProjectionExpression: 'sk',
      KeyConditionExpression: 'pk = :p AND sk BETWEEN :a AND :b',
      ExpressionAttributeValues: { ':p': { S: journalPk(type) }, ':a': { S: padId(from) }, ':b': { S: padId(to) } },
    });
    return new Set(items.map((it) => Number(it.sk.S)));
  }

  /**
   * Deletes edge items (refs-table keys) no longer backed by the state written at counter `w`. An edge put since by a
   * writer that read a later state carries a higher ev and stays.
   */
  private async deleteEdges(keys: Item[], w: number): Promise<void> {
    await pool(keys, this.concurrency, async (Key) => {
      try {
        await this.ddb.send(new DeleteItemCommand({
          TableName: this.tables.refs, Key,
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
    if (bulk || edges.length > 25) return this.writeItems(this.tables.refs, edges);
    await pool(edges, this.concurrency, async (it) => {
      try {
        await this.ddb.send(new PutItemCommand({
          TableName: this.tables.refs, Item: it,
          ConditionExpression: 'attribute_not_exists(ev) OR ev < :w', ExpressionAttributeValues: { ':w': { N: String(w) } },
        }));
      } catch (e) {
        if (!(e instanceof ConditionalCheckFailedException)) throw e;
      }
    });
  }

  private async batchWrite(table: string, requests: WriteRequest[]): Promise<void> {
    const batches: WriteRequest[][] = [];
    for (let i = 0; i < requests.length; i += 25) batches.push(requests.slice(i, i + 25));
    await pool(batches, this.concurrency, async (batch) => {
      let pending = batch;
      for (let attempt = 0; pending.length; attempt++) {
        if (attempt > 10) throw new Error(`BatchWriteItem: ${pending.length} items still unprocessed after ${attempt} attempts`);
        if (attempt) await backoff(attempt);
        const r = await this.ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
        pending = r.UnprocessedItems?.[table] ?? [];
      }
    });
  }

  private writeItems(table: string, items: Item[]): Promise<void> {
    return this.batchWrite(table, items.map((Item) => ({ PutRequest: { Item } })));
  }

  private deleteItems(table: string, keys: Item[]): Promise<void> {
    return this.batchWrite(table, keys.map((Key) => ({ DeleteRequest: { Key } })));
  }

  /** Which of `keys` exist in `table` (consistent BatchGetItem of the keys only), as "pk|sk". */
  private async presentKeys(table: string, keys: Item[]): Promise<Set<string>> {
    const items = await this.batchGet(table, keys, { projection: 'pk, sk', consistent: true });
    return new Set(items.map((it) => `${it.pk.S}|${it.sk.S}`));
  }

  /**
   * BatchGetItem of any number of keys: 100 per request, `concurrency` requests at once, unprocessed keys retried
   * with backoff. Items come back in no particular order; `stats` (when given) counts what was read.
   */
  private async batchGet(table: string, keys: readonly Item[], opts: { projection?: string; consistent?: boolean; stats?: ReadStats } = {}): Promise<Item[]> {
    const out: Item[] = [];
    const batches: Item[][] = [];
    for (let i = 0; i < keys.length; i += 100) batches.push(keys.slice(i, i + 100));
    await pool(batches, this.concurrency, async (batch) => {
      let pending = batch;
      for (let attempt = 0; pending.length; attempt++) {
        if (attempt > 10) throw new Error(`BatchGetItem: ${pending.length} keys still unprocessed after ${attempt} attempts`);
        if (attempt) await backoff(attempt);
        const r = await this.ddb.send(new BatchGetItemCommand({
          RequestItems: { [table]: { Keys: pending, ...(opts.projection ? { ProjectionExpression: opts.projection } : {}), ...(opts.consistent ? { ConsistentRead: true } : {}) } },
          ...(opts.stats ? { ReturnConsumedCapacity: 'TOTAL' as const } : {}),
        }));
        const got = r.Responses?.[table] ?? [];
        if (opts.stats) addStats(opts.stats, { items: got.length, rcu: capacity(r.ConsumedCapacity), calls: 1 });
        out.push(...got);
        pending = (r.UnprocessedKeys?.[table]?.Keys ?? []) as Item[];
      }
    });
    return out;
  }

  /**
   * Writes the edge items an entity's stored links need and that are missing (a bulk write's window, docs/design.md
   * "Edges under concurrency"). The reconciliation pass runs it for entities it touches. Orphan edges (no stored link
   * backs them) cannot be listed per source; propagateLinkFacts removes those it meets.
   */
  async repairEdges(type: string, id: number): Promise<{ added: number; removed: number }> {
    const cur = await this.readState(type, id);
    if (!cur) return { added: 0, removed: 0 };
    const want = [...encodeEntity(this.schema, cur.state, 'repair').edges.values()];
    const have = await this.presentKeys(this.tables.refs, want.map((it) => ({ pk: it.pk, sk: it.sk })));
    const add = want.filter((it) => !have.has(`${it.pk.S}|${it.sk.S}`)).map((it) => ({ ...it, ev: { N: String(cur.state.w) } }));
    await this.putEdges(add, cur.state.w);
    return { added: add.length, removed: 0 };
  }

  /**
   * Deletes an entity that vanished from the site (neither active nor retired there any more): its item, chunks and
   * edges. Links to it elsewhere keep their stored facts until their own entities are re-read.
   */
  async removeEntity(type: string, id: number): Promise<number> {
    const cur = await this.readState(type, id).catch(() => undefined);
    const { items } = await this.queryAll({
      TableName: this.tables.entities, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: entityPk(type, id) } },
      ProjectionExpression: 'pk, sk', ConsistentRead: true,
    });
    const entity = items.filter((it) => it.sk.S === ENTITY_SK);
    // The entity item first: once it is gone no reader reaches the rest.
    await this.deleteItems(this.tables.entities, entity.map((it) => ({ pk: it.pk, sk: it.sk })));
    await this.deleteItems(this.tables.entities, items.filter((it) => it.sk.S !== ENTITY_SK).map((it) => ({ pk: it.pk, sk: it.sk })));
    const edges = cur ? [...edgeKeys(this.schema, cur.state).values()] : [];
    await this.deleteEdges(edges, cur?.state.w ?? 0);
    return items.length + edges.length;
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
    const keys = unique.map((id): Item => ({ pk: { S: entityPk(type, id) }, sk: { S: ENTITY_SK } }));
    const found = new Map((await this.batchGet(this.tables.entities, keys, { stats })).map((it) => [Number(it.id.N), it]));
    const ordered = unique.filter((id) => found.has(id)).map((id) => found.get(id)!);
    return { entities: await this.materialize(ordered, stats), stats };
  }

  /** One entity, or undefined. */
  async get(type: string, id: number): Promise<StoredEntity | undefined> {
    return (await this.getMany(type, [id])).entities[0];
  }

  /** Every item of a query; with `maxItems`, throws ScanTooLarge as soon as more than that many have come back. */
  private async queryAll(input: QueryCommandInput, stats: ReadStats = emptyStats(), maxItems = Infinity): Promise<QueryPage> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const limit = Number.isFinite(maxItems) ? Math.min(this.queryPageSize ?? Infinity, maxItems + 1 - items.length) : this.queryPageSize;
      const r = await this.ddb.send(new QueryCommand({ ...input, ExclusiveStartKey: start, ReturnConsumedCapacity: 'TOTAL', Limit: Number.isFinite(limit) ? limit : undefined }));
      items.push(...(r.Items ?? []));
      addStats(stats, { items: r.ScannedCount ?? r.Count ?? 0, rcu: capacity(r.ConsumedCapacity), calls: 1 });
      if (items.length > maxItems) throw new ScanTooLarge(maxItems);
      start = r.LastEvaluatedKey;
    } while (start);
    return { items, stats };
  }

  private async queryEntities(input: QueryCommandInput, maxItems?: number): Promise<{ entities: StoredEntity[]; stats: ReadStats }> {
    const { items, stats } = await this.queryAll(input, emptyStats(), maxItems);
    return { entities: await this.materialize(items, stats), stats };
  }

  /** A type's entities in id order (byType), optionally within [from, to]; more than `maxItems`: ScanTooLarge. */
  byType(type: string, range: { from?: number; to?: number } = {}, maxItems?: number): Promise<{ entities: StoredEntity[]; stats: ReadStats }> {
    return this.queryEntities({
      TableName: this.tables.entities, IndexName: 'byType',
      KeyConditionExpression: '#t = :t AND #id BETWEEN :a AND :b', ExpressionAttributeNames: { '#t': 't', '#id': 'id' },
      ExpressionAttributeValues: { ':t': { S: type }, ':a': { N: String(range.from ?? 0) }, ':b': { N: String(range.to ?? 2 ** 53 - 1) } },
    }, maxItems);
  }

  /** A type's entities whose `project` is Project `projectId` (byProject), in id order; more than `maxItems`: ScanTooLarge. */
  byProject(type: string, projectId: number, maxItems?: number): Promise<{ entities: StoredEntity[]; stats: ReadStats }> {
    return this.queryEntities({
      TableName: this.tables.entities, IndexName: 'byProject',
      KeyConditionExpression: '#tp = :tp', ExpressionAttributeNames: { '#tp': 'tp' }, ExpressionAttributeValues: { ':tp': { S: `${type}#${projectId}` } },
    }, maxItems);
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

  /**
   * Every stored link to `target`, optionally only from `type` / `type.field`, in (type, field, id) order: edge items
   * for the link fields that have them, plus byProject (`project`) and the link slots (indexed entity fields) for the
   * fields whose links have no edges (see needsEdges).
   */
  async refs(target: Target, from: { type?: string; field?: string } = {}): Promise<{ rows: RefRow[]; stats: ReadStats }> {
    const stats = emptyStats();
    const rows = await this.refRows(target, from, stats);
    return { rows: rows.map(({ type, field, id }) => ({ type, field, id })), stats };
  }

  /** refs, each row marked with whether it came from an edge item. */
  private async refRows(target: Target, from: { type?: string; field?: string }, stats: ReadStats): Promise<Array<RefRow & { edge: boolean }>> {
    const parts: Array<Array<RefRow & { edge: boolean }>> = [];
    const edges = this.edgeRefs(target, from, stats).then((rows) => { parts.push(rows.map((r) => ({ ...r, edge: true }))); });
    // One Query per covering index (a Project: one per type with `project`), a bounded number at a time.
    await pool(this.coveringIndexes(target, from), this.concurrency, async ({ type, field, input }) => {
      const { items } = await this.queryAll(input, stats);
      parts.push(items.map((it) => ({ type, field, id: Number(it.id.N), edge: false })));
    });
    await edges;
    // One row per (type, field, id); `edge` when an edge item exists for it (whatever else also found it).
    const byKey = new Map<string, RefRow & { edge: boolean }>();
    for (const r of parts.flat()) {
      const k = `${r.type}.${r.field}#${r.id}`;
      const had = byKey.get(k);
      if (!had) byKey.set(k, r);
      else had.edge ||= r.edge;
    }
    const rows = [...byKey.values()];
    const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    rows.sort((a, b) => cmp(a.type, b.type) || cmp(a.field, b.field) || a.id - b.id);
    return rows;
  }

  /** Links to `target` recorded as edge items (refs table, read consistently). */
  private async edgeRefs(target: Target, from: { type?: string; field?: string }, stats: ReadStats): Promise<RefRow[]> {
    const prefix = from.type === undefined ? undefined : from.field === undefined ? `${from.type}.` : `${from.type}.${from.field}#`;
    const { items } = await this.queryAll({
      TableName: this.tables.refs, ConsistentRead: true, ProjectionExpression: 'sk',
      KeyConditionExpression: prefix ? 'pk = :r AND begins_with(sk, :p)' : 'pk = :r',
      ExpressionAttributeValues: { ':r': { S: `${target.type}#${target.id}` }, ...(prefix ? { ':p': { S: prefix } } : {}) },
    }, stats);
    return items.map((it) => {
      const src = it.sk.S!;
      const hash = src.lastIndexOf('#');
      const dot = src.indexOf('.');
      return { type: src.slice(0, dot), field: src.slice(dot + 1, hash), id: Number(src.slice(hash + 1)) };
    });
  }

  /** The index queries that find links to `target` from fields without edges: byProject and the link slots whose valid_types allow it. */
  private coveringIndexes(target: Target, from: { type?: string; field?: string }): Array<{ type: string; field: string; input: QueryCommandInput }> {
    const out: Array<{ type: string; field: string; input: QueryCommandInput }> = [];
    for (const type of from.type === undefined ? this.schema.site.typeNames : [from.type]) {
      const wanted = (field: string) => from.field === undefined || from.field === field;
      if (target.type === 'Project' && wanted('project') && this.schema.site.dataType(type, 'project') === 'entity') {
        out.push({ type, field: 'project', input: {
          TableName: this.tables.entities, IndexName: 'byProject', KeyConditionExpression: '#tp = :tp', ProjectionExpression: '#id',
          ExpressionAttributeNames: { '#tp': 'tp', '#id': 'id' }, ExpressionAttributeValues: { ':tp': { S: `${type}#${target.id}` } },
        } });
      }
      for (const [field, slot] of this.schema.linkSlots(type)) {
        if (!wanted(field) || !(this.schema.site.field(type, field)?.valid_types ?? [target.type]).includes(target.type)) continue;
        out.push({ type, field, input: {
          TableName: this.tables.entities, IndexName: `byLink${slot}`, KeyConditionExpression: '#l = :l', ProjectionExpression: '#id',
          ExpressionAttributeNames: { '#l': `l${slot}`, '#id': 'id' }, ExpressionAttributeValues: { ':l': { S: `${type}.${field}#${target.type}#${target.id}` } },
        } });
      }
    }
    return out;
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

/** The edges a stored state has (edgeId -> refs-table key): the links of the fields its item lists under `eg` (see EntityState.eg). */
function edgeKeys(schema: CachedSchema, s: EntityState): Map<string, Item> {
  const out = new Map<string, Item>();
  for (const name of s.eg ?? []) {
    if (isLinkType(schema.site.dataType(s.type, name))) for (const l of linksOf(s.values[name])) out.set(edgeId(name, l), edgeKey(s.type, s.id, name, l));
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
