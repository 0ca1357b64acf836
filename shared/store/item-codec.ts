// The item codec: values, links and whole entities to DynamoDB items (inline or spilled into gzip chunks) and back, and the edges a stored state implies.
import { gzipSync } from 'node:zlib';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { CachedSchema } from '../schema/index.js';
import {
  CHUNK_BYTES,
  chunkPrefix,
  edgeId,
  edgeKey,
  ENTITY_SK,
  entityPk,
  type EntityState,
  INLINE_LIMIT,
  type Item,
  type LinkInfo,
  type LinkValue,
  padId,
  type StoredEntity,
} from './item-layout.js';

export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

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

export const isLinkType = (dt: string | undefined): dt is 'entity' | 'multi_entity' => dt === 'entity' || dt === 'multi_entity';

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
export function toLink(v: unknown, prev: Map<string, LinkValue>): LinkValue | null {
  if (!isObj(v) || typeof v.type !== 'string' || typeof v.id !== 'number') return null;
  const before = prev.get(`${v.type}#${v.id}`);
  const l: LinkValue = { type: v.type, id: v.id, name: 'name' in v ? (v.name ?? null) : (before?.name ?? null) };
  if (before?.retired) l.retired = true;
  return l;
}

export function linksOf(v: unknown): LinkValue[] {
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
    pk: { S: pk },
    sk: { S: ENTITY_SK },
    t: { S: s.type },
    id: { N: String(s.id) },
    r: { BOOL: s.retired },
    v: { N: String(s.v) },
    b: { N: String(s.b) },
    w: { N: String(s.w) },
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
    if (!spill.has(name)) {
      f[name] = av;
      continue;
    }
    const data = gzipSync(Buffer.from(JSON.stringify(s.values[name]), 'utf8'));
    const n = Math.max(1, Math.ceil(data.length / CHUNK_BYTES));
    for (let i = 0; i < n; i++) {
      chunks.push({
        pk: { S: pk },
        sk: { S: `${chunkPrefix(name, gen)}${String(i).padStart(4, '0')}` },
        d: { B: data.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES) },
      });
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
    type,
    id: Number(item.id.N),
    retired: item.r?.BOOL ?? false,
    values,
    v: Number(item.v.N),
    b: Number(item.b.N),
    w: Number(item.w.N),
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
    if (!isLinkType(dt)) {
      values[name] = v;
      continue;
    }
    for (const l of linksOf(v)) links.push({ type: l.type, id: l.id, name: l.name, retired: l.retired === true });
    values[name] =
      dt === 'entity'
        ? v === null
          ? null
          : { type: (v as LinkValue).type, id: (v as LinkValue).id }
        : (v as LinkValue[]).map((l) => ({ type: l.type, id: l.id }));
  }
  return { record: { type: s.type, id: s.id, retired: s.retired, values }, version: s.v, links };
}

export function cloneState(s: EntityState): EntityState {
  return { ...s, values: { ...s.values }, fv: { ...s.fv } };
}

/** The edges a stored state has (edgeId -> refs-table key): the links of the fields its item lists under `eg` (see EntityState.eg). */
export function edgeKeys(schema: CachedSchema, s: EntityState): Map<string, Item> {
  const out = new Map<string, Item>();
  for (const name of s.eg ?? []) {
    if (isLinkType(schema.site.dataType(s.type, name))) for (const l of linksOf(s.values[name])) out.set(edgeId(name, l), edgeKey(s.type, s.id, name, l));
  }
  return out;
}

export function linkMap(schema: CachedSchema, s: EntityState): Map<string, LinkValue> {
  const m = new Map<string, LinkValue>();
  for (const [name, v] of Object.entries(s.values)) {
    if (!isLinkType(schema.site.dataType(s.type, name))) continue;
    for (const l of linksOf(v)) m.set(`${l.type}#${l.id}`, l);
  }
  return m;
}
