// Read planning: whether the cache can answer a `read` exactly (else a machine-readable pass reason), and which index reads the fewest items.
import { callerDependentReason, type CachedSchema } from '../schema/index.js';
import { collectFieldPaths, isOperator, NEGATIONS, operatorsFor, parseFieldPath, validateRead, type RuleValues, type SiteRules } from '../semantics/index.js';
import type { SiteSchema } from '../schema/index.js';
import type { Readiness } from '../store/index.js';
import { isGroup, READ_KEYS, ReadParamsSchema, type Condition, type ReadParams } from '../site/index.js';

/**
 * Operators the cache never answers although the semantics model implements them: relative dates depend on the
 * site's clock and timezone (docs/semantics.md "Dates and relative dates"), which the cache cannot match exactly.
 */
export const CLOCK_OPERATORS: ReadonlySet<string> = new Set([
  'in_last',
  'not_in_last',
  'in_next',
  'not_in_next',
  'in_calendar_day',
  'in_calendar_week',
  'in_calendar_month',
  'in_calendar_year',
]);

/** At most this many index queries for one `in` condition (more: read the type instead). */
export const MAX_FANOUT = 25;

export interface Target {
  type: string;
  id: number;
}

/** How the candidates are read; every access returns a superset of the matches (the semantics model filters). */
export type Access =
  | { kind: 'ids'; ids: number[] }
  | { kind: 'link'; field: string; targets: Target[] }
  | { kind: 'ref'; field: string; targets: Target[] }
  | { kind: 'project'; projectIds: number[] }
  | { kind: 'type' }
  /**
   * A semi-join through a deep filter `field.Target.g is X`: read the Target entities matching `g` through their own
   * index (`inner`), then the root entities linking to them through `field`'s slot; `fallback` when more than
   * MAX_FANOUT Targets match.
   */
  | { kind: 'semi'; field: string; targetType: string; inner: Access; fallback: Access };

/** One deep path to prefetch: each hop's field and target type, from the root. */
export interface DeepPath {
  text: string;
  hops: Array<{ field: string; targetType: string }>;
}

export interface ReadPlan {
  params: ReadParams;
  /** The site's rules the answer must follow (from the readiness snapshot). */
  rules: RuleValues;
  access: Access;
  /** Deep paths whose hop targets must be fetched whole for the lookup. */
  deep: DeepPath[];
}

export type PlanResult = { ok: true; plan: ReadPlan } | { ok: false; reason: string };

const pass = (reason: string): PlanResult => ({ ok: false, reason });
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const asTarget = (v: unknown): Target | undefined =>
  isObj(v) && typeof v.type === 'string' && typeof v.id === 'number' && Number.isInteger(v.id) ? { type: v.type, id: v.id } : undefined;

/**
 * Coverage of one path: every hop field and the leaf cached and ready, every hop's target type cached and ready.
 * Returns the pass reason, or the hops.
 */
function coverPath(schema: CachedSchema, ready: Readiness, root: string, path: string, missingOk = false): { reason: string } | { hops: DeepPath['hops'] } {
  const parts = path.split('.');
  if (parts.length % 2 === 0 || parts.some((p) => p === '')) return { reason: `unknown-field:${root}.${path}` };
  let type = root;
  const hops: DeepPath['hops'] = [];
  for (let i = 0; i < parts.length; i += 2) {
    const field = parts[i];
    // A return field the site lacks (known from its own schema): the projection answers it by the measured rule, no lookups.
    if (missingOk && !schema.isCached(type, field) && ready.siteFields.lacks(type, field) === true) return { hops: [] };
    if (!schema.isCached(type, field)) return { reason: `uncached-field:${type}.${field}` };
    if (!ready.isFieldReady(type, field)) return { reason: `field-not-ready:${type}.${field}` };
    if (i + 1 < parts.length) {
      const dt = schema.site.dataType(type, field);
      if (dt !== 'entity' && dt !== 'multi_entity') return { reason: `unknown-field:${root}.${path}` };
      const next = parts[i + 1];
      if (!schema.site.hasType(next)) return { reason: `uncached-type:${next}` };
      if (!ready.isTypeReady(next)) return { reason: `type-not-ready:${next}` };
      hops.push({ field, targetType: next });
      type = next;
    }
  }
  return { hops };
}

/** The path include_archived_projects false reads (docs/semantics.md "include_archived_projects"). */
const ARCHIVED_PATH = 'project.Project.archived';

/** Whether a path is named by the request itself (not only implied by include_archived_projects). */
function explicitlyUsed(params: ReadParams, p: string): boolean {
  return collectFieldPaths({ ...params, include_archived_projects: undefined }).all.includes(p);
}

function conditions(group: ReadParams['filters']): Condition[] {
  const out: Condition[] = [];
  const walk = (g: ReadParams['filters']) => {
    for (const c of g.conditions) {
      if (isGroup(c)) walk(c);
      else out.push(c);
    }
  };
  walk(group);
  return out;
}

export interface PlanOptions {
  /**
   * Whether return fields the site lacks may be answered (default true): only for `read`, where the projection
   * follows the site's measured `missingReturnField` rule; summaries and grouping on them are the site's to fault.
   */
  missingReturnFields?: boolean;
}

/** Whether a return field the site lacks is answered as the site answers it: its rule measured as omit or null (a fault's text is the site's). */
export function answersMissing(ready: Readiness): boolean {
  const r = ready.siteRules;
  return r.status('missingReturnField') === 'measured' && r.values.missingReturnField !== 'fault';
}

/**
 * Decides whether the cache can answer `raw` (a `read`'s params) exactly, and how to read its candidates.
 * Pass reasons: `unknown-key:K`, `malformed-params`, `additional-filter-presets`,
 * `uncached-type:T`, `type-not-ready:T`, `uncached-field:T.f` (a field not cached, or one the site lacks when the
 * cache does not know that now or the site's `missingReturnField` rule is not measured omit / null), `field-not-ready:T.f`, `unknown-field:T.path`,
 * `operator:OP`, `tag-link-value`, `caller-dependent:T.f` (the site computes it for the caller), `invalid-request` (the site's own fault is the answer),
 * `site-rule:<rule>`, `deep-multi-negation`, `deep-multi-operand:<rule>` (ruleReason).
 */
export function planRead(schema: CachedSchema, ready: Readiness, raw: unknown, opts: PlanOptions = {}): PlanResult {
  if (!isObj(raw)) return pass('malformed-params');
  for (const k of Object.keys(raw)) if (!(READ_KEYS as readonly string[]).includes(k)) return pass(`unknown-key:${k}`);
  const parsed = ReadParamsSchema.safeParse(raw);
  if (!parsed.success) return pass('malformed-params');
  const params = parsed.data;
  if (params.additional_filter_presets !== undefined) return pass('additional-filter-presets');
  const type = params.type;
  if (!schema.site.hasType(type)) return pass(`uncached-type:${type}`);
  if (!ready.isTypeReady(type)) return pass(`type-not-ready:${type}`);

  const used = collectFieldPaths(params);
  // Before any other reason: a per-caller field must not reach the response cache under a keepable reason.
  for (const p of used.all) {
    const perCaller = callerDependentReason(type, p);
    if (perCaller) return pass(perCaller);
  }
  const missingOk = opts.missingReturnFields !== false && answersMissing(ready);
  const deep: DeepPath[] = [];
  for (const p of used.all) {
    // `type` in return_fields is answered by the projection (never repeated); as a filter or sort it is the site's call.
    if (p === 'type' && !used.filters.includes(p) && !used.sorts.includes(p)) continue;
    // include_archived_projects false on a type without a `project` link leaves every row in (as the semantics model does).
    if (p === ARCHIVED_PATH && params.include_archived_projects === false && schema.site.dataType(type, 'project') !== 'entity' && !explicitlyUsed(params, p))
      continue;
    const returnOnly = missingOk && !used.filters.includes(p) && !used.sorts.includes(p);
    const c = coverPath(schema, ready, type, p, returnOnly);
    if ('reason' in c) return pass(c.reason);
    if (c.hops.length) deep.push({ text: p, hops: c.hops });
  }
  const conds = conditions(params.filters);
  for (const c of conds) {
    if (CLOCK_OPERATORS.has(c.relation)) return pass(`operator:${c.relation}`);
    if (!isOperator(c.relation)) return pass(`operator:${c.relation}`);
    const leaf = c.path.split('.');
    let leafType = type;
    for (let i = 1; i < leaf.length; i += 2) leafType = leaf[i];
    const dt = c.path === 'id' ? 'number' : schema.site.dataType(leafType, leaf[leaf.length - 1]);
    if (dt === undefined || !operatorsFor(dt).includes(c.relation)) return pass(`operator:${c.relation}`);
    if (dt === 'tag_list' && c.values.some((v) => typeof v === 'object' && v !== null)) return pass('tag-link-value');
  }
  try {
    validateRead(schema.site, params);
  } catch {
    return pass('invalid-request');
  }
  const ruled = ruleReason(schema.site, type, params, ready.siteRules);
  if (ruled) return pass(ruled);
  return { ok: true, plan: { params, rules: ready.siteRules.values, access: chooseAccess(schema, params), deep } };
}

const ORDERED_NOT_TEXT = new Set(['number', 'float', 'duration', 'percent', 'currency', 'timecode', 'date', 'date_time', 'checkbox', 'entity']);

/**
 * `site-rule:<rule>` when the read depends on a rule the cache cannot follow exactly: one the site behaved unlike any
 * modelled value for (unmatched), or one of the rules measured first (MEASURE_FIRST) not yet measured.
 */
function ruleReason(site: SiteSchema, type: string, params: ReadParams, rules: SiteRules): string | undefined {
  const r = (name: Parameters<SiteRules['unmatched']>[0]) => `site-rule:${name}`;
  for (const s of params.sorts ?? []) {
    const parsed = parseFieldPath(site, type, s.field_name);
    if (!parsed.ok) continue;
    const nulls = s.direction === 'desc' ? 'nullsDesc' : 'nullsAsc';
    if (rules.unmatched(nulls)) return r(nulls);
    const dt = parsed.path.leaf.data_type;
    if (dt === 'entity' && rules.unmatched('entityOrder')) return r('entityOrder');
    const byName = dt === 'entity' && rules.values.entityOrder === 'name';
    if ((byName || !ORDERED_NOT_TEXT.has(dt)) && rules.unmatched('textOrder')) return r('textOrder');
  }
  let reason: string | undefined;
  const walk = (g: ReadParams['filters'], depth: number) => {
    if (g.logical_operator === 'or' && g.conditions.length === 0) {
      const name = depth === 0 ? 'emptyOrTop' : 'emptyOrNested';
      if (rules.unmatched(name)) reason ??= r(name);
    }
    for (const c of g.conditions) {
      if (isGroup(c)) {
        walk(c, depth + 1);
        continue;
      }
      reason ??= conditionRule(site, type, c, rules);
    }
  };
  walk(params.filters, 0);
  return reason;
}

const TEXT_OPERAND_OPS = new Set(['contains', 'not_contains', 'starts_with', 'ends_with']);
const LINK_TYPES = new Set(['entity', 'multi_entity', 'addressing']);

/**
 * The rule one condition depends on when the cache cannot follow it: `site-rule:<rule>` (unmatched, or not yet
 * measured for the rules measured first), `deep-multi-negation` (a negation through a multi-entity hop on a path of
 * more than one hop: the probe measures `multi.Type.field` only), `deep-multi-operand:<rule>` (an empty operand or a
 * None among `in` values through a multi-entity hop, with that rule measured away from its default).
 */
function conditionRule(site: SiteSchema, type: string, c: Condition, rules: SiteRules): string | undefined {
  const r = (name: Parameters<SiteRules['followed']>[0]) => (rules.followed(name) ? undefined : `site-rule:${name}`);
  const parsed = parseFieldPath(site, type, c.path);
  if (!parsed.ok) return undefined;
  const { path } = parsed;
  const dt = path.leaf.data_type;
  const negated = isOperator(c.relation) && NEGATIONS[c.relation] !== undefined;
  if (negated) {
    const nulls = r('negationNulls');
    if (nulls) return nulls;
    if (path.throughMulti) {
      const multi = r('multiNegation');
      if (multi) return multi;
      if (path.hops.length > 1) return 'deep-multi-negation';
    }
  }
  // Through a multi-entity hop only an operand rule at its default composes with the EXISTS as the probes saw it: a
  // site whose `not_in [a, None]` matches nothing may still match rows through NOT EXISTS (… IN (a, NULL)).
  if (dt === 'text' && TEXT_OPERAND_OPS.has(c.relation) && c.values.length === 1 && c.values[0] === '') {
    const operand = r('emptyOperand') ?? (path.throughMulti && rules.values.emptyOperand !== 'set' ? 'deep-multi-operand:emptyOperand' : undefined);
    if (operand) return operand;
  }
  if ((c.relation === 'in' || c.relation === 'not_in') && c.values.includes(null)) {
    const name = LINK_TYPES.has(dt) ? 'inNullLink' : 'inNullScalar';
    const inNull = r(name) ?? (path.throughMulti && rules.values[name] !== 'unset' ? `deep-multi-operand:${name}` : undefined);
    if (inNull) return inNull;
  }
  return undefined;
}

/**
 * The index whose key condition reads the fewest items, from the top-level AND conditions (docs/design.md
 * "Planner"): id / id in -> BatchGet; an indexed entity field is X -> its link slot; any link field is X ->
 * byRef membership + BatchGet; project is P -> byProject; else the whole type.
 */
export function chooseAccess(schema: CachedSchema, params: ReadParams): Access {
  const direct = chooseDirect(schema, params);
  if (direct.kind === 'ids' || direct.kind === 'link') return direct;
  const semi = chooseSemi(schema, params, direct);
  return semi ?? direct;
}

/** Top-level AND conditions of a filter group (the only ones an index may narrow on). */
function topConditions(params: ReadParams): Condition[] {
  const f = params.filters;
  return f.logical_operator === 'and' || f.conditions.length === 1 ? f.conditions.filter((c): c is Condition => !isGroup(c)) : [];
}

/** A deep `field.Target.g is/in X` whose root field has a link slot and whose inner condition an index of Target narrows. */
function chooseSemi(schema: CachedSchema, params: ReadParams, fallback: Access): Access | undefined {
  for (const c of topConditions(params)) {
    if (c.relation !== 'is' && c.relation !== 'in') continue;
    const parts = c.path.split('.');
    if (parts.length !== 3) continue;
    const [field, targetType, inner] = parts;
    if (schema.site.dataType(params.type, field) !== 'entity' || schema.linkSlot(params.type, field) === undefined) continue;
    if (!schema.site.hasType(targetType)) continue;
    const innerAccess = chooseDirect(schema, {
      ...params,
      type: targetType,
      sorts: undefined,
      filters: { logical_operator: 'and', conditions: [{ path: inner, relation: c.relation, values: c.values }] },
    });
    if (innerAccess.kind === 'type') continue;
    return { kind: 'semi', field, targetType, inner: innerAccess, fallback };
  }
  return undefined;
}

function chooseDirect(schema: CachedSchema, params: ReadParams): Access {
  const top = topConditions(params);
  const type = params.type;
  let best: { rank: number; access: Access } | undefined;
  const offer = (rank: number, access: Access) => {
    if (!best || rank < best.rank) best = { rank, access };
  };
  for (const c of top) {
    const values = c.relation === 'in' && c.values.length === 1 && Array.isArray(c.values[0]) ? (c.values[0] as unknown[]) : c.values;
    if (c.relation !== 'is' && c.relation !== 'in') continue;
    if (c.path === 'id') {
      if (values.every((v) => typeof v === 'number' && Number.isInteger(v))) offer(0, { kind: 'ids', ids: [...new Set(values as number[])] });
      continue;
    }
    if (c.path.includes('.')) continue;
    const dt = schema.site.dataType(type, c.path);
    if (dt !== 'entity' && dt !== 'multi_entity') continue;
    const targets = values.map(asTarget);
    if (targets.length === 0 || targets.length > MAX_FANOUT || targets.some((t) => t === undefined)) continue;
    const ts = targets as Target[];
    if (dt === 'entity' && schema.linkSlot(type, c.path) !== undefined) offer(1, { kind: 'link', field: c.path, targets: ts });
    else if (c.path === 'project' && dt === 'entity' && ts.every((t) => t.type === 'Project')) offer(3, { kind: 'project', projectIds: ts.map((t) => t.id) });
    else offer(2, { kind: 'ref', field: c.path, targets: ts });
  }
  return best?.access ?? { kind: 'type' };
}
