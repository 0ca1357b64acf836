// The read pipeline of the semantics model: validate, filter, order, page and project a `read` (and run a `summarize`), exactly as the site does.
import { fieldValue } from './field-paths.js';
import { apiFault, compileFilters, MATCH_ALL, type RecordPredicate } from './filters.js';
import { linkTarget } from './links.js';
import { compileSorts, sortRecords } from './ordering.js';
import { pageBounds, pagingInfo } from './paging.js';
import { compileProjection } from './projection.js';
import type { EntityLookup, EntityRecord } from './records.js';
import type { SiteSchema } from '../schema/index.js';
import { applyFilterRules } from './rule-filters.js';
import { DEFAULT_RULES, type RuleValues } from './site-rules.js';
import { compileSummaries, computeSummaries, type SummaryGroup } from './summaries.js';
import type { FilterGroup, ReadParams, ReadResult, SummaryParams } from '../site/index.js';

export interface ReadContext {
  schema: SiteSchema;
  /** Linked entities, for link names and deep fields. */
  lookup: EntityLookup;
  /** The clock for in_last / in_next / in_calendar_*. */
  now: Date;
  /** The site's rules (shared/site-rules.ts); default: docs/semantics.md's documented choices. */
  rules?: RuleValues;
}

const NO_LOOKUP: EntityLookup = { get: () => undefined };
const EPOCH = new Date(0);
/** Params that skipped zod's defaults may lack `filters`: no filter. */
const NO_FILTERS: FilterGroup = { logical_operator: 'and', conditions: [] };

function requireType(schema: SiteSchema, type: unknown, method: string): string {
  if (typeof type !== 'string' || !schema.hasType(type)) throw apiFault(method, `entity type ${String(type)} doesn't exist`);
  return type;
}

/** Throws ShotgunFault (the site's message) when the request is invalid for the schema: unknown type, filter field, operator or value shape. */
export function validateRead(schema: SiteSchema, params: ReadParams): void {
  const type = checkReadRequest(schema, params);
  compileFilters({ schema, lookup: NO_LOOKUP, now: EPOCH, method: 'read' }, type, params.filters ?? NO_FILTERS);
  compileSorts(schema, NO_LOOKUP, type, params.sorts, 'read');
}

function checkReadRequest(schema: SiteSchema, params: ReadParams): string {
  const type = requireType(schema, params.type, 'read');
  if (Array.isArray(params.additional_filter_presets) && params.additional_filter_presets.length > 0) {
    throw apiFault('read', 'additional_filter_presets are not supported');
  }
  return type;
}

/**
 * With include_archived_projects: false, rows whose project is archived are left out (and archived Projects
 * themselves, for a read of Project). Needs the Project records in the lookup.
 */
function archivedFilter(ctx: ReadContext, type: string, include: boolean | undefined): RecordPredicate {
  if (include !== false) return MATCH_ALL;
  if (type === 'Project') return (r) => r.values.archived !== true;
  const def = ctx.schema.field(type, 'project');
  if (def?.data_type !== 'entity') return MATCH_ALL;
  const lookup = ctx.lookup;
  return (r) => linkTarget(fieldValue(r, 'project'), 'Project', lookup)?.values.archived !== true;
}

function both(a: RecordPredicate, b: RecordPredicate): RecordPredicate {
  if (a === MATCH_ALL) return b;
  if (b === MATCH_ALL) return a;
  return (r) => a(r) && b(r);
}

/**
 * Runs a validated read over `candidates` (every entity of params.type that could match; extra ones are
 * filtered out): return_only, filters, sorts (default id asc), paging, projection with link names and deep
 * fields, and paging_info per the request's flag.
 */
export function executeRead(ctx: ReadContext, params: ReadParams, candidates: Iterable<EntityRecord>): ReadResult {
  const type = checkReadRequest(ctx.schema, params);
  const rules = ctx.rules ?? DEFAULT_RULES;
  const matches = readMatcher(ctx, params);
  const sorts = compileSorts(ctx.schema, ctx.lookup, type, params.sorts, 'read', rules);
  let matched: EntityRecord[] = [];
  for (const rec of candidates) if (matches(rec)) matched.push(rec);
  sortRecords(matched, sorts);
  matched = dropDuplicateIds(matched);
  const paging = params.paging ?? { entities_per_page: 500, current_page: 1 };
  const [start, end] = pageBounds(matched.length, paging);
  const projection = compileProjection(ctx.schema, ctx.lookup, type, params.return_fields ?? ['id'], rules.missingReturnField);
  const entities = new Array<Record<string, unknown>>(end - start);
  for (let i = start; i < end; i++) entities[i - start] = projection.project(matched[i]);
  const info = pagingInfo(params, matched.length, paging);
  return info === undefined ? { entities } : { entities, paging_info: info };
}

/**
 * Whether a record is one of a `read`'s matches (its type, return_only, include_archived_projects and filters), as
 * executeRead decides it; linked records come from `ctx.lookup` when the predicate runs. Throws ShotgunFault as
 * executeRead does for an invalid request.
 */
export function readMatcher(ctx: ReadContext, params: ReadParams): RecordPredicate {
  const type = checkReadRequest(ctx.schema, params);
  const rules = ctx.rules ?? DEFAULT_RULES;
  const filter = both(
    archivedFilter(ctx, type, params.include_archived_projects),
    compileFilters(
      { schema: ctx.schema, lookup: ctx.lookup, now: ctx.now, method: 'read', rules },
      type,
      applyFilterRules(ctx.schema, type, params.filters ?? NO_FILTERS, rules),
    ),
  );
  const wantRetired = params.return_only === 'retired';
  return (rec) => rec.type === type && rec.retired === wantRetired && filter(rec);
}

/** Candidates must be unique; a repeated id (same record twice) sorts adjacent and is dropped here. */
function dropDuplicateIds(recs: EntityRecord[]): EntityRecord[] {
  for (let i = 1; i < recs.length; i++) {
    if (recs[i].id === recs[i - 1].id) {
      const seen = new Set<number>();
      return recs.filter((r) => (seen.has(r.id) ? false : (seen.add(r.id), true)));
    }
  }
  return recs;
}

export interface SummarizeResult {
  summaries: Record<string, unknown>;
  groups: SummaryGroup[];
}

/** Throws ShotgunFault when a summarize request is invalid or asks for an unsupported summary or grouping type. */
export function validateSummarize(schema: SiteSchema, params: SummaryParams): void {
  const type = requireType(schema, params.type, 'summarize');
  compileFilters({ schema, lookup: NO_LOOKUP, now: EPOCH, method: 'summarize' }, type, params.filters ?? NO_FILTERS);
  compileSummaries(schema, NO_LOOKUP, params);
}

/** Runs `summarize` over `candidates` (active entities of params.type; others are ignored). */
export function executeSummarize(ctx: ReadContext, params: SummaryParams, candidates: Iterable<EntityRecord>): SummarizeResult {
  const type = requireType(ctx.schema, params.type, 'summarize');
  const filter = both(
    archivedFilter(ctx, type, params.include_archived_projects),
    compileFilters(
      { schema: ctx.schema, lookup: ctx.lookup, now: ctx.now, method: 'summarize', rules: ctx.rules },
      type,
      applyFilterRules(ctx.schema, type, params.filters ?? NO_FILTERS, ctx.rules),
    ),
  );
  const compiled = compileSummaries(ctx.schema, ctx.lookup, params);
  const matched: EntityRecord[] = [];
  const seen = new Set<number>();
  for (const rec of candidates) {
    if (rec.type !== type || rec.retired || seen.has(rec.id)) continue;
    seen.add(rec.id);
    if (filter(rec)) matched.push(rec);
  }
  return computeSummaries(ctx.schema, ctx.lookup, matched, compiled);
}
