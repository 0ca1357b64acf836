// Re-reading entities from the site and writing them as reconciliation does: a fresh stamp, refresh semantics, link facts and edges, ids the site no longer has removed.
//
// Used by the reconciler's scans and sweep and by the shadow verifier's repair of a stale answer (docs/shadow.md
// "Stale or wrong"). A re-read reflects no newer *event* than the stamp taken before it but may reflect writes that
// logged none, so a state of the same version is replaced (`refresh`); a newer one still wins (docs/sync.md "Versions").
import type { CachedSchema } from '../schema/index.js';
import type { EntityRecord } from '../semantics/index.js';
import { linkFactsOf, propagateStoredFacts, type EntityStore, type Readiness, type StoredEntity } from '../store/index.js';
import { versionStamp, type ImporterDeps } from './importer.js';
import { cachedFields, type SiteFetcher } from './site-fetch.js';

export interface EntityRefreshDeps {
  schema: CachedSchema;
  store: EntityStore;
  fetcher: SiteFetcher;
  events: ImporterDeps['events'];
  lease: ImporterDeps['lease'];
}

export class EntityRefresher {
  constructor(private readonly d: EntityRefreshDeps) {}

  /** The version stamp of a re-read about to start (the site's latest event id, lowered below uncommitted ids). */
  stamp(at = Date.now()): Promise<number> {
    return versionStamp(this.d, at, { initialize: false });
  }

  /**
   * Writes records read from the site at `stamp` with refresh semantics, then their link facts and edges. With
   * `changedFactsOnly` (the trimmed-log rebuild, whose scans rewrite many entities), facts are pushed only for entities
   * whose name or retired flag this write changed (or that were not stored): the others' referrers already hold them.
   */
  async write(records: readonly EntityRecord[], stamp: number, opts: { changedFactsOnly?: boolean } = {}): Promise<{ created: number; merged: number }> {
    const before = opts.changedFactsOnly ? await this.states(records) : undefined;
    const w = await this.d.store.importEntities(records, stamp, { refresh: true });
    await this.afterWrite(records, before);
    return { created: w.created, merged: w.merged };
  }

  /**
   * Re-reads `ids` of `type` from the site (active or retired) at a fresh stamp and writes them; ids the site no longer
   * has at all are removed from the cache. `fields`: the readable cached fields (drifted ones left out).
   */
  async refresh(type: string, ids: readonly number[], fields?: readonly string[]): Promise<{ written: number; removed: number }> {
    if (!ids.length) return { written: 0, removed: 0 };
    const stamp = await this.stamp();
    const found = await this.d.fetcher.byIds(type, ids, fields);
    await this.write([...found.values()], stamp);
    let removed = 0;
    for (const id of new Set(ids)) if (!found.has(id) && (await this.remove(type, id))) removed++;
    return { written: found.size, removed };
  }

  /** Removes an entity the site no longer has, and marks links to it retired. */
  async remove(type: string, id: number): Promise<boolean> {
    const n = await this.d.store.removeEntity(type, id);
    await this.d.store.propagateLinkFacts({ type, id }, { retired: true });
    return n > 0;
  }

  /** The stored states of `records` (one BatchGetItem per 100 of a type), by "Type#id". */
  private async states(records: readonly EntityRecord[]): Promise<Map<string, StoredEntity>> {
    const byType = new Map<string, number[]>();
    for (const r of records) byType.set(r.type, [...(byType.get(r.type) ?? []), r.id]);
    const states = new Map<string, StoredEntity>();
    for (const [type, ids] of byType) for (const e of (await this.d.store.getMany(type, ids)).entities) states.set(`${type}#${e.record.id}`, e);
    return states;
  }

  /** Link facts from the stored state (names, retired flags) and edges, for every entity just re-read (`before`: only where the facts changed). */
  private async afterWrite(records: readonly EntityRecord[], before?: Map<string, StoredEntity>): Promise<void> {
    const states = await this.states(records);
    const unchanged = (key: string, now: StoredEntity) => {
      const was = before?.get(key);
      return was !== undefined && JSON.stringify(linkFactsOf(this.d.schema, was.record)) === JSON.stringify(linkFactsOf(this.d.schema, now.record));
    };
    const queue = [...records];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let rec = queue.shift(); rec; rec = queue.shift()) {
          const stored = states.get(`${rec.type}#${rec.id}`);
          if (!stored) continue;
          // Pushed until a read after the push confirms them (shared/store/link-facts.ts): the consumer may change them meanwhile.
          if (!before || !unchanged(`${rec.type}#${rec.id}`, stored))
            await propagateStoredFacts(this.d.store, this.d.schema, { type: rec.type, id: rec.id }, stored);
          await this.d.store.repairEdges(rec.type, rec.id);
        }
      }),
    );
  }
}

/** The cached fields of `type` to read from the site: all (undefined) unless some are drifted (those are left out). */
export function fetchable(schema: CachedSchema, ready: Readiness, type: string): string[] | undefined {
  const all = cachedFields(schema, type);
  return all.some((f) => ready.isDrifted(type, f)) ? all.filter((f) => !ready.isDrifted(type, f)) : undefined;
}
