// The read pipeline of the semantics model: validate, filter, order, page and project a `read`, exactly as the site does.
// STUB: the contract other modules code against; the semantics work replaces the bodies.
import type { SiteSchema } from './schema-model.js';
import type { EntityLookup, EntityRecord } from './records.js';
import type { ReadParams, ReadResult, SummaryParams } from './wire.js';

export interface ReadContext {
  schema: SiteSchema;
  /** Linked entities, for link names and deep fields. */
  lookup: EntityLookup;
  /** The clock for in_last / in_next / in_calendar_*. */
  now: Date;
}

/** Throws ShotgunFault (the site's message) when the request is invalid for the schema: unknown type, filter field, operator or value shape. */
export function validateRead(_schema: SiteSchema, _params: ReadParams): void {
  throw new Error('not implemented');
}

/**
 * Runs a validated read over `candidates` (every entity of params.type that could match; extra ones are
 * filtered out): return_only, filters, sorts (default id asc), paging, projection with link names and deep
 * fields, and paging_info per the request's flag.
 */
export function executeRead(_ctx: ReadContext, _params: ReadParams, _candidates: Iterable<EntityRecord>): ReadResult {
  throw new Error('not implemented');
}

export interface SummarizeResult { summaries: Record<string, unknown>; groups?: unknown[] }
export function executeSummarize(_ctx: ReadContext, _params: SummaryParams, _candidates: Iterable<EntityRecord>): SummarizeResult {
  throw new Error('not implemented');
}
