// Link targets seen from their referrers: which cached link fields may point to a type, re-reading the referrers of a revived target, and refreshing the facts of uncached targets.
import type { CachedSchema } from '../schema/index.js';
import { ShotgunFault } from '../site/index.js';
import type { EntityStore, Readiness, ReadinessStore } from '../store/index.js';
import type { EntityRefresher } from './entity-refresh.js';
import { fetchable } from './entity-refresh.js';
import { PAGE_SIZE, type SiteFetcher } from './site-fetch.js';

/** Every (cached type, field) whose link may point to `targetType`, drifted fields left out. */
export function linkFieldsTo(schema: CachedSchema, targetType: string, view?: Readiness): Array<{ type: string; field: string }> {
  const out: Array<{ type: string; field: string }> = [];
  for (const type of schema.site.typeNames) {
    for (const [field, def] of Object.entries(schema.site.type(type)!.fields)) {
      if ((def.data_type !== 'entity' && def.data_type !== 'multi_entity') || !def.valid_types?.includes(targetType)) continue;
      if (!view?.isDrifted(type, field)) out.push({ type, field });
    }
  }
  return out;
}

interface Deps {
  schema: CachedSchema;
  store: EntityStore;
  readiness: ReadinessStore;
  fetcher: SiteFetcher;
}

/**
 * A target revived while nobody watched: referrers read while it was retired hold no link to it (the site hid it), and
 * their updated_at did not move when it came back. Every cached field that may point to it is asked for it; those
 * entities are re-read and written at `stamp` (refresh semantics). Returns how many were written.
 */
export async function relinkTo(d: Deps, refresher: EntityRefresher, target: { type: string; id: number }, stamp: number): Promise<number> {
  const view = await d.readiness.load();
  let n = 0;
  for (const { type, field } of linkFieldsTo(d.schema, target.type, view)) {
    const keep = fetchable(d.schema, view, type);
    const recs = (await d.fetcher.linking(type, field, target)).map((r) =>
      keep ? { ...r, values: Object.fromEntries(Object.entries(r.values).filter(([f]) => keep.includes(f))) } : r,
    );
    n += (await refresher.write(recs, stamp)).merged;
  }
  return n;
}

/** Types cached links may point to that the cache does not store (their facts live only in the links). */
export function uncachedTargets(schema: CachedSchema): string[] {
  const out = new Set<string>();
  for (const type of schema.site.typeNames) {
    for (const def of Object.values(schema.site.type(type)!.fields)) {
      if (def.data_type !== 'entity' && def.data_type !== 'multi_entity') continue;
      for (const t of def.valid_types ?? []) if (!schema.site.hasType(t)) out.add(t);
    }
  }
  return [...out].sort();
}

/**
 * The facts of uncached link targets as the site shows them now, pushed into every stored link (a push writes only the
 * referrers whose links differ): retired ones flagged, active ones unflagged and renamed. With `relinkRevived` (revives
 * are proven to move updated_at), active targets updated since `since` also get their referrers re-read (relinkTo).
 */
export async function refreshLinkTargets(
  d: Deps,
  refresher: EntityRefresher,
  o: { since?: number; relinkRevived: boolean; stamp: number },
): Promise<{ targets: number; pushed: number; relinked: number }> {
  const out = { targets: 0, pushed: 0, relinked: 0 };
  for (const type of uncachedTargets(d.schema)) {
    const idf = d.schema.site.identifier(type);
    const named = idf !== undefined && idf !== 'id';
    const relink = o.relinkRevived && o.since !== undefined;
    for (const retired of [false, true]) {
      const fields = [...(named ? [idf] : []), ...(relink && !retired ? ['updated_at'] : [])];
      for (let afterId = 0; ;) {
        let page;
        try {
          page = await d.fetcher.page({ type, retired, afterId, fields });
        } catch (e) {
          // A type the site does not have (any more): no link to it can be shown either way.
          if (e instanceof ShotgunFault) break;
          throw e;
        }
        for (const r of page) {
          out.targets++;
          const target = { type, id: r.id };
          const facts = retired ? { retired: true } : { retired: false, ...(named ? { name: r.values[idf] ?? null } : {}) };
          out.pushed += (await d.store.propagateLinkFacts(target, facts)).entities;
          const updated = Date.parse(String(r.values.updated_at ?? ''));
          if (!retired && relink && Number.isFinite(updated) && updated >= o.since! - 1000) out.relinked += await relinkTo(d, refresher, target, o.stamp);
        }
        if (page.length < PAGE_SIZE) break;
        afterId = page[page.length - 1].id;
      }
    }
  }
  return out;
}
