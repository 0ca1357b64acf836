// A target's facts patched into one referencing entity: the names and retired flags of its links to the target as propagateLinkFacts writes them, and its orphan edges.
import type { CachedSchema } from '../schema/index.js';
import { cloneState, edgeKeys, isLinkType, isObj } from './item-codec.js';
import { edgeId, edgeKey, type EntityState, type Item, type LinkValue, type Target } from './item-layout.js';

/** One entity found linking to the target: through which fields, and which of them by an edge item. */
export interface Referrer {
  type: string;
  id: number;
  fields: Set<string>;
  edgeFields: Set<string>;
}

/**
 * What propagating `facts` of `target` does to `cur`: the patched state (undefined when every link already carries
 * the facts) and the edge items found for links `cur` does not hold (orphans, to delete).
 */
export function patchLinkFacts(
  schema: CachedSchema,
  cur: EntityState,
  e: Referrer,
  target: Target,
  facts: { name?: unknown; retired?: boolean },
): { next?: EntityState; orphans: Item[] } {
  const have = edgeKeys(schema, cur);
  const orphans = [...e.edgeFields].filter((f) => !have.has(edgeId(f, target))).map((f) => edgeKey(e.type, e.id, f, target));
  const next = cloneState(cur);
  let changed = false;
  for (const field of e.fields) {
    const dt = schema.site.dataType(e.type, field);
    if (!isLinkType(dt)) continue;
    const patch = (l: LinkValue): LinkValue => {
      if (l.type !== target.type || l.id !== target.id) return l;
      const n: LinkValue = { ...l };
      if (facts.name !== undefined && n.name !== facts.name) {
        n.name = facts.name;
        changed = true;
      }
      if (facts.retired !== undefined && (n.retired === true) !== facts.retired) {
        if (facts.retired) n.retired = true;
        else delete n.retired;
        changed = true;
      }
      return n;
    };
    const v = next.values[field];
    if (dt === 'entity' && isObj(v)) next.values[field] = patch(v as unknown as LinkValue);
    else if (dt === 'multi_entity' && Array.isArray(v)) next.values[field] = (v as LinkValue[]).map(patch);
  }
  if (!changed) return { orphans };
  next.w = cur.w + 1;
  return { next, orphans };
}
