// Filters: the operator table per data type, and compiling a wire filter group into one record predicate (validated once, closures per row).
import { DATE_RE, DATE_TIME_RE, formatDateTime, type DataType } from '../site/index.js';
import { ErrorCode, ShotgunFault } from '../site/index.js';
import { existsLeaf, parseFieldPath, resolveSingle, type FieldPath } from './field-paths.js';
import { identifierValue, isStoredLink, visibleLink, visibleLinks, type StoredLink } from './links.js';
import type { EntityLookup, EntityRecord } from './records.js';
import { calendarWindow, DATE_UNITS, relativeWindow, type CalendarUnit, type DateUnit } from './relative-dates.js';
import type { SiteSchema } from '../schema/index.js';
import { isGroup, type Condition, type FilterGroup } from '../site/index.js';

export const OPERATORS = [
  'is', 'is_not', 'less_than', 'greater_than', 'contains', 'not_contains', 'starts_with', 'ends_with',
  'between', 'not_between', 'in', 'not_in', 'in_last', 'not_in_last', 'in_next', 'not_in_next',
  'in_calendar_day', 'in_calendar_week', 'in_calendar_month', 'in_calendar_year',
  'type_is', 'type_is_not', 'name_contains', 'name_not_contains', 'name_starts_with', 'name_ends_with', 'name_is',
] as const;
export type Operator = (typeof OPERATORS)[number];

const ops = (s: string): readonly Operator[] => Object.freeze(s.split(' ') as Operator[]);
const NUMBER_OPS = ops('is is_not less_than greater_than between not_between in not_in');
const MEASURE_OPS = ops('is is_not greater_than less_than between in not_in');
const DATE_OPS = ops('is is_not greater_than less_than in_last not_in_last in_next not_in_next in_calendar_day in_calendar_week in_calendar_month in_calendar_year between in not_in');
const ENUM_OPS = ops('is is_not in not_in');
const NONE: readonly Operator[] = Object.freeze([]);

/**
 * Valid filter operators per data type: the official table (python-api docs/reference.rst "Valid Operators By
 * Data Type"), plus the choices docs/semantics.md lists (entity_type/color/uuid/footage, name_starts_with and
 * name_ends_with on links, name_is on tag_list for the table's "name_id"). The `id` field is a number.
 */
export const OPERATORS_BY_TYPE: Readonly<Record<DataType, readonly Operator[]>> = Object.freeze({
  text: ops('is is_not contains not_contains starts_with ends_with in not_in'),
  number: NUMBER_OPS,
  currency: NUMBER_OPS,
  float: MEASURE_OPS,
  duration: MEASURE_OPS,
  percent: MEASURE_OPS,
  timecode: MEASURE_OPS,
  date: DATE_OPS,
  date_time: DATE_OPS,
  checkbox: ops('is is_not'),
  list: ENUM_OPS,
  status_list: ENUM_OPS,
  entity_type: ENUM_OPS,
  color: ENUM_OPS,
  uuid: ENUM_OPS,
  footage: ENUM_OPS,
  entity: ops('is is_not type_is type_is_not name_contains name_not_contains name_starts_with name_ends_with name_is in not_in'),
  multi_entity: ops('is is_not type_is type_is_not name_contains name_not_contains name_starts_with name_ends_with in not_in'),
  addressing: ops('is is_not contains not_contains in type_is type_is_not name_contains name_not_contains name_starts_with name_ends_with'),
  tag_list: ops('is is_not name_contains name_not_contains name_is'),
  image: ops('is is_not'),
  url: NONE,
  serializable: NONE,
  password: NONE,
  summary: NONE,
  pivot_column: NONE,
  calculated: NONE,
  url_template: NONE,
});

export function operatorsFor(dataType: DataType): readonly Operator[] {
  return OPERATORS_BY_TYPE[dataType] ?? NONE;
}

export function isOperator(s: string): s is Operator {
  return (OPERATORS as readonly string[]).includes(s);
}

/** Negated operators are the exact complement of their positive form (docs/semantics.md "Negation and NULL"). */
export const NEGATIONS: Readonly<Partial<Record<Operator, Operator>>> = Object.freeze({
  is_not: 'is', not_in: 'in', not_contains: 'contains', not_between: 'between', not_in_last: 'in_last',
  not_in_next: 'in_next', type_is_not: 'type_is', name_not_contains: 'name_contains',
});

export type RecordPredicate = (rec: EntityRecord) => boolean;
type ValuePredicate = (v: unknown) => boolean;

export const MATCH_ALL: RecordPredicate = () => true;

export interface FilterEnv {
  schema: SiteSchema;
  lookup: EntityLookup;
  /** The clock for relative date operators. */
  now: Date;
  /** The RPC method named in fault messages: "read", "summarize". */
  method: string;
}

export function apiFault(method: string, message: string): ShotgunFault {
  return new ShotgunFault(`API ${method}() ${message}`, ErrorCode.API);
}

/** Compiles a wire filter group into one predicate; throws ShotgunFault on anything the site rejects. */
export function compileFilters(env: FilterEnv, rootType: string, group: FilterGroup): RecordPredicate {
  return compileGroup(env, rootType, group, 0);
}

const MAX_DEPTH = 64;

function compileGroup(env: FilterEnv, rootType: string, group: FilterGroup, depth: number): RecordPredicate {
  if (depth > MAX_DEPTH) throw apiFault(env.method, 'filters are nested too deeply');
  if (typeof group !== 'object' || group === null || !Array.isArray(group.conditions)) {
    throw apiFault(env.method, 'filters must be {"logical_operator", "conditions": [...]}');
  }
  const op = group.logical_operator;
  if (op !== 'and' && op !== 'or') throw apiFault(env.method, `unknown logical_operator '${String(op)}' (expected and, or)`);
  const parts: RecordPredicate[] = [];
  for (const c of group.conditions) {
    if (typeof c !== 'object' || c === null) throw apiFault(env.method, 'a filter condition must be an object');
    parts.push(isGroup(c) ? compileGroup(env, rootType, c, depth + 1) : compileCondition(env, rootType, c));
  }
  // An empty group, `and` or `or`, filters nothing out (docs/semantics.md "Groups").
  if (parts.length === 0) return MATCH_ALL;
  if (parts.length === 1) return parts[0];
  if (op === 'and') {
    if (parts.length === 2) { const [a, b] = parts; return (r) => a(r) && b(r); }
    return (r) => { for (let i = 0; i < parts.length; i++) if (!parts[i](r)) return false; return true; };
  }
  if (parts.length === 2) { const [a, b] = parts; return (r) => a(r) || b(r); }
  return (r) => { for (let i = 0; i < parts.length; i++) if (parts[i](r)) return true; return false; };
}

function compileCondition(env: FilterEnv, rootType: string, c: Condition): RecordPredicate {
  if (typeof c.path !== 'string' || typeof c.relation !== 'string' || !Array.isArray(c.values)) {
    throw apiFault(env.method, 'a filter condition needs "path", "relation" and "values" (an array)');
  }
  const parsed = parseFieldPath(env.schema, rootType, c.path);
  if (!parsed.ok) throw apiFault(env.method, parsed.message);
  const path = parsed.path;
  const label = `${rootType}.${c.path}`;
  const dataType = path.leaf.data_type;
  if (!isOperator(c.relation)) throw apiFault(env.method, `${label}: unknown filter operator '${c.relation}'`);
  const allowed = operatorsFor(dataType);
  if (allowed.length === 0) throw apiFault(env.method, `${label}: filtering on ${dataType} fields is not supported`);
  if (!allowed.includes(c.relation)) {
    throw apiFault(env.method, `${label}: operator '${c.relation}' is not valid for a ${dataType} field`);
  }
  const positive = NEGATIONS[c.relation] ?? c.relation;
  const negate = positive !== c.relation;
  const vp = compileValuePredicate(env, { label, dataType, op: positive, shownOp: c.relation, values: c.values, path });
  let pred: RecordPredicate;
  if (path.hops.length === 0) {
    const f = path.leafField;
    pred = f === 'id' ? (r) => vp(r.id) : (r) => { const v = r.values[f]; return vp(v === undefined ? null : v); };
  } else if (!path.throughMulti) {
    const lookup = env.lookup;
    pred = (r) => vp(resolveSingle(r, path, lookup));
  } else {
    const lookup = env.lookup;
    pred = (r) => existsLeaf(r, path, lookup, vp);
  }
  return negate ? (r) => !pred(r) : pred;
}

interface LeafSpec {
  label: string;
  dataType: DataType;
  /** The positive operator evaluated; the caller negates. */
  op: Operator;
  /** The operator as the request wrote it, for messages. */
  shownOp: Operator;
  values: unknown[];
  path: FieldPath;
}

type Category = 'string' | 'number' | 'date' | 'date_time' | 'checkbox' | 'image' | 'entity' | 'multi' | 'tag_list';

function categoryOf(dt: DataType): Category {
  switch (dt) {
    case 'number': case 'float': case 'duration': case 'percent': case 'currency': case 'timecode': return 'number';
    case 'date': return 'date';
    case 'date_time': return 'date_time';
    case 'checkbox': return 'checkbox';
    case 'image': return 'image';
    case 'entity': return 'entity';
    case 'multi_entity': case 'addressing': return 'multi';
    case 'tag_list': return 'tag_list';
    default: return 'string';
  }
}

function compileValuePredicate(env: FilterEnv, s: LeafSpec): ValuePredicate {
  const fail = (msg: string): never => { throw apiFault(env.method, `${s.label}: ${msg}`); };
  const arity = (n: number): void => {
    if (s.values.length !== n) fail(`'${s.shownOp}' expects ${n} value${n === 1 ? '' : 's'}, got ${s.values.length}`);
  };
  switch (categoryOf(s.dataType)) {
    case 'string': return stringPredicate(s, fail, arity);
    case 'number': return numberPredicate(s, fail, arity);
    case 'date': case 'date_time': return datePredicate(env, s, fail, arity);
    case 'checkbox': {
      arity(1);
      const v = s.values[0];
      if (v === null) fail('checkbox fields cannot be filtered with None');
      if (typeof v !== 'boolean') fail(`'${s.shownOp}' expects true or false`);
      // Unset checkboxes read as false (the site stores no NULL checkbox).
      return v ? (x) => x === true : (x) => x !== true;
    }
    case 'image': {
      arity(1);
      if (s.values[0] !== null) fail(`image fields can only be filtered with '${s.shownOp}' None`);
      return isNull;
    }
    case 'entity': return entityPredicate(env, s, fail, arity);
    case 'multi': return multiPredicate(env, s, fail, arity);
    case 'tag_list': return tagListPredicate(env, s, fail, arity);
  }
}

type Fail = (msg: string) => never;
type Arity = (n: number) => void;

const isNull: ValuePredicate = (x) => x === null || x === undefined;
const NEVER: ValuePredicate = () => false;

// ---- text-like: text, list, status_list, entity_type, color, uuid, footage. Case-insensitive throughout.

function stringPredicate(s: LeafSpec, fail: Fail, arity: Arity): ValuePredicate {
  const allowNumbers = s.dataType === 'footage';
  const checkValue = (v: unknown, nullable: boolean): string | null => {
    if (v === null) { if (nullable) return null; fail(`'${s.shownOp}' expects a string, got None`); }
    if (typeof v === 'string') return v.toLowerCase();
    if (allowNumbers && typeof v === 'number') return String(v);
    return fail(`'${s.shownOp}' expects a string value, got ${describe(v)}`);
  };
  const lower = (x: unknown): string | null => (typeof x === 'string' ? x.toLowerCase() : allowNumbers && typeof x === 'number' ? String(x) : null);
  switch (s.op) {
    case 'is': {
      arity(1);
      const want = checkValue(s.values[0], true);
      if (want === null) return isNull;
      return (x) => lower(x) === want;
    }
    case 'in': {
      const set = new Set<string>();
      let withNull = false;
      for (const v of s.values) { const w = checkValue(v, true); if (w === null) withNull = true; else set.add(w); }
      return (x) => { if (x === null || x === undefined) return withNull; const l = lower(x); return l !== null && set.has(l); };
    }
    case 'contains': case 'starts_with': case 'ends_with': {
      arity(1);
      const want = checkValue(s.values[0], false) as string;
      if (s.op === 'contains') return (x) => typeof x === 'string' && x.toLowerCase().includes(want);
      if (s.op === 'starts_with') return (x) => typeof x === 'string' && x.toLowerCase().startsWith(want);
      return (x) => typeof x === 'string' && x.toLowerCase().endsWith(want);
    }
    default: return unsupported(s, fail);
  }
}

// ---- numbers: number (and id), float, duration, percent, currency, timecode.

function numberPredicate(s: LeafSpec, fail: Fail, arity: Arity): ValuePredicate {
  const num = (v: unknown, nullable: boolean): number | null => {
    if (v === null && nullable) return null;
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    return fail(`'${s.shownOp}' expects a number${nullable ? ' or None' : ''}, got ${describe(v)}`);
  };
  switch (s.op) {
    case 'is': {
      arity(1);
      const want = num(s.values[0], true);
      return want === null ? isNull : (x) => x === want;
    }
    case 'in': {
      const set = new Set<number>();
      let withNull = false;
      for (const v of s.values) { const w = num(v, true); if (w === null) withNull = true; else set.add(w); }
      return (x) => (typeof x === 'number' ? set.has(x) : withNull && (x === null || x === undefined));
    }
    case 'less_than': case 'greater_than': {
      arity(1);
      const b = num(s.values[0], true);
      // NULL never satisfies an ordering comparison, on either side.
      if (b === null) return NEVER;
      return s.op === 'less_than' ? (x) => typeof x === 'number' && x < b : (x) => typeof x === 'number' && x > b;
    }
    case 'between': {
      const [lo, hi] = betweenBounds(s, fail, (v) => num(v, true));
      return (x) => typeof x === 'number' && (lo === null || x >= lo) && (hi === null || x <= hi);
    }
    default: return unsupported(s, fail);
  }
}

function betweenBounds<T>(s: LeafSpec, fail: Fail, conv: (v: unknown) => T | null): [T | null, T | null] {
  let vals = s.values;
  // Accept both [lo, hi] and [[lo, hi]] (a client that did not unwrap the pair).
  if (vals.length === 1 && Array.isArray(vals[0])) vals = vals[0] as unknown[];
  if (vals.length !== 2) fail(`'${s.shownOp}' expects 2 values [low, high], got ${vals.length}`);
  return [conv(vals[0]), conv(vals[1])];
}

// ---- date ("YYYY-MM-DD") and date_time ("YYYY-MM-DDTHH:MM:SSZ"): canonical strings compare as strings.

const LOOSE_DATE_TIME_RE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** A filter value for a date or date_time field in the stored canonical form; undefined when not a date. */
export function normalizeDateValue(v: unknown, forDate: boolean): string | undefined {
  if (typeof v !== 'string') return undefined;
  let dt: string | undefined;
  if (DATE_TIME_RE.test(v)) dt = v;
  else if (DATE_RE.test(v)) {
    if (Number.isNaN(Date.parse(`${v}T00:00:00Z`))) return undefined;
    return forDate ? v : `${v}T00:00:00Z`;
  } else if (LOOSE_DATE_TIME_RE.test(v)) {
    const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(v);
    const ms = Date.parse(hasZone ? v.replace(' ', 'T') : `${v.replace(' ', 'T')}Z`);
    if (Number.isNaN(ms)) return undefined;
    dt = formatDateTime(new Date(Math.floor(ms / 1000) * 1000));
  }
  if (dt === undefined || Number.isNaN(Date.parse(dt))) return undefined;
  return forDate ? dt.slice(0, 10) : dt;
}

function datePredicate(env: FilterEnv, s: LeafSpec, fail: Fail, arity: Arity): ValuePredicate {
  const forDate = s.dataType === 'date';
  const kind = forDate ? 'a date "YYYY-MM-DD"' : 'a date_time "YYYY-MM-DDTHH:MM:SSZ"';
  const conv = (v: unknown, nullable: boolean): string | null => {
    if (v === null && nullable) return null;
    const d = normalizeDateValue(v, forDate);
    return d ?? fail(`'${s.shownOp}' expects ${kind}${nullable ? ' or None' : ''}, got ${describe(v)}`);
  };
  const inWindow = (from: string, to: string): ValuePredicate => (x) => typeof x === 'string' && x >= from && x <= to;
  switch (s.op) {
    case 'is': {
      arity(1);
      const want = conv(s.values[0], true);
      return want === null ? isNull : (x) => x === want;
    }
    case 'in': {
      const set = new Set<string>();
      let withNull = false;
      for (const v of s.values) { const w = conv(v, true); if (w === null) withNull = true; else set.add(w); }
      return (x) => (typeof x === 'string' ? set.has(x) : withNull && (x === null || x === undefined));
    }
    case 'less_than': case 'greater_than': {
      arity(1);
      const b = conv(s.values[0], true);
      if (b === null) return NEVER;
      return s.op === 'less_than' ? (x) => typeof x === 'string' && x < b : (x) => typeof x === 'string' && x > b;
    }
    case 'between': {
      const [lo, hi] = betweenBounds(s, fail, (v) => conv(v, true));
      return (x) => typeof x === 'string' && (lo === null || x >= lo) && (hi === null || x <= hi);
    }
    case 'in_last': case 'in_next': {
      let vals = s.values;
      if (vals.length === 1 && Array.isArray(vals[0])) vals = vals[0] as unknown[];
      const [n, unitRaw] = vals;
      if (vals.length !== 2 || typeof n !== 'number' || !Number.isInteger(n) || typeof unitRaw !== 'string') {
        fail(`'${s.shownOp}' expects [n, "HOUR"|"DAY"|"WEEK"|"MONTH"|"YEAR"] with an integer n`);
      }
      const unit = (unitRaw as string).toUpperCase();
      if (!(DATE_UNITS as readonly string[]).includes(unit)) fail(`'${s.shownOp}' unit must be one of ${DATE_UNITS.join(', ')}, got '${String(unitRaw)}'`);
      const w = relativeWindow(s.op, n as number, unit as DateUnit, env.now, forDate);
      return inWindow(w.from, w.to);
    }
    case 'in_calendar_day': case 'in_calendar_week': case 'in_calendar_month': case 'in_calendar_year': {
      arity(1);
      const off = s.values[0];
      if (typeof off !== 'number' || !Number.isInteger(off)) fail(`'${s.shownOp}' expects an integer offset, got ${describe(off)}`);
      const w = calendarWindow(s.op.slice('in_calendar_'.length) as CalendarUnit, off as number, env.now, forDate);
      return inWindow(w.from, w.to);
    }
    default: return unsupported(s, fail);
  }
}

// ---- links. Filter values match on type + id; other keys (name, ...) are ignored.

function linkValue(s: LeafSpec, fail: Fail, v: unknown): StoredLink | null {
  if (v === null) return null;
  if (typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (typeof o.type === 'string' && typeof o.id === 'number' && Number.isInteger(o.id)) return { type: o.type, id: o.id };
  }
  return fail(`'${s.shownOp}' expects an entity {"type", "id"} or None, got ${describe(v)}`);
}

function typeValue(s: LeafSpec, fail: Fail, v: unknown): string | null {
  if (v === null || typeof v === 'string') return v;
  return fail(`'${s.shownOp}' expects an entity type name or None, got ${describe(v)}`);
}

function nameValue(s: LeafSpec, fail: Fail, v: unknown): string {
  if (typeof v === 'string') return v.toLowerCase();
  return fail(`'${s.shownOp}' expects a string, got ${describe(v)}`);
}

function nameTest(op: Operator, want: string): (name: string) => boolean {
  switch (op) {
    case 'name_contains': return (n) => n.includes(want);
    case 'name_starts_with': return (n) => n.startsWith(want);
    case 'name_ends_with': return (n) => n.endsWith(want);
    default: return (n) => n === want;
  }
}

/** The lower-cased name of a link's target (its identifier value), null when unknown or unset. */
function lowerName(schema: SiteSchema, lookup: EntityLookup, l: StoredLink): string | null {
  const t = lookup.get(l.type, l.id);
  if (t === undefined) return null;
  const n = identifierValue(schema, t);
  return n === null || n === undefined ? null : String(n).toLowerCase();
}

function entityPredicate(env: FilterEnv, s: LeafSpec, fail: Fail, arity: Arity): ValuePredicate {
  const { lookup, schema } = env;
  switch (s.op) {
    case 'is': {
      arity(1);
      const want = linkValue(s, fail, s.values[0]);
      if (want === null) return (x) => visibleLink(x, lookup) === null;
      return (x) => { const l = visibleLink(x, lookup); return l !== null && l.id === want.id && l.type === want.type; };
    }
    case 'in': {
      const { keys, withNull } = linkSet(s, fail);
      return (x) => { const l = visibleLink(x, lookup); return l === null ? withNull : keys.has(`${l.type}#${l.id}`); };
    }
    case 'type_is': {
      arity(1);
      const t = typeValue(s, fail, s.values[0]);
      if (t === null) return (x) => visibleLink(x, lookup) === null;
      return (x) => visibleLink(x, lookup)?.type === t;
    }
    case 'name_contains': case 'name_starts_with': case 'name_ends_with': case 'name_is': {
      arity(1);
      const test = nameTest(s.op, nameValue(s, fail, s.values[0]));
      return (x) => { const l = visibleLink(x, lookup); if (l === null) return false; const n = lowerName(schema, lookup, l); return n !== null && test(n); };
    }
    default: return unsupported(s, fail);
  }
}

function linkSet(s: LeafSpec, fail: Fail): { keys: Set<string>; withNull: boolean } {
  const keys = new Set<string>();
  let withNull = false;
  for (const v of s.values) {
    const l = linkValue(s, fail, v);
    if (l === null) withNull = true; else keys.add(`${l.type}#${l.id}`);
  }
  return { keys, withNull };
}

/** multi_entity (and addressing): `is` = contains, None = empty list, `in` = contains any (+ empty with None). */
function multiPredicate(env: FilterEnv, s: LeafSpec, fail: Fail, arity: Arity): ValuePredicate {
  const { lookup, schema } = env;
  switch (s.op) {
    case 'is': case 'contains': {
      arity(1);
      const want = linkValue(s, fail, s.values[0]);
      if (want === null) return (x) => visibleLinks(x, lookup).length === 0;
      return (x) => {
        // Check membership first, then visibility of the one matching element.
        if (!Array.isArray(x)) return false;
        for (const l of x) {
          if (isStoredLink(l) && l.id === want.id && l.type === want.type) return visibleLink(l, lookup) !== null;
        }
        return false;
      };
    }
    case 'in': {
      const { keys, withNull } = linkSet(s, fail);
      return (x) => {
        const ls = visibleLinks(x, lookup);
        if (ls.length === 0) return withNull;
        for (const l of ls) if (keys.has(`${l.type}#${l.id}`)) return true;
        return false;
      };
    }
    case 'type_is': {
      arity(1);
      const t = typeValue(s, fail, s.values[0]);
      if (t === null) return (x) => visibleLinks(x, lookup).length === 0;
      return (x) => visibleLinks(x, lookup).some((l) => l.type === t);
    }
    case 'name_contains': case 'name_starts_with': case 'name_ends_with': case 'name_is': {
      arity(1);
      const test = nameTest(s.op, nameValue(s, fail, s.values[0]));
      return (x) => visibleLinks(x, lookup).some((l) => { const n = lowerName(schema, lookup, l); return n !== null && test(n); });
    }
    default: return unsupported(s, fail);
  }
}

/**
 * tag_list: stored as an array of tag names (strings); Tag links {type: "Tag", id} are also understood, by their
 * target's name. `is` = has the tag (case-insensitive), None = no tags.
 */
function tagListPredicate(env: FilterEnv, s: LeafSpec, fail: Fail, arity: Arity): ValuePredicate {
  const { lookup, schema } = env;
  const tagName = (e: unknown): string | null => {
    if (typeof e === 'string') return e.toLowerCase();
    if (isStoredLink(e)) {
      const viaLookup = lowerName(schema, lookup, e);
      if (viaLookup !== null) return viaLookup;
      const n = (e as { name?: unknown }).name;
      return typeof n === 'string' ? n.toLowerCase() : null;
    }
    return null;
  };
  const some = (x: unknown, test: (n: string) => boolean): boolean => {
    if (!Array.isArray(x)) return false;
    for (const e of x) { const n = tagName(e); if (n !== null && test(n)) return true; }
    return false;
  };
  switch (s.op) {
    case 'is': {
      arity(1);
      const v = s.values[0];
      if (v === null) return (x) => !Array.isArray(x) || x.length === 0;
      const want = tagName(v);
      if (want === null) fail(`'${s.shownOp}' expects a tag name, a Tag {"type", "id"} or None, got ${describe(v)}`);
      return (x) => some(x, (n) => n === want);
    }
    case 'name_contains': case 'name_is': {
      arity(1);
      const test = nameTest(s.op, nameValue(s, fail, s.values[0]));
      return (x) => some(x, test);
    }
    default: return unsupported(s, fail);
  }
}

function unsupported(s: LeafSpec, fail: Fail): never {
  return fail(`operator '${s.shownOp}' is not valid for a ${s.dataType} field`);
}

function describe(v: unknown): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a dict';
  if (typeof v === 'string') return `'${v.length > 40 ? `${v.slice(0, 40)}...` : v}'`;
  return String(v);
}
