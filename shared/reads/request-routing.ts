// How each JSON-RPC method is answered (cache, site with write-through, or site) and the x-fpt-cache-require switch.
//
// * `read`: from the cache when the planner, the access rules and the caller's verified credentials allow it
//   (shared/reads/cached-reads.ts), else passed through.
// * `info`: the site's own reply, kept in memory for a few minutes, byte for byte (shared/site/site-info.ts); the cache's version in a header.
// * `create`, `update`, `delete`, `revive`, `batch`: passed through with the caller's own credentials, then written
//   through into the cache (shared/reads/write-through.ts).
// * `schema_read`, `schema_entity_read`, `schema_field_read`: the site's own reply, kept per caller, params and
//   deployed schema while the schema generation stands (shared/reads/schema-replies.ts). Never built from the cached
//   schema (schema/*.yml): a subset (cached types and fields, data_type / valid_types / valid_values only), while the
//   site answers every type and field with its full property set (name, description, editable, visible per caller
//   and project ...).
// * `schema_field_create`, `schema_field_update`, `schema_field_delete`: passed through, then the schema generation
//   bumped before the client sees the answer (its next schema read is the site's).
// * `summarize`: like `read` (planned as the read of its filters and fields; shared/query/read-engine.ts).
// * Everything else (`text_search`, `get_session_token`, ...): passed through unchanged.
import { ErrorCode, ShotgunFault, type RpcRequest } from '../site/index.js';
import { WRITE_METHODS } from './write-through.js';
import { SCHEMA_METHODS, SCHEMA_WRITE_METHODS } from './schema-replies.js';

export type Route =
  | { kind: 'read'; method: 'read' | 'summarize' }
  | { kind: 'info' }
  | { kind: 'schema'; reason: `method:${string}` }
  | { kind: 'schema-write'; reason: `method:${string}` }
  | { kind: 'write'; reason: `method:${string}` }
  | { kind: 'pass'; reason: `method:${string}` };

export function routeOf(request: RpcRequest): Route {
  const m = request.method_name;
  if (m === 'read' || m === 'summarize') return { kind: 'read', method: m };
  if (m === 'info') return { kind: 'info' };
  if (SCHEMA_METHODS.has(m)) return { kind: 'schema', reason: `method:${m}` };
  if (SCHEMA_WRITE_METHODS.has(m)) return { kind: 'schema-write', reason: `method:${m}` };
  if (WRITE_METHODS.has(m)) return { kind: 'write', reason: `method:${m}` };
  return { kind: 'pass', reason: `method:${m}` };
}

/** Request header: `x-fpt-cache-require: hit` turns a read-only request that would go to the site into fault 1001. */
export const REQUIRE_HEADER = 'x-fpt-cache-require';

/** Whether the request demands a cache answer. Writes are exempt: they always reach the site by design. */
export function requiresHit(headers: Record<string, string | undefined>): boolean {
  return (headers[REQUIRE_HEADER] ?? '').trim().toLowerCase() === 'hit';
}

export function refusedPass(method: string, reason: string): ShotgunFault {
  return new ShotgunFault(`fpt-cache: ${REQUIRE_HEADER}: hit, but this ${method} would pass through to the site (${reason})`, ErrorCode.CACHE_MISS_REFUSED);
}
