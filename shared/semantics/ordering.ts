// Ordering: `sorts` compiled to sort keys (multi-key, NULLs as PostgreSQL places them, id asc tiebreak) and the record sort itself.
import type { DataType, Sort } from '../site/index.js';
import { fieldValue, parseFieldPath, resolveSingle, type FieldPath } from './field-paths.js';
import { apiFault } from './filters.js';
import { isStoredLink, linkName, visibleLink } from './links.js';
import type { EntityLookup, EntityRecord } from './records.js';
import type { SiteSchema } from '../schema/index.js';

/** A comparable key: numbers, lower-cased or canonical strings, or an entity's (name, type, id). */
export type SortKey = number | string | EntityKey;
export interface EntityKey { name: string; type: string; id: number }

/** Data types a sort cannot use (the request faults; docs/semantics.md "Ordering"). */
export const UNSORTABLE_TYPES: ReadonlySet<DataType> = new Set<DataType>([
  'multi_entity', 'addressing', 'tag_list', 'url', 'serializable', 'password', 'image', 'summary', 'pivot_column',
  'calculated', 'url_template',
]);

export interface CompiledSort {
  path: FieldPath;
  desc: boolean;
  /** The record's key, null for NULL. */
  key: (rec: EntityRecord) => SortKey | null;
  cmp: (a: SortKey, b: SortKey) => number;
}

const cmpPrimitive = (a: SortKey, b: SortKey): number => (a < b ? -1 : a > b ? 1 : 0);
const cmpEntity = (a: SortKey, b: SortKey): number => {
  const x = a as EntityKey; const y = b as EntityKey;
  if (x.name !== y.name) return x.name < y.name ? -1 : 1;
  if (x.type !== y.type) return x.type < y.type ? -1 : 1;
  return x.id - y.id;
};

/** How values of a data type become sort keys, and how keys compare. */
export function keyerFor(dataType: DataType, schema: SiteSchema, lookup: EntityLookup): {
  toKey: (v: unknown) => SortKey | null; cmp: (a: SortKey, b: SortKey) => number;
} {
  switch (dataType) {
    case 'number': case 'float': case 'duration': case 'percent': case 'currency': case 'timecode':
      return { toKey: (v) => (typeof v === 'number' ? v : null), cmp: cmpPrimitive };
    case 'checkbox':
      // Unset reads as false (see filters).
      return { toKey: (v) => (v === true ? 1 : 0), cmp: cmpPrimitive };
    case 'date': case 'date_time':
      return { toKey: (v) => (typeof v === 'string' ? v : null), cmp: cmpPrimitive };
    case 'entity': {
      // Many rows share a target: one key per target, memoised for this request.
      const memo = new Map<string, Map<number, EntityKey | null>>();
      return {
        toKey: (v) => {
          if (!isStoredLink(v)) return null;
          let byId = memo.get(v.type);
          if (byId === undefined) { byId = new Map(); memo.set(v.type, byId); }
          let k = byId.get(v.id);
          if (k === undefined) {
            const l = visibleLink(v, lookup);
            const n = l === null ? null : linkName(schema, l, lookup);
            k = l === null ? null : { name: n === null || n === undefined ? '' : String(n).toLowerCase(), type: l.type, id: l.id };
            byId.set(v.id, k);
          }
          return k;
        },
        cmp: cmpEntity,
      };
    }
    default:
      // text-like: case-insensitive (lower-cased, then code point order).
      return {
        toKey: (v) => (typeof v === 'string' ? v.toLowerCase() : typeof v === 'number' ? String(v) : null),
        cmp: cmpPrimitive,
      };
  }
}

/**
 * Compiles `sorts` in request order (first key primary). A path that does not exist is skipped silently, as the
 * site does; a sort on an unsortable type or through a multi-entity link faults.
 */
export function compileSorts(schema: SiteSchema, lookup: EntityLookup, rootType: string, sorts: readonly Sort[] | undefined, method = 'read'): CompiledSort[] {
  const out: CompiledSort[] = [];
  for (const s of sorts ?? []) {
    if (typeof s !== 'object' || s === null || typeof s.field_name !== 'string') throw apiFault(method, 'each sort needs a "field_name"');
    const parsed = parseFieldPath(schema, rootType, s.field_name);
    if (!parsed.ok) continue;
    const path = parsed.path;
    if (path.throughMulti) throw apiFault(method, `${rootType}.${s.field_name}: cannot sort through a multi-entity field`);
    const dt = path.leaf.data_type;
    if (UNSORTABLE_TYPES.has(dt)) throw apiFault(method, `${rootType}.${s.field_name}: cannot sort by a ${dt} field`);
    const { toKey, cmp } = keyerFor(dt, schema, lookup);
    const f = path.leafField;
    const key = path.hops.length === 0
      ? (r: EntityRecord) => toKey(fieldValue(r, f))
      : (r: EntityRecord) => toKey(resolveSingle(r, path, lookup));
    out.push({ path, desc: s.direction === 'desc', key, cmp });
  }
  return out;
}

/**
 * Sorts in place: each key in turn (NULL sorts as larger than every value: last ascending, first descending,
 * PostgreSQL's default), then id ascending. Keys are computed once per record.
 */
export function sortRecords(records: EntityRecord[], sorts: readonly CompiledSort[]): EntityRecord[] {
  if (sorts.length === 0) return records.sort(byId);
  if (sorts.length === 1) return sortByOneKey(records, sorts[0]);
  const n = sorts.length;
  const keyed = records.map((rec) => {
    const keys = new Array<SortKey | null>(n);
    for (let j = 0; j < n; j++) keys[j] = sorts[j].key(rec);
    return { rec, keys };
  });
  keyed.sort((a, b) => {
    for (let j = 0; j < n; j++) {
      const ka = a.keys[j]; const kb = b.keys[j];
      if (ka === kb) continue;
      let c: number;
      if (ka === null) c = 1;
      else if (kb === null) c = -1;
      else c = sorts[j].cmp(ka, kb);
      if (c !== 0) return sorts[j].desc ? -c : c;
    }
    return a.rec.id - b.rec.id;
  });
  for (let i = 0; i < keyed.length; i++) records[i] = keyed[i].rec;
  return records;
}

const byId = (a: EntityRecord, b: EntityRecord): number => a.id - b.id;

/** The common single-key case without a per-record key array. */
function sortByOneKey(records: EntityRecord[], s: CompiledSort): EntityRecord[] {
  const keyed = records.map((rec) => ({ rec, k: s.key(rec) }));
  const sign = s.desc ? -1 : 1;
  const cmp = s.cmp;
  keyed.sort((a, b) => {
    const ka = a.k; const kb = b.k;
    if (ka !== kb) {
      const c = ka === null ? 1 : kb === null ? -1 : cmp(ka, kb);
      if (c !== 0) return sign * c;
    }
    return a.rec.id - b.rec.id;
  });
  for (let i = 0; i < keyed.length; i++) records[i] = keyed[i].rec;
  return records;
}
