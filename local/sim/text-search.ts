// Text search on the simulated site (query_display_name_cache, shotgun_api3's text_search): entities of the asked types whose display name holds every word, under each type's filters.
//
// Terms are the text's words, lower-cased; a match's display name (the type's identifier field) contains every term,
// case-insensitively. Types are searched in the order given, each through an ordinary read as the caller (its
// permissions apply), narrowed to `project_ids` when given. ASSUMPTION: hosted sites rank matches by relevance and
// also match words inside other text fields; the sim keeps the given type order and id order, and names only.
import { z } from 'zod';
import { ErrorCode, ShotgunFault, type Link } from '../../shared/site/index.js';
import type { SiteSchema } from '../../shared/schema/index.js';
import { parseParams } from './rpc-params.js';

const ParamsSchema = z.looseObject({
  text: z.string(),
  entity_types: z.record(z.string(), z.unknown()),
  project_ids: z.array(z.number().int()).nullish(),
  max_results: z.number().int().positive().nullish(),
});
/** Matches per search when no limit is given (ASSUMPTION: the hosted default is not documented). */
const DEFAULT_MAX = 50;
/** Fewer characters than this is refused, as a hosted site refuses a one-letter search. */
const MIN_TEXT = 2;

/** Runs one read as the caller: the `results` of a read request. */
export type ReadAs = (params: unknown) => { entities: Array<Record<string, unknown>> };

export function textSearch(schema: SiteSchema, read: ReadAs, params: unknown): Record<string, unknown> {
  const p = parseParams('query_display_name_cache', ParamsSchema, params);
  if (p.text.trim().length < MIN_TEXT)
    throw new ShotgunFault(`API query_display_name_cache() the search text needs at least ${MIN_TEXT} characters`, ErrorCode.API);
  const terms = p.text.toLowerCase().split(/\s+/).filter(Boolean);
  const max = p.max_results ?? DEFAULT_MAX;
  const matches: Array<Record<string, unknown>> = [];
  for (const [type, filters] of Object.entries(p.entity_types)) {
    const tdef = schema.type(type);
    if (!tdef) throw new ShotgunFault(`API query_display_name_cache() entity type ${type} doesn't exist`, ErrorCode.API);
    const ident = tdef.identifier;
    const fields = [ident, ...(tdef.fields.project ? ['project'] : []), ...(tdef.fields.image ? ['image'] : [])];
    const given = isGroup(filters) ? filters : { logical_operator: 'and', conditions: [] };
    for (let page = 1; matches.length < max; page++) {
      const { entities } = read({ type, return_fields: fields, filters: given, paging: { entities_per_page: 500, current_page: page } });
      for (const e of entities) {
        const name = e[ident];
        if (typeof name !== 'string' && typeof name !== 'number') continue;
        const lower = String(name).toLowerCase();
        if (!terms.every((t) => lower.includes(t))) continue;
        const project = e.project as Link | null | undefined;
        if (p.project_ids?.length && !(project && p.project_ids.includes(project.id))) continue;
        matches.push({ type, id: e.id, name, project_id: project?.id ?? null, image: e.image ?? null });
        if (matches.length >= max) break;
      }
      if (entities.length < 500) break;
    }
  }
  return { terms, matches };
}

function isGroup(v: unknown): v is { logical_operator: string; conditions: unknown[] } {
  return typeof v === 'object' && v !== null && Array.isArray((v as { conditions?: unknown }).conditions);
}
