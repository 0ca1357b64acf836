// Filters: compiling a wire filter group into one record predicate (validated once, closures per row).
import { type DataType, ErrorCode, ShotgunFault, isGroup, type Condition, type FilterGroup } from '../site/index.js';
import { existsLeaf, parseFieldPath, resolveSingle } from './field-paths.js';
import { identifierValue, isStoredLink, visibleLink, visibleLinks, type StoredLink } from './links.js';
import type { EntityLookup, EntityRecord } from './records.js';
import { calendarWindow, DATE_UNITS, relativeWindow, type CalendarUnit, type DateUnit } from './relative-dates.js';

import { entityPredicate, multiPredicate, tagListPredicate } from './link-predicates.js';
import { datePredicate, numberPredicate, stringPredicate } from './scalar-predicates.js';
import { isOperator, NEGATIONS, operatorsFor } from './operators.js';
import { type FilterEnv, isNull, type LeafSpec } from './filter-leaf.js';

export type RecordPredicate = (rec: EntityRecord) => boolean;
type ValuePredicate = (v: unknown) => boolean;

export const MATCH_ALL: RecordPredicate = () => true;

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

type Category = 'string' | 'number' | 'date' | 'date_time' | 'checkbox' | 'image' | 'entity' | 'multi' | 'tag_list';

function categoryOf(dt: DataType): Category {
  // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- every data type not listed filters as a string
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

