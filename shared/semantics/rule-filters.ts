// The site's group and negation rules applied to a filter tree before it is compiled: an empty `or` that matches nothing, negations that leave NULL rows out, an empty text operand, a None among `in` values.
import { parseFieldPath } from './field-paths.js';
import { NEGATIONS, isOperator } from './operators.js';
import type { SiteSchema } from '../schema/index.js';
import { DEFAULT_RULES, type RuleValues } from './site-rules.js';
import { isGroup, type Condition, type FilterGroup } from '../site/index.js';

export type FilterRules = Pick<RuleValues, 'emptyOrTop' | 'emptyOrNested' | 'negationNulls' | 'emptyOperand' | 'inNullScalar' | 'inNullLink'>;
const KEYS: ReadonlyArray<keyof FilterRules> = ['emptyOrTop', 'emptyOrNested', 'negationNulls', 'emptyOperand', 'inNullScalar', 'inNullLink'];

/** A condition no row satisfies (`id` is never NULL). */
const NOTHING: Condition = { path: 'id', relation: 'is', values: [null] };
/** A group every row satisfies. */
const EVERYTHING: FilterGroup = { logical_operator: 'and', conditions: [] };
const TEXT_OPS = new Set(['contains', 'not_contains', 'starts_with', 'ends_with']);
const LINK_TYPES = new Set(['entity', 'multi_entity', 'addressing']);

/** Whether the rules leave filters as the default semantics read them (no rewrite needed). */
export function defaultFilterRules(r: FilterRules): boolean {
  return KEYS.every((k) => r[k] === DEFAULT_RULES[k]);
}

/**
 * The filter tree the default semantics evaluate as the site does under `rules`: an empty `or` group the site reads
 * as matching nothing becomes a group that matches nothing; with negations excluding NULL, each negated condition on
 * a single-valued path (not a checkbox, which is never NULL, nor a path through a multi-entity hop, which the
 * compiler reads by `multiNegation`) also requires its value to be set; `contains ""` and a None among `in` / `not_in` values follow
 * `emptyOperand`, `inNullScalar` and `inNullLink`. Malformed parts are kept as they are (the compiler faults).
 */
export function applyFilterRules(schema: SiteSchema, rootType: string, group: FilterGroup, rules: FilterRules = DEFAULT_RULES): FilterGroup {
  if (defaultFilterRules(rules)) return group;
  return rewrite(schema, rootType, group, rules, 0);
}

function rewrite(schema: SiteSchema, rootType: string, group: FilterGroup, rules: FilterRules, depth: number): FilterGroup {
  if (typeof group !== 'object' || group === null || !Array.isArray(group.conditions)) return group;
  if (group.logical_operator === 'or' && group.conditions.length === 0) {
    const none = (depth === 0 ? rules.emptyOrTop : rules.emptyOrNested) === 'none';
    return none ? { logical_operator: 'and', conditions: [NOTHING] } : group;
  }
  const conditions = group.conditions.map((c) => {
    if (typeof c !== 'object' || c === null) return c;
    if (isGroup(c)) return rewrite(schema, rootType, c, rules, depth + 1);
    return leaf(schema, rootType, c, rules);
  });
  return { ...group, conditions };
}

/** One condition under the operand rules, then the negation rule. */
function leaf(schema: SiteSchema, rootType: string, c: Condition, rules: FilterRules): Condition | FilterGroup {
  if (typeof c.path !== 'string' || typeof c.relation !== 'string' || !Array.isArray(c.values)) return c;
  const parsed = parseFieldPath(schema, rootType, c.path);
  if (!parsed.ok) return c;
  const dt = parsed.path.leaf.data_type;
  const negated = NEGATIONS[c.relation as keyof typeof NEGATIONS] !== undefined;
  const exclude = rules.negationNulls === 'exclude';
  // `contains ""`: under `ignored` no condition; under `none` nothing, its negation the complement (without NULLs under exclude).
  if (dt === 'text' && TEXT_OPS.has(c.relation) && c.values.length === 1 && c.values[0] === '' && rules.emptyOperand !== 'set') {
    if (rules.emptyOperand === 'ignored' || (negated && !exclude)) return EVERYTHING;
    return negated ? { path: c.path, relation: 'is_not', values: [null] } : NOTHING;
  }
  if ((c.relation === 'in' || c.relation === 'not_in') && c.values.includes(null)) {
    const rule = LINK_TYPES.has(dt) ? rules.inNullLink : rules.inNullScalar;
    if (rule !== 'unset') {
      const rest: Condition = { ...c, values: c.values.filter((v) => v !== null) };
      // SQL's NOT IN with a NULL is never true; the values are still compiled (checked) as an `in`.
      if (rule === 'sql' && c.relation === 'not_in') return { logical_operator: 'and', conditions: [NOTHING, { ...rest, relation: 'in' }] };
      return exclude ? excludeNull(schema, rootType, rest) : rest;
    }
  }
  return exclude ? excludeNull(schema, rootType, c) : c;
}

function excludeNull(schema: SiteSchema, rootType: string, c: Condition): Condition | FilterGroup {
  if (typeof c.relation !== 'string' || !isOperator(c.relation) || NEGATIONS[c.relation] === undefined) return c;
  if (typeof c.path !== 'string') return c;
  const parsed = parseFieldPath(schema, rootType, c.path);
  if (!parsed.ok || parsed.path.throughMulti || parsed.path.leaf.data_type === 'checkbox') return c;
  return { logical_operator: 'and', conditions: [c, { path: c.path, relation: 'is_not', values: [null] }] };
}
