// The site's group and negation rules applied to a filter tree before it is compiled: an empty `or` that matches nothing, negations that leave NULL rows out.
import { parseFieldPath } from './field-paths.js';
import { NEGATIONS, isOperator } from './operators.js';
import type { SiteSchema } from '../schema/index.js';
import { DEFAULT_RULES, type RuleValues } from './site-rules.js';
import { isGroup, type Condition, type FilterGroup } from '../site/index.js';

export type FilterRules = Pick<RuleValues, 'emptyOrTop' | 'emptyOrNested' | 'negationNulls'>;

/** A condition no row satisfies (`id` is never NULL). */
const NOTHING: Condition = { path: 'id', relation: 'is', values: [null] };

/** Whether the rules leave filters as the default semantics read them (no rewrite needed). */
export function defaultFilterRules(r: FilterRules): boolean {
  return r.emptyOrTop === DEFAULT_RULES.emptyOrTop && r.emptyOrNested === DEFAULT_RULES.emptyOrNested && r.negationNulls === DEFAULT_RULES.negationNulls;
}

/**
 * The filter tree the default semantics evaluate as the site does under `rules`: an empty `or` group the site reads
 * as matching nothing becomes a group that matches nothing; with negations excluding NULL, each negated condition on
 * a single-valued path (not a checkbox, which is never NULL, nor a path through a multi-entity hop, which the planner
 * passes through) also requires its value to be set. Malformed parts are kept as they are (the compiler faults).
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
    return rules.negationNulls === 'exclude' ? excludeNull(schema, rootType, c) : c;
  });
  return { ...group, conditions };
}

function excludeNull(schema: SiteSchema, rootType: string, c: Condition): Condition | FilterGroup {
  if (typeof c.relation !== 'string' || !isOperator(c.relation) || NEGATIONS[c.relation] === undefined) return c;
  if (typeof c.path !== 'string') return c;
  const parsed = parseFieldPath(schema, rootType, c.path);
  if (!parsed.ok || parsed.path.throughMulti || parsed.path.leaf.data_type === 'checkbox') return c;
  return { logical_operator: 'and', conditions: [c, { path: c.path, relation: 'is_not', values: [null] }] };
}
