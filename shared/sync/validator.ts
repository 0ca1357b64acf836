// Validation: per-type counts and a field-by-field comparison of entities as the site returns them and as the cache serves them.
//
// Counts cost what the store holds (every stored id is read to count it), so with a count window (default
// DEFAULT_COUNT_WINDOW) a type larger than the window is counted one id range at a time: each run compares the site's
// and the cache's counts of the ids after the previous window's end, up to `window` stored entities, and the next run
// goes on from there (CountWindows, state table), wrapping at the end. A type within the window is counted whole every
// run, as before; a quarantined type is always counted whole (a clean validation is what clears it). Every id range is
// compared once per cycle of ceil(stored / window) runs, and the reconciler's daily id sweep compares every id.
//
// The comparison goes through the read engine (what a client would get from the cache, link names and hidden
// retired targets included) against the site's own `read` of the same ids and fields. Events in flight make a
// fresh write differ for a moment, so differing entities are compared once more after `recheckMs`; only what
// still differs counts as drift.
import type { CachedSchema } from '../schema/index.js';
import { CountWindows, type EntityStore, type ReadinessStore } from '../store/index.js';
import { ReadEngine } from '../query/index.js';
import { PAGE_SIZE, cachedFields, type SiteFetcher } from './site-fetch.js';
import { sameObjects, type ShotgunClient } from '../site/index.js';
import type { SyncContext } from './sync-context.js';
import type { SyncMetrics } from './sync-metrics.js';
import { ShadowLedger } from '../shadow/index.js';

export interface ValidatorDeps {
  schema: CachedSchema;
  store: EntityStore;
  readiness: ReadinessStore;
  fetcher: SiteFetcher;
  client: ShotgunClient;
  metrics?: SyncMetrics;
  /**
   * The shadow checks' ledger: a quarantined type's suspect entities (those a mismatch named) are compared too, and
   * a quarantined type found clean (counts equal, nothing differing) is put back in service.
   */
  shadow?: ShadowLedger;
  /** Where each type's count window stands; without it every type is counted whole. */
  windows?: CountWindows;
}

/** Stored entities a run counts per type (more: the type is counted one window per run). */
export const DEFAULT_COUNT_WINDOW = 5_000;

export interface ValidateOptions {
  types?: string[];
  /** Entities compared per type: the N most recently updated (default 20), or every one. */
  data?: number | 'all';
  /** Wait before comparing differing entities again (default 3 s; 0 compares once). */
  recheckMs?: number;
  /** Stored entities counted per type and run (default DEFAULT_COUNT_WINDOW with `windows`; 'all': whole types, also implied by data 'all'). */
  countWindow?: number | 'all';
  /** Told about each type as soon as it is checked. */
  onType?: (t: TypeValidation) => void;
}

export interface EntityDiff {
  id: number;
  retired: boolean;
  fields: string[];
}

export interface TypeValidation {
  type: string;
  ready: boolean;
  site: { active: number; retired: number };
  cache: { active: number; retired: number };
  /** The id range both counts cover, when not the whole type (a count window): ids after `after`, up to `upTo` (open: to the end). */
  ids?: { after: number; upTo?: number };
  compared: number;
  differing: EntityDiff[];
  /** The type was quarantined by a shadow mismatch; `cleared`: this validation found it clean and put it back in service. */
  quarantined?: boolean;
  cleared?: boolean;
}

export interface ValidationReport {
  types: TypeValidation[];
  drift: number;
}

type Row = Record<string, unknown> & { id: number };
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class Validator {
  constructor(private readonly d: ValidatorDeps) {}

  async run(opts: ValidateOptions = {}): Promise<ValidationReport> {
    const readiness = await this.d.readiness.load();
    const engine = new ReadEngine(this.d.store, this.d.schema, { readiness: () => readiness, volatile: false });
    const report: ValidationReport = { types: [], drift: 0 };
    const quarantined = new Map(((await this.d.shadow?.report())?.quarantined ?? []).map((q) => [q.type, q.suspects]));
    for (const type of opts.types ?? this.d.schema.site.typeNames) {
      const ready = readiness.isTypeReady(type);
      const whole = !this.d.windows || quarantined.has(type) || opts.countWindow === 'all' || opts.data === 'all';
      const t = await this.counts(type, ready, whole ? Infinity : ((opts.countWindow as number | undefined) ?? DEFAULT_COUNT_WINDOW));
      if (ready) {
        const fields = cachedFields(this.d.schema, type).filter((f) => readiness.isFieldReady(type, f));
        const samples = await this.samples(type, opts.data ?? 20);
        const suspects = quarantined.get(type) ?? [];
        if (suspects.length) samples.push(...[false, true].map((retired) => ({ ids: suspects, retired })));
        for (const { ids, retired } of samples) {
          let diffs = await this.compare(engine, type, ids, fields, retired);
          if (diffs.length && (opts.recheckMs ?? 3000) > 0) {
            await sleep(opts.recheckMs ?? 3000);
            diffs = await this.compare(
              engine,
              type,
              diffs.map((x) => x.id),
              fields,
              retired,
            );
          }
          t.compared += ids.length;
          t.differing.push(...diffs);
        }
        const countsDiffer = t.site.active !== t.cache.active || t.site.retired !== t.cache.retired;
        report.drift += t.differing.length + (countsDiffer ? 1 : 0);
        if (quarantined.has(type)) {
          t.quarantined = true;
          if (!countsDiffer && !t.differing.length && t.compared > 0) t.cleared = await this.d.shadow!.clear(type, 'validate');
        }
      }
      report.types.push(t);
      opts.onType?.(t);
    }
    this.d.metrics?.add('Drift', report.drift);
    this.d.metrics?.flush();
    return report;
  }

  /**
   * The site's and the cache's counts of a type, active and retired: whole when `window` is Infinity, else of the ids
   * after the type's window cursor, up to `window` stored entities (the cursor then moves on, or back to the start).
   */
  private async counts(type: string, ready: boolean, window: number): Promise<TypeValidation> {
    const after = Number.isFinite(window) ? await this.d.windows!.after(type) : 0;
    const cache = await this.d.store.countWindow(type, after, window);
    const ids = { after, ...(cache.upTo === undefined ? {} : { upTo: cache.upTo }) };
    const [siteActive, siteRetired] = await Promise.all([this.d.fetcher.count(type, false, ids), this.d.fetcher.count(type, true, ids)]);
    if (Number.isFinite(window)) await this.d.windows!.set(type, cache.upTo ?? 0);
    return {
      type,
      ready,
      site: { active: siteActive, retired: siteRetired },
      cache: { active: cache.active, retired: cache.retired },
      ...(after > 0 || cache.upTo !== undefined ? { ids } : {}),
      compared: 0,
      differing: [],
    };
  }

  /** Which of `ids` (active or retired) differ between the site and the cache now, every ready field compared once (quarantine re-checks). */
  async differing(type: string, ids: number[]): Promise<EntityDiff[]> {
    const readiness = await this.d.readiness.load();
    if (!readiness.isTypeReady(type)) return [];
    const engine = new ReadEngine(this.d.store, this.d.schema, { readiness: () => readiness, volatile: false });
    const fields = cachedFields(this.d.schema, type).filter((f) => readiness.isFieldReady(type, f));
    return (await Promise.all([false, true].map((retired) => this.compare(engine, type, ids, fields, retired)))).flat();
  }

  /** The ids to compare: the N most recently updated active entities, or every id (active and retired) in pages. */
  private async samples(type: string, data: number | 'all'): Promise<Array<{ ids: number[]; retired: boolean }>> {
    if (data !== 'all') {
      if (data <= 0) return [];
      const recent = this.d.schema.isCached(type, 'updated_at')
        ? await this.d.fetcher.recentlyUpdated(type, data, ['id'])
        : await this.d.fetcher.page({ type, retired: false, afterId: 0, fields: [], pageSize: Math.min(data, PAGE_SIZE) });
      return [{ ids: recent.map((r) => r.id), retired: false }];
    }
    const out: Array<{ ids: number[]; retired: boolean }> = [];
    for (const retired of [false, true]) {
      for (let afterId = 0; ;) {
        const page = await this.d.fetcher.page({ type, retired, afterId, fields: [] });
        if (page.length) out.push({ ids: page.map((r) => r.id), retired });
        if (page.length < PAGE_SIZE) break;
        afterId = page[page.length - 1].id;
      }
    }
    return out;
  }

  /** The same read from the site and from the cache; per entity, the fields whose JSON differs. */
  private async compare(engine: ReadEngine, type: string, ids: number[], fields: string[], retired: boolean): Promise<EntityDiff[]> {
    if (!ids.length) return [];
    const params = {
      type,
      return_fields: fields,
      filters: { logical_operator: 'and', conditions: [{ path: 'id', relation: 'in', values: ids }] },
      return_only: retired ? 'retired' : 'active',
      paging: { entities_per_page: PAGE_SIZE, current_page: 1 },
    };
    const [site, cache] = await Promise.all([this.d.client.call<{ entities: Row[] }>('read', params), engine.read(params)]);
    if (!cache.served) return ids.map((id) => ({ id, retired, fields: [`(not served: ${cache.reason})`] }));
    const cached = new Map((cache.result.entities as Row[]).map((e) => [e.id, e]));
    const seen = new Set<number>();
    const out: EntityDiff[] = [];
    for (const s of site.entities ?? []) {
      seen.add(s.id);
      const c = cached.get(s.id);
      if (!c) {
        out.push({ id: s.id, retired, fields: ['(missing from the cache)'] });
        continue;
      }
      // Signed URLs compare by object: a newer signature is not drift (docs/semantics.md "Volatile values").
      const differing = ['type', ...fields].filter((f) => !sameObjects(s[f], c[f]));
      if (differing.length) out.push({ id: s.id, retired, fields: differing });
    }
    for (const id of cached.keys()) if (!seen.has(id)) out.push({ id, retired, fields: ['(not on the site)'] });
    return out;
  }
}

/** The validator of a sync context, with the shadow ledger (so a clean validation clears a quarantine). */
export function validatorFor(ctx: SyncContext, metrics?: SyncMetrics): Validator {
  return new Validator({
    schema: ctx.schema,
    store: ctx.store,
    readiness: ctx.readiness,
    fetcher: ctx.fetcher,
    client: ctx.client,
    metrics,
    shadow: new ShadowLedger(ctx.ddb, ctx.tables.state),
    windows: new CountWindows(ctx.doc, ctx.tables.state),
  });
}
