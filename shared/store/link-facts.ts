// A target's link facts (its name and retired flag, denormalized into every stored link to it) pushed from its stored state, again until a re-read after the push confirms them.
//
// Why the re-read: a push is "read the target, then write every referrer", two steps another writer can come between.
// A consumer applying an event of one entity reads a target it links to while the target's own events are still being
// applied in the target's message group (e.g. retired), a Revival of the target then writes and pushes `retired: false`,
// and the first push (`retired: true`) lands last on some referrers: their links say retired for good, while the site
// shows the target active (the restart test caught it, issue 24). Versions do not order these derived facts, so every
// pusher re-reads the target after its push and pushes again while the facts differ. Whatever the interleaving, the last
// push each pusher makes carries the facts a read after it confirmed, so the links end with the target's final state.
import type { CachedSchema } from '../schema/index.js';
import type { EntityRecord } from '../semantics/index.js';
import type { EntityStore } from './entity-store.js';
import type { StoredEntity, Target } from './item-layout.js';

export interface LinkFacts {
  name?: unknown;
  retired: boolean;
}

/** Rounds of push-and-re-read before giving up (the caller's work fails and is retried: an event is redelivered). */
export const MAX_FACT_ROUNDS = 10;

/** The facts a stored entity shows to links: its retired flag, and its identifier value when it has one (not `id`). */
export function linkFactsOf(schema: CachedSchema, rec: EntityRecord): LinkFacts {
  const idf = schema.site.identifier(rec.type);
  const facts: LinkFacts = { retired: rec.retired };
  if (idf && idf !== 'id') facts.name = Object.hasOwn(rec.values, idf) ? rec.values[idf] : null;
  return facts;
}

const same = (a: LinkFacts, b: LinkFacts) => a.retired === b.retired && JSON.stringify(a.name) === JSON.stringify(b.name);

/**
 * Pushes the target's stored facts into every stored link to it, then reads the target again and pushes again while
 * its facts changed meanwhile. Returns the referrers updated; 0 when the target is not stored. `first`: the target's
 * stored state when the caller has just read it (a batch read), in place of the first read.
 */
export async function propagateStoredFacts(
  store: Pick<EntityStore, 'get' | 'propagateLinkFacts'>,
  schema: CachedSchema,
  target: Target,
  first?: StoredEntity,
): Promise<number> {
  let entities = 0;
  let stored = first ?? (await store.get(target.type, target.id));
  for (let round = 1; stored; round++) {
    const facts = linkFactsOf(schema, stored.record);
    entities += (await store.propagateLinkFacts(target, facts)).entities;
    stored = await store.get(target.type, target.id);
    if (!stored || same(facts, linkFactsOf(schema, stored.record))) return entities;
    if (round >= MAX_FACT_ROUNDS) throw new Error(`the link facts of ${target.type} #${target.id} kept changing during ${round} pushes`);
  }
  return entities;
}
