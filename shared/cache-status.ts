// The cache's readiness for GET /status: per cached type whether it is served, and how many of its fields are.
import type { CachedSchema } from './cached-schema.js';
import type { Readiness } from './readiness.js';

export interface CacheStatus {
  /** Every cached type is ready: reads of any cached type can be answered from the cache. */
  ready: boolean;
  mode: 'cache';
  version: string;
  upstream: string;
  types: Record<string, { ready: boolean; fields: number; of: number }>;
}

export function cacheStatus(schema: CachedSchema, readiness: Readiness, info: { version: string; upstream: string }): CacheStatus {
  const types: CacheStatus['types'] = {};
  for (const type of schema.site.typeNames) {
    const fields = Object.keys(schema.site.type(type)!.fields);
    types[type] = { ready: readiness.isTypeReady(type), fields: fields.filter((f) => readiness.isFieldReady(type, f)).length, of: fields.length };
  }
  return { ready: Object.values(types).every((t) => t.ready), mode: 'cache', version: info.version, upstream: info.upstream, types };
}
