// Value predicates of scalar fields: text-like (case-insensitive), numbers, dates and date-times (absolute and relative).
import { DATE_RE, DATE_TIME_RE, formatDateTime, ErrorCode, ShotgunFault, isGroup, type Condition, type FilterGroup } from '../site/index.js';
import { existsLeaf, parseFieldPath, resolveSingle, type FieldPath } from './field-paths.js';
import { identifierValue, isStoredLink, visibleLink, visibleLinks, type StoredLink } from './links.js';
import type { EntityLookup, EntityRecord } from './records.js';
import { calendarWindow, DATE_UNITS, relativeWindow, type CalendarUnit, type DateUnit } from './relative-dates.js';

import { type Arity, describeValue, type Fail, type FilterEnv, isNull, type LeafSpec, NEVER, unsupported, type ValuePredicate } from './filter-leaf.js';

// ---- text-like: text, list, status_list, entity_type, color, uuid, footage. Case-insensitive throughout.

export function stringPredicate(s: LeafSpec, fail: Fail, arity: Arity): ValuePredicate {
  const allowNumbers = s.dataType === 'footage';
  const checkValue = (v: unknown, nullable: boolean): string | null => {
    if (v === null) {
      if (nullable) return null;
      fail(`'${s.shownOp}' expects a string, got None`);
    }
    if (typeof v === 'string') return v.toLowerCase();
    if (allowNumbers && typeof v === 'number') return String(v);
    return fail(`'${s.shownOp}' expects a string value, got ${describeValue(v)}`);
  };
  const lower = (x: unknown): string | null => (typeof x === 'string' ? x.toLowerCase() : allowNumbers && typeof x === 'number' ? String(x) : null);
  // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- the operators not listed are not valid for this data type: the default raises the site's fault for them
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
      for (const v of s.values) {
        const w = checkValue(v, true);
        if (w === null) withNull = true;
        else set.add(w);
      }
      return (x) => {
        if (x === null || x === undefined) return withNull;
        const l = lower(x);
        return l !== null && set.has(l);
      };
    }
    case 'contains':
    case 'starts_with':
    case 'ends_with': {
      arity(1);
      const want = checkValue(s.values[0], false) as string;
      if (s.op === 'contains') return (x) => typeof x === 'string' && x.toLowerCase().includes(want);
      if (s.op === 'starts_with') return (x) => typeof x === 'string' && x.toLowerCase().startsWith(want);
      return (x) => typeof x === 'string' && x.toLowerCase().endsWith(want);
    }
    default:
      return unsupported(s, fail);
  }
}

// ---- numbers: number (and id), float, duration, percent, currency, timecode.

export function numberPredicate(s: LeafSpec, fail: Fail, arity: Arity): ValuePredicate {
  const num = (v: unknown, nullable: boolean): number | null => {
    if (v === null && nullable) return null;
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    return fail(`'${s.shownOp}' expects a number${nullable ? ' or None' : ''}, got ${describeValue(v)}`);
  };
  // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- the operators not listed are not valid for this data type: the default raises the site's fault for them
  switch (s.op) {
    case 'is': {
      arity(1);
      const want = num(s.values[0], true);
      return want === null ? isNull : (x) => x === want;
    }
    case 'in': {
      const set = new Set<number>();
      let withNull = false;
      for (const v of s.values) {
        const w = num(v, true);
        if (w === null) withNull = true;
        else set.add(w);
      }
      return (x) => (typeof x === 'number' ? set.has(x) : withNull && (x === null || x === undefined));
    }
    case 'less_than':
    case 'greater_than': {
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
    default:
      return unsupported(s, fail);
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

export function datePredicate(env: FilterEnv, s: LeafSpec, fail: Fail, arity: Arity): ValuePredicate {
  const forDate = s.dataType === 'date';
  const kind = forDate ? 'a date "YYYY-MM-DD"' : 'a date_time "YYYY-MM-DDTHH:MM:SSZ"';
  const conv = (v: unknown, nullable: boolean): string | null => {
    if (v === null && nullable) return null;
    const d = normalizeDateValue(v, forDate);
    return d ?? fail(`'${s.shownOp}' expects ${kind}${nullable ? ' or None' : ''}, got ${describeValue(v)}`);
  };
  const inWindow =
    (from: string, to: string): ValuePredicate =>
    (x) =>
      typeof x === 'string' && x >= from && x <= to;
  // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- the operators not listed are not valid for this data type: the default raises the site's fault for them
  switch (s.op) {
    case 'is': {
      arity(1);
      const want = conv(s.values[0], true);
      return want === null ? isNull : (x) => x === want;
    }
    case 'in': {
      const set = new Set<string>();
      let withNull = false;
      for (const v of s.values) {
        const w = conv(v, true);
        if (w === null) withNull = true;
        else set.add(w);
      }
      return (x) => (typeof x === 'string' ? set.has(x) : withNull && (x === null || x === undefined));
    }
    case 'less_than':
    case 'greater_than': {
      arity(1);
      const b = conv(s.values[0], true);
      if (b === null) return NEVER;
      return s.op === 'less_than' ? (x) => typeof x === 'string' && x < b : (x) => typeof x === 'string' && x > b;
    }
    case 'between': {
      const [lo, hi] = betweenBounds(s, fail, (v) => conv(v, true));
      return (x) => typeof x === 'string' && (lo === null || x >= lo) && (hi === null || x <= hi);
    }
    case 'in_last':
    case 'in_next': {
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
    case 'in_calendar_day':
    case 'in_calendar_week':
    case 'in_calendar_month':
    case 'in_calendar_year': {
      arity(1);
      const off = s.values[0];
      if (typeof off !== 'number' || !Number.isInteger(off)) fail(`'${s.shownOp}' expects an integer offset, got ${describeValue(off)}`);
      const w = calendarWindow(s.op.slice('in_calendar_'.length) as CalendarUnit, off as number, env.now, forDate);
      return inWindow(w.from, w.to);
    }
    default:
      return unsupported(s, fail);
  }
}
