// The rebuild after the site's event log was trimmed past the cursor: per type an updated_at scan from the last seen event and an id diff, or (where a scan cannot be proven complete) a full re-import.
//
// The poller requests it (shared/store/rebuild-state.ts) with `since`: the time of the last event its cursor saw, less
// CLOCK_MARGIN_MS, and takes every cached type out of service at once. The importer runs the rebuild before any import
// (one lease for both), so:
// 1. Plan (shared/sync/rebuild-plan.ts): `scan` or `full` per type, from the learned write-stamp facts.
// 2. Uncached link targets: their retired flags and names as the site has them now, pushed into the stored links; those
//    revived in the gap (found by updated_at, only when revives are proven to move it) get their referrers re-read.
// 3. Every cached type, scan or full: keyset pages of updated_at >= since (active, then retired) written through the
//    reconciler's refresh path (fresh stamp, per-field versions: a newer event is never overwritten; link facts of what
//    changed pushed to every referrer), then the id diff: site ids against stored ids, each difference re-read (missing:
//    written; retired flag differs: written; gone: removed) and the referrers of revived entities re-read. Full types are
//    scanned too, so the scan types' links to them carry the gap's renames and retirements.
// 4. Scan types back in service when every type's step 3 is done; full types stay out until the importer re-imported
//    them (they are not ready, so its next plan re-imports them whole).
// Checkpoints after every page (phase, last id) make it resumable; the id diff of a type restarts if interrupted.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CachedSchema } from '../schema/index.js';
import { formatDateTime } from '../site/index.js';
import { RebuildState, SiteBehaviour, type EntityStore, type Readiness, type ReadinessStore, type RebuildCheckpoint, type RebuildRun } from '../store/index.js';
import type { CursorState } from './event-log.js';
import { EntityRefresher, type EntityRefreshDeps, fetchable } from './entity-refresh.js';
import { planRebuild } from './rebuild-plan.js';
import type { SchemaSource } from './schema-drift.js';
import { cachedFields, PAGE_SIZE, type SiteFetcher } from './site-fetch.js';
import type { SyncMetrics } from './sync-metrics.js';
import { relinkTo, refreshLinkTargets } from './link-targets.js';

/**
 * How far before the last seen event's time the scan starts: 5 min for writes committed late (an event id allocated
 * before the last one seen can commit up to shotgunEvents' 5 min backlog timeout after it, its updated_at stamped
 * when it started), plus 5 min for clock skew between the site's app servers (updated_at and created_at come from
 * whichever served the write). Cheap: a gap worth rebuilding is hours or days; 10 more minutes of updates is noise.
 */
export const CLOCK_MARGIN_MS = 10 * 60_000;

/** The scan's lower bound for a lost cursor: its last event's time (or an older id it still waited for) less the margin; undefined when unknown. */
export function gapSince(lost: CursorState): number | undefined {
  if (lost.seenAt === undefined) return undefined;
  return Math.min(lost.seenAt, ...Object.values(lost.backlog)) - CLOCK_MARGIN_MS;
}

export interface RebuilderDeps {
  schema: CachedSchema;
  store: EntityStore;
  readiness: ReadinessStore;
  fetcher: SiteFetcher;
  events: EntityRefreshDeps['events'];
  lease: EntityRefreshDeps['lease'];
  doc: DynamoDBDocumentClient;
  stateTable: string;
  /** Where the plan reads the site's schema (schema_field_read). */
  site: SchemaSource;
  metrics?: SyncMetrics;
  log?: (message: string, details?: Record<string, unknown>) => void;
}

export interface RebuildOptions {
  deadline?: number;
  shouldStop?: () => boolean;
  now?: () => number;
  /** Stop after this many site pages in this call (tests: a rebuild killed mid-way). */
  maxPages?: number;
  pageSize?: number;
  /** Called after every step (the importer's lease is extended there). */
  heartbeat?: () => Promise<void>;
}

export interface RebuildOutcome {
  /** Nothing left to rebuild (no request, or the run finished). */
  complete: boolean;
  run?: RebuildRun;
  checkpoints: Record<string, RebuildCheckpoint>;
}

export class Rebuilder {
  readonly state: RebuildState;
  readonly behaviour: SiteBehaviour;
  private readonly refresher: EntityRefresher;
  constructor(private readonly d: RebuilderDeps) {
    this.state = new RebuildState(d.doc, d.stateTable);
    this.behaviour = new SiteBehaviour(d.doc, d.stateTable);
    this.refresher = new EntityRefresher(d);
  }

  async pending(): Promise<boolean> {
    return (await this.state.run()) !== undefined || (await this.state.pending()) !== undefined;
  }

  /** What /status shows: the run's plan and each type's phase and counts. */
  async progress(): Promise<{ run?: RebuildRun; requested: boolean; types: Record<string, RebuildCheckpoint> } | undefined> {
    const [run, request] = await Promise.all([this.state.run(), this.state.pending()]);
    if (!run && !request) return undefined;
    return { ...(run ? { run } : {}), requested: request !== undefined, types: Object.fromEntries(await this.state.checkpoints()) };
  }

  async run(opts: RebuildOptions = {}): Promise<RebuildOutcome> {
    const now = opts.now ?? Date.now;
    const run = (await this.state.run()) ?? (await this.start(now()));
    if (!run) return { complete: true, checkpoints: {} };
    const budget = { pages: opts.maxPages ?? Infinity };
    const stopped = () => budget.pages <= 0 || opts.shouldStop?.() === true || (opts.deadline !== undefined && now() >= opts.deadline);
    const types = Object.keys(run.plan);
    if (!run.targetsDone) {
      if (stopped()) return { complete: false, run, checkpoints: {} };
      const facts = await this.behaviour.facts();
      const stamp = await this.refresher.stamp(now());
      const r = await refreshLinkTargets(this.d, this.refresher, { since: run.since, relinkRevived: facts.revive.fact === 'bumps', stamp });
      this.d.log?.('rebuild: uncached link targets refreshed', { ...r });
      run.targetsDone = true;
      await this.state.saveRun(run);
    }
    const cps = await this.state.checkpoints();
    // One stamp for this invocation's reads, taken before all of them (as the reconciler's pass does), and one readiness view.
    const at = { stamp: await this.refresher.stamp(now()), ready: await this.d.readiness.load() };
    for (const type of types) {
      const cp = cps.get(type) ?? fresh(type, now());
      cps.set(type, cp);
      while (cp.phase !== 'done') {
        if (stopped()) return { complete: false, run, checkpoints: Object.fromEntries(cps) };
        await this.step(run, cp, opts, budget, at);
        cp.updatedAt = now();
        await this.state.saveCheckpoint(cp);
        await opts.heartbeat?.();
      }
    }
    for (const type of types) {
      if (run.plan[type].mode !== 'scan') continue;
      await this.d.readiness.markTypeReady(type, ['id', ...cachedFields(this.d.schema, type)]);
      this.d.log?.('rebuilt by updated_at scan and id diff: back in service', { type, ...cps.get(type) });
    }
    await this.state.finish(run, [...cps.values()], now());
    this.d.log?.('rebuild complete', { since: run.since, full: types.filter((t) => run.plan[t].mode === 'full') });
    return { complete: true, run, checkpoints: Object.fromEntries(cps) };
  }

  /** Plans a run from the pending request; undefined when none is pending. */
  private async start(at: number): Promise<RebuildRun | undefined> {
    const request = await this.state.pending();
    if (!request) return undefined;
    const [ready, facts] = await Promise.all([this.d.readiness.load(), this.behaviour.facts()]);
    const plan = await planRebuild(this.d.schema, ready, this.d.site, facts, request.since);
    const run: RebuildRun = { ...(request.since !== undefined ? { since: request.since } : {}), startedAt: at, plan, targetsDone: false };
    // Out of service first (the poller did it already when it requested the rebuild; a request by any other path too).
    for (const type of Object.keys(plan)) await this.d.readiness.markTypeNotReady(type);
    await this.state.startRun(run, request);
    this.d.log?.('rebuild started', { since: run.since, facts: { backRef: facts.backRef.fact, revive: facts.revive.fact }, plan });
    return run;
  }

  /** One page of a type's rebuild (its scan) or its whole id diff. */
  private async step(
    run: RebuildRun,
    cp: RebuildCheckpoint,
    opts: RebuildOptions,
    budget: { pages: number },
    { stamp, ready }: { stamp: number; ready: Readiness },
  ): Promise<void> {
    const fields = fetchable(this.d.schema, ready, cp.type);
    if (cp.phase === 'diff') {
      await this.diff(cp, stamp, fields, budget);
      cp.phase = 'done';
      return;
    }
    if (run.since === undefined || !this.d.schema.isCached(cp.type, 'updated_at')) {
      // Nothing bounds the gap: a full type re-imported whole anyway; only the diff (facts for the scan types' links).
      cp.phase = 'diff';
      return;
    }
    const pageSize = opts.pageSize ?? PAGE_SIZE;
    const retired = cp.phase === 'scan-retired';
    const since = formatDateTime(new Date(Math.floor(run.since / 1000) * 1000 - 1000));
    const page = await this.d.fetcher.page({
      type: cp.type,
      retired,
      afterId: cp.lastId,
      fields,
      pageSize,
      where: [{ path: 'updated_at', relation: 'greater_than', values: [since] }],
    });
    budget.pages--;
    await this.refresher.write(page, stamp, { changedFactsOnly: true });
    cp.scanned += page.length;
    this.d.metrics?.add('RebuiltEntities', page.length);
    if (page.length === pageSize) cp.lastId = page[page.length - 1].id;
    else {
      cp.phase = retired ? 'diff' : 'scan-retired';
      cp.lastId = 0;
    }
  }

  /** Site ids (active, retired) against stored ids; every difference re-read at a fresh stamp; referrers of revived entities re-read. */
  private async diff(cp: RebuildCheckpoint, stamp: number, fields: string[] | undefined, budget: { pages: number }): Promise<void> {
    const site = await this.d.fetcher.ids(cp.type);
    budget.pages -= Math.ceil(site.size / PAGE_SIZE) + 2;
    const stored = await this.d.store.typeSummary(cp.type);
    const storedIds = new Set(stored.ids);
    const missing = [...site.keys()].filter((id) => !storedIds.has(id));
    const flipped = stored.ids.filter((id) => site.has(id) && site.get(id) !== stored.retired.has(id));
    const vanished = stored.ids.filter((id) => !site.has(id));
    // Re-read, not trusted: the consumer applies new events meanwhile (an id created after the site's list looks vanished).
    await this.refresher.refresh(cp.type, [...missing, ...flipped, ...vanished], fields);
    for (const id of flipped.filter((i) => site.get(i) === false)) await relinkTo(this.d, this.refresher, { type: cp.type, id }, stamp);
    cp.added += missing.length;
    cp.flipped += flipped.length;
    cp.vanished += vanished.length;
    if (missing.length || flipped.length || vanished.length)
      this.d.log?.('rebuild: id diff corrected the cache', { type: cp.type, missing, flipped, vanished });
  }
}

function fresh(type: string, at: number): RebuildCheckpoint {
  return { type, phase: 'scan-active', lastId: 0, scanned: 0, added: 0, flipped: 0, vanished: 0, updatedAt: at };
}
