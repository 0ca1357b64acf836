// Ordering: `sorts` compiled to sort keys (multi-key, NULLs placed and text compared as the site's rules say, id asc tiebreak) and the record sort itself.
import type { DataType, Sort } from '../site/index.js';
import { fieldValue, parseFieldPath, resolveSingle, type FieldPath } from './field-paths.js';
import { apiFault } from './filters.js';
import { isStoredLink, linkName, visibleLink } from './links.js';
import type { EntityLookup, EntityRecord } from './records.js';
import type { SiteSchema } from '../schema/index.js';
import { DEFAULT_RULES, type RuleValues } from './site-rules.js';

/** The site rules ordering follows (site-rules.ts): NULL placement per direction, text order, entity sort key. */
export type OrderRules = Pick<RuleValues, 'nullsAsc' | 'nullsDesc' | 'textOrder' | 'entityOrder'>;

/** A comparable key: numbers, lower-cased or canonical strings, or an entity's (name, type, id). */
export type SortKey = number | string | EntityKey;
export interface EntityKey {
  name: string;
  type: string;
  id: number;
}

/** Data types a sort cannot use (the request faults; docs/semantics.md "Ordering"). */
export const UNSORTABLE_TYPES: ReadonlySet<DataType> = new Set<DataType>([
  'multi_entity',
  'addressing',
  'tag_list',
  'url',
  'serializable',
  'password',
  'image',
  'summary',
  'pivot_column',
  'calculated',
  'url_template',
]);

export interface CompiledSort {
  path: FieldPath;
  desc: boolean;
  /** NULL keys come before every value (else after), in this sort's direction. */
  nullsFirst: boolean;
  /** The record's key, null for NULL. */
  key: (rec: EntityRecord) => SortKey | null;
  cmp: (a: SortKey, b: SortKey) => number;
}

const cmpPrimitive = (a: SortKey, b: SortKey): number => (a < b ? -1 : a > b ? 1 : 0);
/** Strings by Unicode code point (UTF-16 `<` misorders characters above U+FFFF against U+E000-U+FFFF). */
export function cmpCodePoint(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const sx = x >= 0xd800 && x <= 0xdfff;
    const sy = y >= 0xd800 && y <= 0xdfff;
    if (sx === sy) return x < y ? -1 : 1;
    // A surrogate (part of a code point above U+FFFF) is larger than any BMP code unit it meets.
    return sx ? 1 : -1;
  }
  return a.length - b.length;
}

const cmpString = (a: SortKey, b: SortKey): number => cmpCodePoint(a as string, b as string);
const byName =
  (text: (a: string, b: string) => number) =>
  (a: SortKey, b: SortKey): number => {
    const x = a as EntityKey;
    const y = b as EntityKey;
    if (x.name !== y.name) {
      const c = text(x.name, y.name);
      if (c !== 0) return c;
    }
    if (x.type !== y.type) return x.type < y.type ? -1 : 1;
    return x.id - y.id;
  };
const byTargetId = (a: SortKey, b: SortKey): number => {
  const x = a as EntityKey;
  const y = b as EntityKey;
  if (x.id !== y.id) return x.id - y.id;
  return x.type < y.type ? -1 : x.type > y.type ? 1 : 0;
};

/** How values of a data type become sort keys, and how keys compare, under the site's text and entity rules. */
export function keyerFor(
  dataType: DataType,
  schema: SiteSchema,
  lookup: EntityLookup,
  rules: OrderRules = DEFAULT_RULES,
): {
  toKey: (v: unknown) => SortKey | null;
  cmp: (a: SortKey, b: SortKey) => number;
} {
  const codePoint = rules.textOrder === 'code-point';
  const text = codePoint ? (s: string) => s : (s: string) => s.toLowerCase();
  const textCmp = codePoint ? cmpString : cmpPrimitive;
  // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- every data type not listed sorts as text
  switch (dataType) {
    case 'number':
    case 'float':
    case 'duration':
    case 'percent':
    case 'currency':
    case 'timecode':
      return { toKey: (v) => (typeof v === 'number' ? v : null), cmp: cmpPrimitive };
    case 'checkbox':
      // Unset reads as false (see filters).
      return { toKey: (v) => (v === true ? 1 : 0), cmp: cmpPrimitive };
    case 'date':
    case 'date_time':
      return { toKey: (v) => (typeof v === 'string' ? v : null), cmp: cmpPrimitive };
    case 'entity': {
      // Many rows share a target: one key per target, memoised for this request.
      const memo = new Map<string, Map<number, EntityKey | null>>();
      return {
        toKey: (v) => {
          if (!isStoredLink(v)) return null;
          let byId = memo.get(v.type);
          if (byId === undefined) {
            byId = new Map();
            memo.set(v.type, byId);
          }
          let k = byId.get(v.id);
          if (k === undefined) {
            const l = visibleLink(v, lookup);
            const n = l === null ? null : linkName(schema, l, lookup);
            k = l === null ? null : { name: n === null || n === undefined ? '' : text(String(n)), type: l.type, id: l.id };
            byId.set(v.id, k);
          }
          return k;
        },
        cmp: rules.entityOrder === 'id' ? byTargetId : byName(codePoint ? cmpCodePoint : (a, b) => cmpPrimitive(a, b)),
      };
    }
    default:
      // text-like: lower-cased then compared (case-insensitive), or by code point as stored.
      return {
        toKey: (v) => (typeof v === 'string' ? text(v) : typeof v === 'number' ? String(v) : null),
        cmp: textCmp,
      };
  }
}

/**
 * Compiles `sorts` in request order (first key primary). A path that does not exist is skipped silently, as the
 * site does; a sort on an unsortable type or through a multi-entity link faults.
 */
export function compileSorts(
  schema: SiteSchema,
  lookup: EntityLookup,
  rootType: string,
  sorts: readonly Sort[] | undefined,
  method = 'read',
  rules: OrderRules = DEFAULT_RULES,
): CompiledSort[] {
  const out: CompiledSort[] = [];
  for (const s of sorts ?? []) {
    if (typeof s !== 'object' || s === null || typeof s.field_name !== 'string') throw apiFault(method, 'each sort needs a "field_name"');
    const parsed = parseFieldPath(schema, rootType, s.field_name);
    if (!parsed.ok) continue;
    const path = parsed.path;
    if (path.throughMulti) throw apiFault(method, `${rootType}.${s.field_name}: cannot sort through a multi-entity field`);
    const dt = path.leaf.data_type;
    if (UNSORTABLE_TYPES.has(dt)) throw apiFault(method, `${rootType}.${s.field_name}: cannot sort by a ${dt} field`);
    const { toKey, cmp } = keyerFor(dt, schema, lookup, rules);
    const f = path.leafField;
    const key = path.hops.length === 0 ? (r: EntityRecord) => toKey(fieldValue(r, f)) : (r: EntityRecord) => toKey(resolveSingle(r, path, lookup));
    const desc = s.direction === 'desc';
    out.push({ path, desc, nullsFirst: (desc ? rules.nullsDesc : rules.nullsAsc) === 'first', key, cmp });
  }
  return out;
}

/**
 * The id order a read's `sorts` amount to: `asc` when no sort applies (the default order; sorts on fields that do not
 * exist are skipped), `asc` / `desc` when the first key is the root's own `id` (unique, so later keys never decide);
 * undefined for any other order, or sorts the site faults on.
 */
export function idOrder(schema: SiteSchema, rootType: string, sorts: readonly Sort[] | undefined): 'asc' | 'desc' | undefined {
  let compiled: CompiledSort[];
  try {
    compiled = compileSorts(schema, { get: () => undefined }, rootType, sorts);
  } catch {
    return undefined;
  }
  if (compiled.length === 0) return 'asc';
  const first = compiled[0].path;
  if (first.hops.length || first.leafField !== 'id') return undefined;
  return compiled[0].desc ? 'desc' : 'asc';
}

/**
 * Sorts in place: each key in turn (NULL before or after every value as the sort's `nullsFirst` says, whatever its
 * direction), then id ascending. Keys are computed once per record.
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
      const ka = a.keys[j];
      const kb = b.keys[j];
      if (ka === kb) continue;
      const s = sorts[j];
      if (ka === null) return s.nullsFirst ? -1 : 1;
      if (kb === null) return s.nullsFirst ? 1 : -1;
      const c = s.cmp(ka, kb);
      if (c !== 0) return s.desc ? -c : c;
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
  const nullSign = s.nullsFirst ? -1 : 1;
  const cmp = s.cmp;
  keyed.sort((a, b) => {
    const ka = a.k;
    const kb = b.k;
    if (ka !== kb) {
      if (ka === null) return nullSign;
      if (kb === null) return -nullSign;
      const c = cmp(ka, kb);
      if (c !== 0) return sign * c;
    }
    return a.rec.id - b.rec.id;
  });
  for (let i = 0; i < keyed.length; i++) records[i] = keyed[i].rec;
  return records;
}
