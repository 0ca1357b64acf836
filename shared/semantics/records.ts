// Entity records as the semantics model sees them: stored values in canonical wire form, links as {type, id}.
import type { Link } from '../site/index.js';

/**
 * One entity. `values` holds every known field in canonical wire form (date "YYYY-MM-DD", date_time
 * "YYYY-MM-DDTHH:MM:SSZ", links {type, id} without name, multi_entity arrays in the site's order);
 * a field absent from `values` is unset (null, or [] for multi_entity).
 */
export interface EntityRecord {
  type: string;
  id: number;
  retired: boolean;
  values: Record<string, unknown>;
}

/**
 * Synchronous access to linked entities, for link names and deep fields. The simulated site backs it
 * with its in-memory store; the cache prefetches the needed entities in batches and serves them from a map.
 * Returns retired entities too (the caller decides what is visible).
 */
export interface EntityLookup {
  get(type: string, id: number): EntityRecord | undefined;
}

export function linkKey(l: Link): string {
  return `${l.type}#${l.id}`;
}
