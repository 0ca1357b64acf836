// Stale or wrong: whether the entities a differing shadow answer names are newer on the site than in the cache (sync lag, repaired at once) or as new and still different (a wrong answer).
//
// docs/shadow.md "Stale or wrong". For every differing entity of the request's root type the verifier compares the
// site's row with the stored copy, and so for the entities its differing link fields point to (a rename or
// retirement of a linked entity changes the answer without touching the entity's own updated_at). An entity is
// newer on the site when the cache has no copy, the site has none any more, the retired flags differ (retirement
// and revival do not touch updated_at), or the site's updated_at is later than the stored one. A difference is
// stale when any entity it depends on is newer on the site; otherwise (every version equal) it is wrong.
import type { CachedSchema } from '../schema/index.js';
import type { EntityRecord } from '../semantics/index.js';
import type { EntityStore } from '../store/index.js';
import type { ShadowDifference } from './shadow-check.js';

/** What a version comparison needs of one side's copy. */
export interface VersionRow {
  retired: boolean;
  updatedAt?: unknown;
}

/** The rule: the site's copy is newer than the cache's (undefined: that side has no such entity). */
export function newerOnSite(site: VersionRow | undefined, cache: VersionRow | undefined): boolean {
  if (!site && !cache) return false;
  // A creation or a removal the cache has not seen.
  if (!site || !cache) return true;
  if (site.retired !== cache.retired) return true;
  const s = Date.parse(String(site.updatedAt ?? ''));
  const c = Date.parse(String(cache.updatedAt ?? ''));
  // No version on the site to compare (a type without updated_at): nothing says the cache is behind.
  if (!Number.isFinite(s)) return false;
  return !Number.isFinite(c) || s > c;
}

/**
 * An entity found newer on the site: what the repair re-reads, with the site's stamp and writer (for the reconcile
 * pace). `pending`: the site logged an event for it after the cached copy's version, so the consumer will bring it.
 */
export interface StaleEntity {
  type: string;
  id: number;
  updatedAt?: string;
  by?: unknown;
  pending?: boolean;
}

export interface Classification {
  /** Entities to repair (root and linked ones newer on the site). */
  stale: StaleEntity[];
  /** Differences every entity of which is as new in the cache as on the site, or that name no entity. */
  wrong: ShadowDifference[];
}

type Row = Record<string, unknown>;
type SiteCopy = VersionRow & { values: Row };
type CacheCopy = SiteCopy & { version: number };
type Key = { type: string; id: number };
const isObj = (v: unknown): v is Row => typeof v === 'object' && v !== null && !Array.isArray(v);
const rowsOf = (r: unknown): Row[] => (isObj(r) && Array.isArray(r.entities) ? (r.entities as unknown[]).filter(isObj) : []);

/** The entity links in a field value (single link, list of links, or none). */
export function linksIn(v: unknown): Key[] {
  const one = (x: unknown): Key[] => (isObj(x) && typeof x.type === 'string' && typeof x.id === 'number' ? [{ type: x.type, id: x.id }] : []);
  return Array.isArray(v) ? v.flatMap(one) : one(v);
}

export interface ShadowVersionsDeps {
  /** The latest event id logged per entity after an id (ShotgunEventSource.latestFor). */
  events: { latestFor(type: string, ids: readonly number[], afterId: number): Promise<Map<number, number>> };
  schema: CachedSchema;
  store: Pick<EntityStore, 'getMany'>;
  /** The site's copies by id, active or retired (SiteFetcher.byIds). */
  fetcher: { byIds(type: string, ids: readonly number[], fields?: readonly string[]): Promise<Map<number, EntityRecord>> };
  /** Re-reads `ids` from the site and writes them at a fresh stamp (EntityRefresher.refresh); returns the entities written or removed. */
  refresh(type: string, ids: number[]): Promise<number>;
}

export class ShadowVersions {
  constructor(private readonly d: ShadowVersionsDeps) {}

  /** Sorts the differences of one answer pair (`type`: the request's root type) into entities to repair and wrong differences. */
  async classify(type: string, differences: readonly ShadowDifference[], cache: unknown, site: unknown): Promise<Classification> {
    const wrong: ShadowDifference[] = [];
    const byId = differences.filter((x): x is ShadowDifference & { id: number } => x.id !== null);
    wrong.push(...differences.filter((x) => x.id === null));
    if (!byId.length || !this.d.schema.site.hasType(type)) return { stale: [], wrong: [...differences] };
    const ids = byId.map((x) => x.id);
    const hops = [
      ...new Set(
        byId
          .flatMap((x) => x.fields)
          .filter((f) => f.includes('.'))
          .map((f) => f.split('.')[0]),
      ),
    ].filter((f) => this.d.schema.isCached(type, f));
    const [siteRows, cacheRows] = await Promise.all([this.siteRows(type, ids, hops), this.cacheRows(type, ids)]);
    // The linked entities each difference depends on: links in its differing fields (both answers) and, for deep fields, the first hop's targets on both sides.
    const answers = [rowsOf(cache), rowsOf(site)].map((rows) => new Map(rows.map((r) => [Number(r.id), r])));
    const deps = new Map<number, Key[]>();
    for (const x of byId) {
      const links: Key[] = [];
      for (const f of x.fields) {
        for (const a of answers) links.push(...linksIn(a.get(x.id)?.[f]));
        if (f.includes('.')) {
          const hop = f.split('.')[0];
          links.push(...linksIn(siteRows.get(x.id)?.values?.[hop]), ...linksIn(cacheRows.get(x.id)?.values?.[hop]));
        }
      }
      deps.set(
        x.id,
        links.filter((l) => this.d.schema.site.hasType(l.type)),
      );
    }
    const linked = await this.versionsOf([...deps.values()].flat());
    const stale = new Map<string, StaleEntity & { version?: number }>();
    const mark = (k: Key, s: { values?: Row } | undefined, c: { version: number } | undefined) => {
      stale.set(`${k.type}:${k.id}`, {
        type: k.type,
        id: k.id,
        ...(typeof s?.values?.updated_at === 'string' ? { updatedAt: s.values.updated_at } : {}),
        by: s?.values?.updated_by,
        ...(c ? { version: c.version } : {}),
      });
    };
    for (const x of byId) {
      let any = false;
      const s = siteRows.get(x.id);
      const c = cacheRows.get(x.id);
      if (newerOnSite(s, c)) {
        mark({ type, id: x.id }, s, c);
        any = true;
      }
      for (const l of deps.get(x.id) ?? []) {
        const v = linked.get(`${l.type}:${l.id}`);
        if (v && newerOnSite(v.site, v.cache)) {
          mark(l, v.site, v.cache);
          any = true;
        }
      }
      if (!any) wrong.push(x);
    }
    return { stale: await this.pending([...stale.values()]), wrong };
  }

  /** Marks the stale entities with an event after their cached copy's version: on its way to the consumer. */
  private async pending(stale: Array<StaleEntity & { version?: number }>): Promise<StaleEntity[]> {
    const byType = new Map<string, Array<StaleEntity & { version: number }>>();
    for (const e of stale) if (e.version !== undefined) byType.set(e.type, [...(byType.get(e.type) ?? []), e as StaleEntity & { version: number }]);
    const waiting = new Set<string>();
    for (const [type, es] of byType) {
      const latest = await this.d.events.latestFor(
        type,
        es.map((e) => e.id),
        Math.min(...es.map((e) => e.version)),
      );
      for (const e of es) if ((latest.get(e.id) ?? 0) > e.version) waiting.add(`${type}:${e.id}`);
    }
    return stale.map(({ version: _v, ...e }) => (waiting.has(`${e.type}:${e.id}`) ? { ...e, pending: true } : e));
  }

  /** Re-reads the stale entities from the site and writes them at a fresh stamp (as the reconciler does). */
  async repair(entities: readonly StaleEntity[]): Promise<number> {
    const byType = new Map<string, number[]>();
    for (const e of entities) byType.set(e.type, [...(byType.get(e.type) ?? []), e.id]);
    let n = 0;
    for (const [type, ids] of byType) n += await this.d.refresh(type, ids);
    return n;
  }

  private async siteRows(type: string, ids: number[], extra: string[]): Promise<Map<number, SiteCopy>> {
    const fields = [...new Set([...(this.d.schema.isCached(type, 'updated_at') ? ['updated_at', 'updated_by'] : []), ...extra])];
    const found = await this.d.fetcher.byIds(type, ids, fields);
    return new Map([...found].map(([id, r]) => [id, { retired: r.retired, updatedAt: r.values.updated_at, values: r.values }]));
  }

  private async cacheRows(type: string, ids: number[]): Promise<Map<number, CacheCopy>> {
    const { entities } = await this.d.store.getMany(type, ids);
    return new Map(
      entities.map((e) => [e.record.id, { retired: e.record.retired, updatedAt: e.record.values.updated_at, values: e.record.values, version: e.version }]),
    );
  }

  private async versionsOf(keys: readonly Key[]): Promise<Map<string, { site?: SiteCopy; cache?: CacheCopy }>> {
    const byType = new Map<string, Set<number>>();
    for (const k of keys) byType.set(k.type, (byType.get(k.type) ?? new Set()).add(k.id));
    const out = new Map<string, { site?: SiteCopy; cache?: CacheCopy }>();
    for (const [type, set] of byType) {
      const ids = [...set];
      const [site, cache] = await Promise.all([this.siteRows(type, ids, []), this.cacheRows(type, ids)]);
      for (const id of ids) out.set(`${type}:${id}`, { site: site.get(id), cache: cache.get(id) });
    }
    return out;
  }
}
