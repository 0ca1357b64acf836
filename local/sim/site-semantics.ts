// The sim's configurable read semantics: where a hosted site may decide differently (NULL placement, text order, entity sort key, empty `or`, negation and NULL, negation through multi-entity paths, empty text operands, None among `in` values, missing return fields), its own implementation of each alternative.
//
// Written apart from the cache's engine on purpose (GUIDE: the sim is a test instrument): it never uses the engine's
// comparator, rule rewrite or projection rule. It evaluates the filter tree itself, one leaf condition at a time (each
// leaf by the shared default semantics, as the site's SQL would evaluate a single predicate), combines the id sets
// with its own group and negation rules, orders rows with its own comparator over the wire values, and builds each
// entity dict itself when a missing field is a null column.
import { z } from 'zod';
import {
  executeRead,
  executeSummarize,
  pageBounds,
  pagingInfo,
  parseFieldPath,
  type EntityRecord,
  type ReadContext,
  type SummarizeResult,
} from '../../shared/semantics/index.js';
import {
  ErrorCode,
  isGroup,
  ShotgunFault,
  type Condition,
  type FilterGroup,
  type ReadParams,
  type ReadResult,
  type SummaryParams,
} from '../../shared/site/index.js';

/** A change to the sim's semantics knobs (each unset key keeps its value; docs/sim.md "Site semantics"). */
export const SimSemanticsSchema = z
  .object({
    nullsAsc: z.enum(['first', 'last']),
    nullsDesc: z.enum(['first', 'last']),
    /** `locale`: an ICU-like collation (case and punctuation ignored) that the cache models no rule for. */
    textOrder: z.enum(['case-insensitive', 'code-point', 'locale']),
    entityOrder: z.enum(['name', 'id']),
    emptyOrTop: z.enum(['all', 'none']),
    emptyOrNested: z.enum(['all', 'none']),
    negationNulls: z.enum(['include', 'exclude']),
    missingReturnField: z.enum(['omit', 'null', 'fault']),
    /** A missing field at the end of a deep path: as a plain one (`same`), or otherwise (unknown on hosted sites: the cache must measure it). */
    missingDeepReturnField: z.enum(['same', 'omit', 'null', 'fault']),
    /**
     * A negation through a multi-entity hop: NOT EXISTS (`none`), EXISTS a linked row not matching (`some`), or either
     * over a non-empty list / or an empty one; `mixed`: `is_not` as `none`, every other operator as `some` (a site the
     * cache models no rule for).
     */
    multiNegation: z.enum(['none', 'some', 'none-nonempty', 'some-or-empty', 'mixed']),
    /** `contains` / `starts_with` / `ends_with` "" on text: LIKE '%%' (`set`), no condition (`ignored`), or nothing (`none`). */
    emptyOperand: z.enum(['set', 'ignored', 'none']),
    /** A None among `in` / `not_in` values on a scalar field: matches unset rows (`unset`), dropped (`ignored`), SQL's IN / NOT IN (`sql`). */
    inNullScalar: z.enum(['unset', 'ignored', 'sql']),
    /** The same on entity and multi-entity fields. */
    inNullLink: z.enum(['unset', 'ignored', 'sql']),
  })
  .partial()
  .strict();
export type SimSemanticsInput = z.infer<typeof SimSemanticsSchema>;
export type SimSemantics = Required<SimSemanticsInput>;
/** The documented defaults (docs/semantics.md), the same choices the cache assumes until it measures. */
export const DEFAULT_SIM_SEMANTICS: Readonly<SimSemantics> = Object.freeze({
  nullsAsc: 'last',
  nullsDesc: 'first',
  textOrder: 'case-insensitive',
  entityOrder: 'name',
  emptyOrTop: 'all',
  emptyOrNested: 'all',
  negationNulls: 'include',
  missingReturnField: 'omit',
  missingDeepReturnField: 'same',
  multiNegation: 'none',
  emptyOperand: 'set',
  inNullScalar: 'unset',
  inNullLink: 'unset',
});

const differs = (s: SimSemantics, keys: Array<keyof SimSemantics>) => keys.some((k) => s[k] !== DEFAULT_SIM_SEMANTICS[k]);
const ORDER_KEYS: Array<keyof SimSemantics> = ['nullsAsc', 'nullsDesc', 'textOrder', 'entityOrder'];
const FILTER_KEYS: Array<keyof SimSemantics> = ['emptyOrTop', 'emptyOrNested', 'negationNulls', 'multiNegation', 'emptyOperand', 'inNullScalar', 'inNullLink'];
const TEXT_OPERAND_OPS = new Set(['contains', 'not_contains', 'starts_with', 'ends_with']);
const LINK_TYPES = new Set(['entity', 'multi_entity', 'addressing']);

/** The site's active rows of a type (as the caller sees them): the far side of a multi-entity hop. */
export type RowsOf = (type: string) => readonly EntityRecord[];

/** Whether reads filter and order by the default rules (the knobs that change matches or order at their defaults). */
export function readsAsDefault(sem: SimSemantics): boolean {
  return !differs(sem, FILTER_KEYS) && !differs(sem, ORDER_KEYS);
}

/** The sim's own table of negated operators and their positive forms. */
const POSITIVE: Record<string, string> = {
  is_not: 'is',
  not_in: 'in',
  not_contains: 'contains',
  not_between: 'between',
  not_in_last: 'in_last',
  not_in_next: 'in_next',
  type_is_not: 'type_is',
  name_not_contains: 'name_contains',
};

const EVERY_ROW = 1_000_000_000;

/** How a missing return field `f` is answered: deep paths by their own knob unless it is `same`. */
function missingAs(sem: SimSemantics, f: string): 'omit' | 'null' | 'fault' {
  return f.includes('.') && sem.missingDeepReturnField !== 'same' ? sem.missingDeepReturnField : sem.missingReturnField;
}

/** A validated read under `sem`; the default semantics (executeRead) when every knob is at its default. */
export function simRead(ctx: ReadContext, sem: SimSemantics, params: ReadParams, candidates: readonly EntityRecord[], rowsOf: RowsOf = () => []): ReadResult {
  const fields = params.return_fields ?? ['id'];
  if (sem.missingReturnField === 'fault' || sem.missingDeepReturnField === 'fault') {
    for (const f of fields) {
      if (typeof f !== 'string' || f === 'type' || f === 'id' || missingAs(sem, f) !== 'fault') continue;
      const p = parseFieldPath(ctx.schema, params.type, f);
      if (!p.ok) throw new ShotgunFault(`API read() ${p.message}`, ErrorCode.API);
    }
  }
  const ownOrder = differs(sem, ORDER_KEYS) && (params.sorts ?? []).some((s) => parseFieldPath(ctx.schema, params.type, s.field_name).ok);
  const ownFilters = differs(sem, FILTER_KEYS);
  const matched = ownFilters ? matchTree(ctx, sem, params, candidates, rowsOf) : matchDefault(ctx, params, candidates);
  const rest = { ...params, filters: { logical_operator: 'and', conditions: [] } } as ReadParams;
  const nullColumns = sem.missingReturnField === 'null' || sem.missingDeepReturnField === 'null';
  if (!ownOrder && !nullColumns) return executeRead(ctx, rest, matched);
  const ordered = ownOrder
    ? orderRows(ctx, sem, params, matched)
    : idsToRowsInOrder(matched, executeRead(ctx, { ...rest, return_fields: ['id'], paging: { entities_per_page: EVERY_ROW, current_page: 1 } }, matched));
  const paging = params.paging ?? { entities_per_page: 500, current_page: 1 };
  const [start, end] = pageBounds(ordered.length, paging);
  const page = ordered.slice(start, end);
  const entities = page.map((rec) => project(ctx, sem, params, rec));
  const info = pagingInfo(params, ordered.length, paging);
  return info === undefined ? { entities } : { entities, paging_info: info };
}

/** A validated summarize under `sem`: the rows its filters match by the sim's rules, summarized by the default semantics. */
export function simSummarize(
  ctx: ReadContext,
  sem: SimSemantics,
  params: SummaryParams,
  candidates: readonly EntityRecord[],
  rowsOf: RowsOf = () => [],
): SummarizeResult {
  if (!differs(sem, FILTER_KEYS)) return executeSummarize(ctx, params, candidates);
  const asRead: ReadParams = {
    type: params.type,
    filters: params.filters,
    include_archived_projects: params.include_archived_projects,
    return_only: 'active',
  } as ReadParams;
  const matched = matchTree(ctx, sem, asRead, candidates, rowsOf);
  return executeSummarize(ctx, { ...params, filters: { logical_operator: 'and', conditions: [] } }, matched);
}

/** Matching rows in id order, by one default read without sorts or paging. */
function matchDefault(ctx: ReadContext, params: ReadParams, candidates: readonly EntityRecord[]): EntityRecord[] {
  return idsToRows(candidates, idsOf(ctx, params, params.filters, candidates));
}

function idsOf(ctx: ReadContext, params: ReadParams, filters: FilterGroup, candidates: readonly EntityRecord[]): Set<number> {
  const r = executeRead(
    ctx,
    {
      type: params.type,
      filters,
      return_fields: ['id'],
      return_only: params.return_only,
      include_archived_projects: params.include_archived_projects,
      paging: { entities_per_page: EVERY_ROW, current_page: 1 },
    } as ReadParams,
    candidates,
  );
  return new Set(r.entities.map((e) => e.id as number));
}

function idsToRowsInOrder(rows: EntityRecord[], r: ReadResult): EntityRecord[] {
  const byId = new Map(rows.map((x) => [x.id, x]));
  return r.entities.map((e) => byId.get(e.id as number)!);
}

function idsToRows(candidates: readonly EntityRecord[], ids: Set<number>): EntityRecord[] {
  const seen = new Set<number>();
  const out: EntityRecord[] = [];
  for (const c of candidates)
    if (ids.has(c.id) && !seen.has(c.id)) {
      seen.add(c.id);
      out.push(c);
    }
  return out.sort((a, b) => a.id - b.id);
}

/** The sim's own evaluation of the filter tree: leaf conditions one at a time, combined by its group and negation rules. */
function matchTree(ctx: ReadContext, sem: SimSemantics, params: ReadParams, candidates: readonly EntityRecord[], rowsOf: RowsOf): EntityRecord[] {
  const one = (c: Condition) => idsOf(ctx, params, { logical_operator: 'and', conditions: [c] }, candidates);
  const all = idsOf(ctx, params, { logical_operator: 'and', conditions: [] }, candidates);
  const minus = (a: Set<number>, b: Set<number>) => new Set([...a].filter((id) => !b.has(id)));
  /** The rows a negated condition matches, given the rows its positive form matches. */
  const negation = (c: Condition, hit: Set<number>): Set<number> => {
    const p = parseFieldPath(ctx.schema, params.type, c.path);
    if (p.ok && p.path.hops.some((h) => h.multi)) return multiNegation(c, hit, p.path.leafType, p.path.leafField, p.path.leaf.data_type);
    const out = minus(all, hit);
    // A checkbox is never NULL.
    if (sem.negationNulls === 'exclude' && p.ok && p.path.leaf.data_type !== 'checkbox') {
      for (const id of one({ path: c.path, relation: 'is', values: [null] })) out.delete(id);
    }
    return out;
  };
  /**
   * Through a multi-entity hop, from positive EXISTS conditions only: the rows reaching some linked row (`….id
   * greater_than 0`), and those reaching one that satisfies the negated form as a plain field of its own type
   * (`….id in [those]`, the far side's rows read by the sim's negation rule).
   */
  const multiNegation = (c: Condition, hit: Set<number>, leafType: string, leafField: string, leafDt: string): Set<number> => {
    const mode = sem.multiNegation === 'mixed' ? (c.relation === 'is_not' ? 'none' : 'some') : sem.multiNegation;
    if (mode === 'none') return minus(all, hit);
    const prefix = c.path.slice(0, c.path.length - leafField.length);
    const nonEmpty = one({ path: `${prefix}id`, relation: 'greater_than', values: [0] });
    if (mode === 'none-nonempty') return minus(nonEmpty, hit);
    const far: ReadParams = { type: leafType, return_only: 'active' } as ReadParams;
    const farRows = rowsOf(leafType);
    const farIds = (f: Condition) => idsOf(ctx, far, { logical_operator: 'and', conditions: [f] }, farRows);
    const farNeg = minus(
      idsOf(ctx, far, { logical_operator: 'and', conditions: [] }, farRows),
      farIds({ path: leafField, relation: POSITIVE[c.relation] ?? 'in', values: c.values }),
    );
    if (sem.negationNulls === 'exclude' && leafDt !== 'checkbox')
      for (const id of farIds({ path: leafField, relation: 'is', values: [null] })) farNeg.delete(id);
    const some = one({ path: `${prefix}id`, relation: 'in', values: [...farNeg] });
    return mode === 'some' ? some : new Set([...some, ...minus(all, nonEmpty)]);
  };
  const leaf = (c: Condition): Set<number> => {
    const p = parseFieldPath(ctx.schema, params.type, c.path);
    const dt = p.ok ? p.path.leaf.data_type : '';
    const negated = POSITIVE[c.relation] !== undefined;
    if (dt === 'text' && TEXT_OPERAND_OPS.has(c.relation) && c.values.length === 1 && c.values[0] === '' && sem.emptyOperand !== 'set') {
      if (sem.emptyOperand === 'ignored') return all;
      // `none`: the positive form matches no row; its negation is the complement by the negation rules.
      return negated ? negation(c, new Set()) : new Set();
    }
    if ((c.relation === 'in' || c.relation === 'not_in') && c.values.includes(null)) {
      const knob = LINK_TYPES.has(dt) ? sem.inNullLink : sem.inNullScalar;
      if (knob !== 'unset') {
        const values = c.values.filter((v) => v !== null);
        const hit = one({ ...c, relation: 'in', values });
        if (c.relation === 'in') return hit;
        // SQL: `x NOT IN (…, NULL)` is never true.
        return knob === 'sql' ? new Set() : negation({ ...c, values }, hit);
      }
    }
    if (!negated) return one(c);
    return negation(c, one({ ...c, relation: POSITIVE[c.relation] }));
  };
  const group = (g: FilterGroup, depth: number): Set<number> => {
    if (g.conditions.length === 0) {
      if (g.logical_operator === 'and') return all;
      return (depth === 0 ? sem.emptyOrTop : sem.emptyOrNested) === 'all' ? all : new Set();
    }
    const parts = g.conditions.map((c) => (isGroup(c) ? group(c, depth + 1) : leaf(c)));
    if (g.logical_operator === 'and') return parts.reduce((a, b) => new Set([...a].filter((id) => b.has(id))));
    return parts.reduce((a, b) => new Set([...a, ...b]));
  };
  return idsToRows(candidates, group(params.filters, 0));
}

type Wire = Record<string, unknown>;

/** Each row's wire values of the sort fields (the site's own projection of them). */
function sortValues(ctx: ReadContext, params: ReadParams, rows: EntityRecord[], fields: string[]): Map<number, Wire> {
  const r = executeRead(
    ctx,
    {
      type: params.type,
      filters: { logical_operator: 'and', conditions: [] },
      return_fields: fields,
      return_only: params.return_only,
      paging: { entities_per_page: EVERY_ROW, current_page: 1 },
    } as ReadParams,
    rows,
  );
  return new Map(r.entities.map((e) => [e.id as number, e]));
}

const utf8 = (s: string) => Buffer.from(s, 'utf8');
const localeCollator = new Intl.Collator('en', { sensitivity: 'base', ignorePunctuation: true, numeric: false });

function textCompare(sem: SimSemantics, a: string, b: string): number {
  switch (sem.textOrder) {
    // UTF-8 byte order is code-point order (PostgreSQL's "C" collation).
    case 'code-point':
      return Buffer.compare(utf8(a), utf8(b));
    case 'locale':
      return localeCollator.compare(a, b);
    case 'case-insensitive': {
      const x = a.toLowerCase();
      const y = b.toLowerCase();
      return x < y ? -1 : x > y ? 1 : 0;
    }
  }
}

/** The sim's comparator: per sort key, NULL placed by the knobs, values by data type; id ascending last. */
function orderRows(ctx: ReadContext, sem: SimSemantics, params: ReadParams, rows: EntityRecord[]): EntityRecord[] {
  const keys = (params.sorts ?? []).flatMap((s) => {
    const p = parseFieldPath(ctx.schema, params.type, s.field_name);
    return p.ok ? [{ field: s.field_name, desc: s.direction === 'desc', dt: p.path.leaf.data_type }] : [];
  });
  const values = sortValues(ctx, params, rows, [...new Set(keys.map((k) => k.field))]);
  const valueOf = (id: number, k: (typeof keys)[number]): unknown => {
    const v = values.get(id)?.[k.field];
    if (k.dt === 'checkbox') return v === true;
    return v === undefined ? null : v;
  };
  const compareValues = (dt: string, a: unknown, b: unknown): number => {
    if (typeof a === 'number' && typeof b === 'number') return a - b;
    if (typeof a === 'boolean') return Number(a) - Number(b);
    if (dt === 'entity') {
      const x = a as { type: string; id: number; name?: unknown };
      const y = b as typeof x;
      if (sem.entityOrder === 'id') return x.id - y.id || Buffer.compare(utf8(x.type), utf8(y.type));
      const c = textCompare(sem, typeof x.name === 'string' ? x.name : '', typeof y.name === 'string' ? y.name : '');
      return c || Buffer.compare(utf8(x.type), utf8(y.type)) || x.id - y.id;
    }
    if (dt === 'date' || dt === 'date_time') return Buffer.compare(utf8(String(a)), utf8(String(b)));
    return textCompare(sem, String(a), String(b));
  };
  return [...rows].sort((ra, rb) => {
    for (const k of keys) {
      const a = valueOf(ra.id, k);
      const b = valueOf(rb.id, k);
      const nullFirst = (k.desc ? sem.nullsDesc : sem.nullsAsc) === 'first';
      if (a === null && b === null) continue;
      if (a === null) return nullFirst ? -1 : 1;
      if (b === null) return nullFirst ? 1 : -1;
      const c = compareValues(k.dt, a, b);
      if (c !== 0) return k.desc ? -c : c;
    }
    return ra.id - rb.id;
  });
}

/** One row's entity dict: the default projection, with a null column for each missing field when the knob says so. */
function project(ctx: ReadContext, sem: SimSemantics, params: ReadParams, rec: EntityRecord): Wire {
  const r = executeRead(
    ctx,
    {
      ...params,
      filters: { logical_operator: 'and', conditions: [] },
      sorts: undefined,
      paging: { entities_per_page: 1, current_page: 1 },
      return_paging_info: false,
      return_paging_info_without_counts: false,
    } as ReadParams,
    [rec],
  );
  const e = r.entities[0];
  if (sem.missingReturnField !== 'null' && sem.missingDeepReturnField !== 'null') return e;
  const out: Wire = { type: e.type, id: e.id };
  for (const f of params.return_fields ?? []) {
    if (f === 'type' || f === 'id' || Object.hasOwn(out, f)) continue;
    if (Object.hasOwn(e, f)) out[f] = e[f];
    else if (missingAs(sem, f) === 'null') out[f] = null;
  }
  return out;
}
