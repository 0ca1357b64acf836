// Entity items read up front for a batch of writes (one consistent BatchGetItem), each handed once to the first read-merge-write of its entity.
//
// Why it is safe: the read-merge-write (EntityStore.mutate) writes under an optimistic lock on the item it read (`w`,
// or `attribute_not_exists(pk)` when there was none). An item read at the batch's start that another writer has changed
// since only makes the conditional write fail, and the retry reads the entity again (a prefetched item is taken once).
import { AsyncLocalStorage } from 'node:async_hooks';
import { ENTITY_SK, entityPk, type Item, type Target } from './item-layout.js';

/** One batch's prefetched entity items: pk → the item as read (null: the entity had no item then). */
export class PrefetchedStates {
  constructor(private readonly items: Map<string, Item | null>) {}

  /** The item read for `pk` (null: none was stored), once; undefined when it was not prefetched or already taken. */
  take(pk: string): Item | null | undefined {
    if (!this.items.has(pk)) return undefined;
    const it = this.items.get(pk) ?? null;
    this.items.delete(pk);
    return it;
  }
}

const scope = new AsyncLocalStorage<PrefetchedStates>();

/**
 * Reads the entity items of `targets` (one consistent BatchGetItem through `batchGet`, 100 keys a call), then runs `fn`
 * with them available to every entity-store read-merge-write it makes (directly or not): each entity's first one starts
 * from its prefetched item instead of its own GetItem.
 */
export async function withPrefetchedStates<T>(targets: readonly Target[], batchGet: (keys: Item[]) => Promise<Item[]>, fn: () => Promise<T>): Promise<T> {
  const pks = [...new Set(targets.map((t) => entityPk(t.type, t.id)))];
  const found = new Map<string, Item | null>(pks.map((pk) => [pk, null]));
  for (const it of await batchGet(pks.map((pk) => ({ pk: { S: pk }, sk: { S: ENTITY_SK } })))) found.set(it.pk.S!, it);
  return scope.run(new PrefetchedStates(found), fn);
}

/** The prefetched item of `pk` in the current batch, taken (see PrefetchedStates.take). */
export const takePrefetched = (pk: string): Item | null | undefined => scope.getStore()?.take(pk);
