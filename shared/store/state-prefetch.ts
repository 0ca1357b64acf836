// Entity items read up front for a batch of writes (one consistent BatchGetItem), each handed once to the first read-merge-write of its entity.
//
// Why it is safe: the read-merge-write (EntityStore.mutate) writes under an optimistic lock on the item it read (`w`,
// or `attribute_not_exists(pk)` when there was none). An item read at the batch's start that another writer has changed
// since only makes the conditional write fail, and the retry reads the entity again (a prefetched item is taken once).
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Item } from './item-layout.js';

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

/** Runs `fn` with `states` available to every entity-store read-merge-write it makes (directly or not). */
export const withPrefetchedStates = <T>(states: PrefetchedStates, fn: () => Promise<T>): Promise<T> => scope.run(states, fn);

/** The prefetched item of `pk` in the current batch, taken (see PrefetchedStates.take). */
export const takePrefetched = (pk: string): Item | null | undefined => scope.getStore()?.take(pk);
