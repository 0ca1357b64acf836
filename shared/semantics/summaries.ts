// Summaries: `summarize` aggregates (record_count, count, sum, average, maximum, minimum, earliest, latest, checked, unchecked) and exact/entity grouping.
import type { DataType, SummaryParams } from '../site/index.js';
import { fieldValue, parseFieldPath, resolveSingle, type FieldPath } from './field-paths.js';
import { apiFault } from './filters.js';
import { visibleLink, visibleLinks, wireLink } from './links.js';
import { keyerFor, type SortKey } from './ordering.js';
import type { EntityLookup, EntityRecord } from './records.js';
import type { SiteSchema } from '../schema/index.js';

export const SUMMARY_TYPES = [
  'record_count',
  'count',
  'sum',
  'maximum',
  'minimum',
  'average',
  'earliest',
  'latest',
  'percentage',
  'status_percentage',
  'status_list',
  'checked',
  'unchecked',
] as const;
/** Summary types this model computes; the others fault (docs/semantics.md "Summaries"). */
export const SUPPORTED_SUMMARY_TYPES: ReadonlySet<string> = new Set([
  'record_count',
  'count',
  'sum',
  'maximum',
  'minimum',
  'average',
  'earliest',
  'latest',
  'checked',
  'unchecked',
]);
/** Grouping types this model computes (on an entity field, `exact` groups by the linked entity). */
export const SUPPORTED_GROUPING_TYPES: ReadonlySet<string> = new Set(['exact']);

const NUMERIC = new Set<DataType>(['number', 'float', 'duration', 'percent', 'currency', 'timecode']);
const DATES = new Set<DataType>(['date', 'date_time']);
const UNGROUPABLE = new Set<DataType>([
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

type Getter = (rec: EntityRecord) => unknown;
interface CompiledSummary {
  field: string;
  type: string;
  get: Getter;
  dataType: DataType;
}
interface CompiledGrouping {
  field: string;
  desc: boolean;
  get: Getter;
  dataType: DataType;
  toKey: (v: unknown) => SortKey | null;
  cmp: (a: SortKey, b: SortKey) => number;
}

export interface SummaryGroup {
  group_name: string;
  group_value: unknown;
  summaries: Record<string, unknown>;
  groups?: SummaryGroup[];
}
export interface Summarized {
  summaries: Record<string, unknown>;
  groups: SummaryGroup[];
}

function getterFor(path: FieldPath, lookup: EntityLookup): Getter {
  const f = path.leafField;
  return path.hops.length === 0 ? (r) => fieldValue(r, f) : (r) => resolveSingle(r, path, lookup);
}

function parsePath(schema: SiteSchema, type: string, field: unknown, method: string): FieldPath {
  if (typeof field !== 'string' || field === '') throw apiFault(method, 'each summary and grouping needs a "field"');
  const p = parseFieldPath(schema, type, field);
  if (!p.ok) throw apiFault(method, p.message);
  if (p.path.throughMulti) throw apiFault(method, `${type}.${field}: cannot summarize through a multi-entity field`);
  return p.path;
}

/** Validates and compiles summaries and grouping; throws ShotgunFault on anything unsupported. */
export function compileSummaries(
  schema: SiteSchema,
  lookup: EntityLookup,
  params: SummaryParams,
  method = 'summarize',
): {
  summaries: CompiledSummary[];
  grouping: CompiledGrouping[];
} {
  const type = params.type;
  if (!Array.isArray(params.summaries)) throw apiFault(method, '"summaries" must be a list');
  const seen = new Set<string>();
  const summaries: CompiledSummary[] = [];
  for (const s of params.summaries) {
    const path = parsePath(schema, type, s?.field, method);
    const dt = path.leaf.data_type;
    const label = `${type}.${s.field}`;
    if (seen.has(s.field)) throw apiFault(method, `${label}: only one summary per field`);
    seen.add(s.field);
    if (!(SUMMARY_TYPES as readonly string[]).includes(s.type)) throw apiFault(method, `${label}: unknown summary type '${String(s.type)}'`);
    if (!SUPPORTED_SUMMARY_TYPES.has(s.type)) throw apiFault(method, `${label}: summary type '${s.type}' is not supported`);
    const ok =
      s.type === 'record_count' || s.type === 'count'
        ? true
        : s.type === 'sum' || s.type === 'average'
          ? NUMERIC.has(dt)
          : s.type === 'maximum' || s.type === 'minimum'
            ? NUMERIC.has(dt) || DATES.has(dt)
            : s.type === 'earliest' || s.type === 'latest'
              ? DATES.has(dt)
              : dt === 'checkbox';
    if (!ok) throw apiFault(method, `${label}: summary type '${s.type}' is not valid for a ${dt} field`);
    summaries.push({ field: s.field, type: s.type, get: getterFor(path, lookup), dataType: dt });
  }
  const grouping: CompiledGrouping[] = [];
  for (const g of params.grouping ?? []) {
    const path = parsePath(schema, type, g?.field, method);
    const dt = path.leaf.data_type;
    const label = `${type}.${g.field}`;
    if (!SUPPORTED_GROUPING_TYPES.has(g.type)) throw apiFault(method, `${label}: grouping type '${String(g.type)}' is not supported`);
    if (UNGROUPABLE.has(dt)) throw apiFault(method, `${label}: cannot group by a ${dt} field`);
    const { toKey, cmp } = keyerFor(dt, schema, lookup);
    grouping.push({ field: g.field, desc: g.direction === 'desc', get: getterFor(path, lookup), dataType: dt, toKey, cmp });
  }
  return { summaries, grouping };
}

function summarize(recs: readonly EntityRecord[], summaries: readonly CompiledSummary[], lookup: EntityLookup): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of summaries) out[s.field] = aggregate(recs, s, lookup);
  return out;
}

function isEmpty(v: unknown, dt: DataType, lookup: EntityLookup): boolean {
  if (dt === 'entity') return visibleLink(v, lookup) === null;
  if (dt === 'multi_entity' || dt === 'addressing') return visibleLinks(v, lookup).length === 0;
  if (Array.isArray(v)) return v.length === 0;
  return v === null || v === undefined;
}

function aggregate(recs: readonly EntityRecord[], s: CompiledSummary, lookup: EntityLookup): unknown {
  switch (s.type) {
    case 'record_count':
      return recs.length;
    case 'count': {
      let n = 0;
      for (const r of recs) if (!isEmpty(s.get(r), s.dataType, lookup)) n++;
      return n;
    }
    case 'checked': {
      let n = 0;
      for (const r of recs) if (s.get(r) === true) n++;
      return n;
    }
    case 'unchecked': {
      let n = 0;
      for (const r of recs) if (s.get(r) !== true) n++;
      return n;
    }
    case 'sum':
    case 'average': {
      let sum = 0;
      let n = 0;
      for (const r of recs) {
        const v = s.get(r);
        if (typeof v === 'number') {
          sum += v;
          n++;
        }
      }
      return s.type === 'sum' ? sum : n === 0 ? null : sum / n;
    }
    default: {
      // maximum / minimum / earliest / latest over numbers or canonical date strings.
      const max = s.type === 'maximum' || s.type === 'latest';
      let best: number | string | null = null;
      for (const r of recs) {
        const v = s.get(r);
        if (typeof v !== 'number' && typeof v !== 'string') continue;
        if (best === null || (max ? v > best : v < best)) best = v;
      }
      return best;
    }
  }
}

interface Bucket {
  key: string;
  value: unknown;
  sortKey: SortKey | null;
  recs: EntityRecord[];
}

function bucketKey(v: unknown, dt: DataType, lookup: EntityLookup): { key: string; value: unknown } {
  if (dt === 'entity') {
    const l = visibleLink(v, lookup);
    return l === null ? { key: 'null', value: null } : { key: `e:${l.type}#${l.id}`, value: l };
  }
  if (v === null || v === undefined) return { key: 'null', value: null };
  return { key: `${typeof v}:${String(v)}`, value: v };
}

function groupLevel(
  schema: SiteSchema,
  lookup: EntityLookup,
  recs: readonly EntityRecord[],
  level: number,
  grouping: readonly CompiledGrouping[],
  summaries: readonly CompiledSummary[],
): SummaryGroup[] {
  const g = grouping[level];
  const buckets = new Map<string, Bucket>();
  for (const r of recs) {
    const v = g.get(r);
    const { key, value } = bucketKey(v, g.dataType, lookup);
    let b = buckets.get(key);
    if (b === undefined) {
      b = { key, value, sortKey: g.toKey(value), recs: [] };
      buckets.set(key, b);
    }
    b.recs.push(r);
  }
  const ordered = [...buckets.values()].sort((a, b) => {
    let c: number;
    if (a.sortKey === null && b.sortKey === null) c = 0;
    else if (a.sortKey === null) c = 1;
    else if (b.sortKey === null) c = -1;
    else c = g.cmp(a.sortKey, b.sortKey);
    if (c === 0) c = a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
    return g.desc ? -c : c;
  });
  return ordered.map((b) => {
    let name: string;
    let value: unknown;
    if (g.dataType === 'entity' && b.value !== null) {
      const wl = wireLink(schema, b.value as { type: string; id: number }, lookup);
      name = wl.name === null || wl.name === undefined ? '' : String(wl.name);
      value = { ...wl, valid: 'valid' };
    } else {
      name = b.value === null ? '' : String(b.value);
      value = b.value;
    }
    const group: SummaryGroup = { group_name: name, group_value: value, summaries: summarize(b.recs, summaries, lookup) };
    if (level + 1 < grouping.length) group.groups = groupLevel(schema, lookup, b.recs, level + 1, grouping, summaries);
    return group;
  });
}

/** Summaries over `recs` (already filtered), grouped per `grouping`. */
export function computeSummaries(
  schema: SiteSchema,
  lookup: EntityLookup,
  recs: readonly EntityRecord[],
  compiled: { summaries: CompiledSummary[]; grouping: CompiledGrouping[] },
): Summarized {
  return {
    summaries: summarize(recs, compiled.summaries, lookup),
    groups: compiled.grouping.length === 0 ? [] : groupLevel(schema, lookup, recs, 0, compiled.grouping, compiled.summaries),
  };
}
