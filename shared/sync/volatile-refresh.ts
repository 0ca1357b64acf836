// Renewing signed URLs before they expire: entities recently served with them (shared/store/recent-volatile.ts) are re-read from the site when their earliest signature nears the margin.
//
// Bounded work per run (`maxEntities`, earliest expiry first). A value naming the same object renews its signature
// (no version, no change counter); one naming another object (a thumbnail processed since: the placeholder replaced,
// or a change no event carried) is written as a field change at a stamp taken before the reads (refresh semantics:
// a newer event still wins), like the reconciler's other re-reads.
import type { CachedSchema } from '../schema/index.js';
import { DEFAULT_SIGNED_URL_MARGIN_S, renews, sameObjects, volatility } from '../site/index.js';
import type { EntityStore, RecentVolatileReads } from '../store/index.js';
import { cachedFields, type SiteFetcher } from './site-fetch.js';

/** Renew what expires within the margin plus this lead (a reconcile interval or two: the next run may be late). */
export const DEFAULT_VOLATILE_LEAD_MS = 15 * 60_000;
/** At most this many entities re-read per run. */
export const DEFAULT_VOLATILE_MAX_ENTITIES = 500;

export interface VolatileRefreshDeps {
  schema: CachedSchema;
  store: Pick<EntityStore, 'getMany' | 'renewSignatures' | 'applyChange'>;
  fetcher: Pick<SiteFetcher, 'byIds'>;
  recent: Pick<RecentVolatileReads, 'expiringBefore' | 'renewed'>;
  /** A version stamp for re-reads about to start (shared/sync/entity-refresh.ts stamp()). */
  stamp: () => Promise<number>;
  log?: (message: string, details?: Record<string, unknown>) => void;
}

export interface VolatileRefreshOptions {
  now?: () => number;
  marginMs?: number;
  leadMs?: number;
  maxEntities?: number;
}

export interface VolatileRefreshOutcome {
  due: number;
  renewed: number;
  changed: number;
  gone: number;
}

/** The cached fields of a type that can hold signed URLs (image, url). */
export function volatileFields(schema: CachedSchema, type: string): string[] {
  return cachedFields(schema, type).filter((f) => ['image', 'url'].includes(schema.site.dataType(type, f) ?? ''));
}

export class VolatileRefresher {
  constructor(private readonly d: VolatileRefreshDeps) {}

  async run(o: VolatileRefreshOptions = {}): Promise<VolatileRefreshOutcome> {
    const now = (o.now ?? Date.now)();
    const before = now + (o.marginMs ?? DEFAULT_SIGNED_URL_MARGIN_S * 1000) + (o.leadMs ?? DEFAULT_VOLATILE_LEAD_MS);
    const due = await this.d.recent.expiringBefore(before, o.maxEntities ?? DEFAULT_VOLATILE_MAX_ENTITIES);
    const out: VolatileRefreshOutcome = { due: due.length, renewed: 0, changed: 0, gone: 0 };
    const byType = new Map<string, number[]>();
    for (const r of due) if (this.d.schema.site.hasType(r.type)) byType.set(r.type, [...(byType.get(r.type) ?? []), r.id]);
    if (!byType.size) return out;
    const stamp = await this.d.stamp();
    for (const [type, ids] of byType) {
      const fields = volatileFields(this.d.schema, type);
      if (!fields.length) continue;
      try {
        await this.refreshType(type, ids, fields, stamp, out);
      } catch (e) {
        this.d.log?.('signed URLs not renewed', { type, error: (e as Error).message });
      }
    }
    return out;
  }

  private async refreshType(type: string, ids: number[], fields: string[], stamp: number, out: VolatileRefreshOutcome): Promise<void> {
    const [site, stored] = await Promise.all([this.d.fetcher.byIds(type, ids, ['id', ...fields]), this.d.store.getMany(type, ids)]);
    for (const e of stored.entities) {
      const fresh = site.get(e.record.id);
      if (!fresh) {
        out.gone++;
        continue;
      }
      const renewals: Record<string, unknown> = {};
      const changes: Record<string, unknown> = {};
      for (const f of fields) {
        const was = e.record.values[f];
        const now = fresh.values[f] ?? null;
        if (renews(was, now)) renewals[f] = now;
        else if (!sameObjects(was ?? null, now)) changes[f] = now === null ? undefined : now;
      }
      if (Object.keys(renewals).length) out.renewed += await this.d.store.renewSignatures(type, e.record.id, renewals);
      if (Object.keys(changes).length && (await this.d.store.applyChange(type, e.record.id, changes, stamp, { refresh: true })).status === 'applied')
        out.changed++;
      const exp = volatility(fields.map((f) => fresh.values[f] ?? null)).earliestMs;
      if (Number.isFinite(exp)) await this.d.recent.renewed({ type, id: e.record.id, expiresMs: exp });
    }
  }
}
