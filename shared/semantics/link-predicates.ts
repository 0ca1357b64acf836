// Value predicates of link fields: entity (type + id, type_is, name_*), multi_entity and addressing (contains), tag_list.
import { DATE_RE, DATE_TIME_RE, formatDateTime, type DataType, ErrorCode, ShotgunFault, isGroup, type Condition, type FilterGroup } from '../site/index.js';
import { existsLeaf, parseFieldPath, resolveSingle, type FieldPath } from './field-paths.js';
import { identifierValue, isStoredLink, visibleLink, visibleLinks, type StoredLink } from './links.js';
import type { EntityLookup, EntityRecord } from './records.js';
import { calendarWindow, DATE_UNITS, relativeWindow, type CalendarUnit, type DateUnit } from './relative-dates.js';
import type { SiteSchema } from '../schema/index.js';
import { type Arity, describeValue, type Fail, type FilterEnv, type LeafSpec, unsupported, type ValuePredicate } from './filter-leaf.js';
import { type Operator } from './operators.js';

// ---- links. Filter values match on type + id; other keys (name, ...) are ignored.

function linkValue(s: LeafSpec, fail: Fail, v: unknown): StoredLink | null {
  if (v === null) return null;
  if (typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    if (typeof o.type === 'string' && typeof o.id === 'number' && Number.isInteger(o.id)) return { type: o.type, id: o.id };
  }
  return fail(`'${s.shownOp}' expects an entity {"type", "id"} or None, got ${describeValue(v)}`);
}

function typeValue(s: LeafSpec, fail: Fail, v: unknown): string | null {
  if (v === null || typeof v === 'string') return v;
  return fail(`'${s.shownOp}' expects an entity type name or None, got ${describeValue(v)}`);
}

function nameValue(s: LeafSpec, fail: Fail, v: unknown): string {
  if (typeof v === 'string') return v.toLowerCase();
  return fail(`'${s.shownOp}' expects a string, got ${describeValue(v)}`);
}

function nameTest(op: Operator, want: string): (name: string) => boolean {
  // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- called with the name_* operators only; the default is name_is
  switch (op) {
    case 'name_contains':
      return (n) => n.includes(want);
    case 'name_starts_with':
      return (n) => n.startsWith(want);
    case 'name_ends_with':
      return (n) => n.endsWith(want);
    default:
      return (n) => n === want;
  }
}

/** The lower-cased name of a link's target (its identifier value), null when unknown or unset. */
function lowerName(schema: SiteSchema, lookup: EntityLookup, l: StoredLink): string | null {
  const t = lookup.get(l.type, l.id);
  if (t === undefined) return null;
  const n = identifierValue(schema, t);
  return n === null || n === undefined ? null : String(n).toLowerCase();
}

export function entityPredicate(env: FilterEnv, s: LeafSpec, fail: Fail, arity: Arity): ValuePredicate {
  const { lookup, schema } = env;
  // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- the operators not listed are not valid for this data type: the default raises the site's fault for them
  switch (s.op) {
    case 'is': {
      arity(1);
      const want = linkValue(s, fail, s.values[0]);
      if (want === null) return (x) => visibleLink(x, lookup) === null;
      return (x) => {
        const l = visibleLink(x, lookup);
        return l !== null && l.id === want.id && l.type === want.type;
      };
    }
    case 'in': {
      const { keys, withNull } = linkSet(s, fail);
      return (x) => {
        const l = visibleLink(x, lookup);
        return l === null ? withNull : keys.has(`${l.type}#${l.id}`);
      };
    }
    case 'type_is': {
      arity(1);
      const t = typeValue(s, fail, s.values[0]);
      if (t === null) return (x) => visibleLink(x, lookup) === null;
      return (x) => visibleLink(x, lookup)?.type === t;
    }
    case 'name_contains':
    case 'name_starts_with':
    case 'name_ends_with':
    case 'name_is': {
      arity(1);
      const test = nameTest(s.op, nameValue(s, fail, s.values[0]));
      return (x) => {
        const l = visibleLink(x, lookup);
        if (l === null) return false;
        const n = lowerName(schema, lookup, l);
        return n !== null && test(n);
      };
    }
    default:
      return unsupported(s, fail);
  }
}

function linkSet(s: LeafSpec, fail: Fail): { keys: Set<string>; withNull: boolean } {
  const keys = new Set<string>();
  let withNull = false;
  for (const v of s.values) {
    const l = linkValue(s, fail, v);
    if (l === null) withNull = true;
    else keys.add(`${l.type}#${l.id}`);
  }
  return { keys, withNull };
}

/** multi_entity (and addressing): `is` = contains, None = empty list, `in` = contains any (+ empty with None). */
export function multiPredicate(env: FilterEnv, s: LeafSpec, fail: Fail, arity: Arity): ValuePredicate {
  const { lookup, schema } = env;
  // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- the operators not listed are not valid for this data type: the default raises the site's fault for them
  switch (s.op) {
    case 'is':
    case 'contains': {
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
    case 'name_contains':
    case 'name_starts_with':
    case 'name_ends_with':
    case 'name_is': {
      arity(1);
      const test = nameTest(s.op, nameValue(s, fail, s.values[0]));
      return (x) =>
        visibleLinks(x, lookup).some((l) => {
          const n = lowerName(schema, lookup, l);
          return n !== null && test(n);
        });
    }
    default:
      return unsupported(s, fail);
  }
}

/**
 * tag_list: stored as an array of tag names (strings); Tag links {type: "Tag", id} are also understood, by their
 * target's name. `is` = has the tag (case-insensitive), None = no tags.
 */
export function tagListPredicate(env: FilterEnv, s: LeafSpec, fail: Fail, arity: Arity): ValuePredicate {
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
    for (const e of x) {
      const n = tagName(e);
      if (n !== null && test(n)) return true;
    }
    return false;
  };
  // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- the operators not listed are not valid for this data type: the default raises the site's fault for them
  switch (s.op) {
    case 'is': {
      arity(1);
      const v = s.values[0];
      if (v === null) return (x) => !Array.isArray(x) || x.length === 0;
      const want = tagName(v);
      if (want === null) fail(`'${s.shownOp}' expects a tag name, a Tag {"type", "id"} or None, got ${describeValue(v)}`);
      return (x) => some(x, (n) => n === want);
    }
    case 'name_contains':
    case 'name_is': {
      arity(1);
      const test = nameTest(s.op, nameValue(s, fail, s.values[0]));
      return (x) => some(x, test);
    }
    default:
      return unsupported(s, fail);
  }
}
