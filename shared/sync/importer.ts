// The initial import and backfills: every cached type paged from the site into the entity store, checkpointed, then marked ready.
//
// Order of operations (docs/sync.md):
// 1. The event-log cursor is taken first (PollerLease.initialize with the site's latest event id and the ids below it
//    that have not committed yet), so everything that happens during the scan reaches the consumer afterwards.
// 2. The run's version stamp is that id (or just below the oldest uncommitted one): every whole-entity write of the
//    import carries it, so an event newer than the scan always wins and an older one never overwrites the scan.
// 3. Per type, keyset pages (id > last id, id asc, 500) of every cached field, active then retired (return_only
//    retired is a separate pass), written in bulk (new entities blind, then checked against the creation journal:
//    entities created concurrently are re-fetched at a fresh stamp, docs/design.md §5.2); the checkpoint (pass, last
//    id) is saved after every page, so a crashed or timed-out import resumes where it stopped, with the same stamp.
// 4. A type is marked ready only when both passes are complete; a field added to the schema later is backfilled
//    (merged into the stored entities) and only then marked ready.
import { randomUUID } from 'node:crypto';
import type { CachedSchema } from '../schema/index.js';
import {
  ITEM_LAYOUT, type EntityStore, ImportState, type ImportRun, type TypeCheckpoint, WHOLE_TYPE, type ReadinessStore,
} from '../store/index.js';
import { backlogIds, type EventRow } from './event-log.js';
import type { PollerLease } from './poller-lease.js';
import type { EntityRecord } from '../semantics/index.js';
import { ShadowLedger } from '../shadow/index.js';
import { calibrationFor } from './calibration.js';
import { PAGE_SIZE, cachedFields, type SiteFetcher } from './site-fetch.js';
import type { SyncContext } from './sync-context.js';
import type { SyncMetrics } from './sync-metrics.js';
import { Rebuilder } from './rebuild.js';

/** How far back the import looks for event ids that were allocated but not committed yet. */
const TAIL_WINDOW = 500;
/** Uncommitted ids older than this are not waited for (shotgunEvents' BACKLOG_TIMEOUT). */
const TAIL_AGE_MS = 5 * 60_000;
const LEASE_MS = 2 * 60_000;

export interface ImporterDeps {
  schema: CachedSchema;
  store: EntityStore;
  readiness: ReadinessStore;
  state: ImportState;
  lease: PollerLease;
  events: { latestId(): Promise<number>; window(afterId: number, upTo: number): Promise<EventRow[]> };
  fetcher: SiteFetcher;
  metrics?: SyncMetrics;
  /** The shadow checks' ledger: a completed full import of a quarantined type puts it back in service. */
  shadow?: Pick<ShadowLedger, 'clear'>;
  log?: (message: string, details?: Record<string, unknown>) => void;
  /** Measures the site's rules (shared/calibration.ts), run when an import run starts. */
  calibrate?: () => Promise<unknown>;
  /** The trimmed-log rebuild (shared/sync/rebuild.ts): run under the importer's lease before any import; its full types are then imported. */
  rebuild?: Pick<Rebuilder, 'run'>;
}

export interface TypeProgress { pass: TypeCheckpoint['pass']; mode: TypeCheckpoint['mode']; done: number; total: number }
export interface ImportProgress {
  types: Record<string, TypeProgress>;
  done: number;
  total: number;
  /** Entities written by this call (for the rate). */
  written: number;
  startedAt: number;
}

export interface ImportOptions {
  /** Only these types (default: every cached type). */
  types?: string[];
  /** Epoch ms: stop (checkpointed) before starting a page after this. */
  deadline?: number;
  /** Checked before every page: true stops the import (checkpointed) like the deadline. */
  shouldStop?: () => boolean;
  /** Types imported at once (default 3). */
  typeConcurrency?: number;
  onProgress?: (p: ImportProgress) => void;
  now?: () => number;
  /** Stop after this many pages in this call (tests: an import interrupted mid-way). */
  maxPages?: number;
  /** Entities per page (default 500, the site's maximum). */
  pageSize?: number;
}

export interface ImportOutcome {
  /** Nothing left to import for the types in scope. */
  complete: boolean;
  /** Another importer holds the lease. */
  busy?: boolean;
  written: number;
  /** Entities this call re-fetched because a concurrent creator raced the blind write (the creation journal). */
  repaired?: number;
  stamp?: number;
  /** Types still incomplete. */
  pending: string[];
  checkpoints: Record<string, TypeCheckpoint>;
}

interface Budget { pages: number; written: number; repaired: number; startedAt: number; stopped: boolean }

export class Importer {
  constructor(private readonly d: ImporterDeps) {}

  /** What the types in scope need: nothing, a full import, or a backfill of some fields. */
  async plan(types?: string[]): Promise<Array<{ type: string; mode: 'full' | 'backfill'; fields: string[] }>> {
    const [ready, request] = await Promise.all([this.d.readiness.load(), this.d.state.request()]);
    // A requested full import covers every cached type, whatever the caller asked for.
    const scope = request ? this.scope() : this.scope(types);
    const out: Array<{ type: string; mode: 'full' | 'backfill'; fields: string[] }> = [];
    for (const type of scope) {
      // A type gone from the site (schema drift) waits for a deploy that drops it; drifted fields wait likewise.
      if (ready.isDrifted(type, WHOLE_TYPE)) continue;
      const fields = cachedFields(this.d.schema, type);
      if (request || !ready.isTypeReady(type)) { out.push({ type, mode: 'full', fields }); continue; }
      const missing = ready.pendingFields(type, fields);
      if (missing.length) out.push({ type, mode: 'backfill', fields: missing });
    }
    return out;
  }

  private scope(types?: string[]): string[] {
    const all = this.d.schema.site.typeNames;
    if (!types) return all;
    const unknown = types.filter((t) => !all.includes(t));
    if (unknown.length) throw new Error(`not cached types: ${unknown.join(', ')} (cached: ${all.join(', ')})`);
    return types;
  }

  /**
   * Imports until nothing is left or the deadline/page budget is reached. Resumes a run a previous call left
   * incomplete (same stamp, from its checkpoints) before looking for new work.
   */
  async run(opts: ImportOptions = {}): Promise<ImportOutcome> {
    const now = opts.now ?? Date.now;
    const owner = randomUUID();
    if (!(await this.d.state.acquireLease(owner, LEASE_MS, now()))) {
      return { complete: false, busy: true, written: 0, pending: [], checkpoints: {} };
    }
    const budget = { pages: opts.maxPages ?? Infinity, written: 0, repaired: 0, startedAt: now(), stopped: false };
    let stamp: number | undefined;
    try {
      if (this.d.rebuild) {
        const heartbeat = () => this.d.state.acquireLease(owner, LEASE_MS, now()).then(() => {});
        const rb = await this.d.rebuild.run({ deadline: opts.deadline, shouldStop: opts.shouldStop, now, maxPages: opts.maxPages, heartbeat });
        if (!rb.complete) return { complete: false, written: budget.written, pending: Object.keys(rb.run?.plan ?? {}), checkpoints: {} };
      }
      if (await layoutOutdated(this.d)) {
        await this.d.state.requestFull(`item layout ${ITEM_LAYOUT} (edges in the refs table): entities stored under an older layout are re-imported`, now());
      }
      for (;;) {
        let run = await this.d.state.run();
        if (!run) {
          const work = await this.plan(opts.types);
          if (!work.length) return { complete: true, written: budget.written, repaired: budget.repaired, stamp, pending: [], checkpoints: Object.fromEntries(await this.d.state.checkpoints()) };
          run = await this.startRun(work, now());
        }
        stamp = run.stamp;
        const outcome = await this.continueRun(run, owner, opts, budget);
        if (!outcome.complete) return outcome;
        await this.d.state.finishRun();
        this.d.log?.('import run complete', { stamp: run.stamp, types: run.types, written: budget.written });
      }
    } finally {
      await this.d.state.releaseLease(owner);
    }
  }

  /** Takes the cursor (before any scan), derives the stamp, writes the run and its checkpoints. */
  private async startRun(work: Array<{ type: string; mode: 'full' | 'backfill'; fields: string[] }>, at: number): Promise<ImportRun> {
    const request = await this.d.state.request();
    const stamp = await this.takeCursor(at);
    const run = await this.d.state.startRun({ stamp, startedAt: at, types: work.map((w) => w.type), full: request !== undefined });
    if (run.stamp === stamp && run.startedAt === at) {
      for (const w of work) {
        if (request) await this.d.readiness.markTypeNotReady(w.type);
        await this.d.state.saveCheckpoint(await this.freshCheckpoint(w.type, w.mode, w.fields, at));
      }
      if (request) await this.d.state.clearRequest(request.at);
      await this.calibrate();
      // Nothing imported under an older item layout is served any more: from here on every stored entity is (re)written under this one.
      if ((await this.d.store.itemLayout()) < ITEM_LAYOUT && !(await this.d.readiness.load()).readyTypes.length) await this.d.store.recordItemLayout();
      this.d.log?.('import run started', { stamp, types: run.types, full: run.full });
    }
    return run;
  }

  /** The site's rules, measured before the types come into service; a failed calibration leaves them as they were. */
  private async calibrate(): Promise<void> {
    if (!this.d.calibrate) return;
    try { await this.d.calibrate(); } catch (e) { this.d.log?.('calibration failed; the site rules stay as they were', { error: (e as Error).message }); }
  }

  private async freshCheckpoint(type: string, mode: 'full' | 'backfill', fields: string[], at: number): Promise<TypeCheckpoint> {
    const [active, retired] = await Promise.all([this.d.fetcher.count(type, false), this.d.fetcher.count(type, true)]);
    return { type, mode, fields, pass: 'active', lastId: 0, active: 0, retired: 0, total: active + retired, updatedAt: at };
  }

  private takeCursor(at: number): Promise<number> {
    return versionStamp(this.d, at, { initialize: true });
  }

  private async continueRun(run: ImportRun, owner: string, opts: ImportOptions, budget: Budget): Promise<ImportOutcome> {
    const cps = await this.d.state.checkpoints();
    const ready = await this.d.readiness.load();
    for (const type of run.types) {
      const cp = cps.get(type);
      if (cp && cp.updatedAt >= run.startedAt) continue;
      // The run was written but this type's checkpoint was not (a crash in between): create it now.
      const fields = cachedFields(this.d.schema, type);
      const missing = ready.pendingFields(type, fields);
      const mode = run.full || !ready.isTypeReady(type) ? 'full' : 'backfill';
      const fresh = await this.freshCheckpoint(type, mode, mode === 'full' ? fields : missing, run.startedAt);
      await this.d.state.saveCheckpoint(fresh);
      cps.set(type, fresh);
    }
    const progress = (): ImportProgress => {
      const types: Record<string, TypeProgress> = {};
      let done = 0;
      let total = 0;
      for (const t of run.types) {
        const c = cps.get(t)!;
        const n = c.active + c.retired;
        types[t] = { pass: c.pass, mode: c.mode, done: n, total: Math.max(c.total, n) };
        done += n;
        total += Math.max(c.total, n);
      }
      return { types, done, total, written: budget.written, startedAt: budget.startedAt };
    };
    opts.onProgress?.(progress());
    const queue = run.types.filter((t) => cps.get(t)!.pass !== 'done');
    const workers = Array.from({ length: Math.min(opts.typeConcurrency ?? 3, queue.length) }, async () => {
      while (queue.length && !budget.stopped) {
        const type = queue.shift()!;
        await this.importType(run, cps.get(type)!, owner, opts, budget, () => opts.onProgress?.(progress()));
      }
    });
    await Promise.all(workers);
    const pending = run.types.filter((t) => cps.get(t)!.pass !== 'done');
    const remaining = run.types.reduce((n, t) => n + Math.max(0, cps.get(t)!.total - cps.get(t)!.active - cps.get(t)!.retired), 0);
    this.d.metrics?.add('ImportRemaining', pending.length ? remaining : 0);
    this.d.metrics?.flush();
    return { complete: pending.length === 0, written: budget.written, repaired: budget.repaired, stamp: run.stamp, pending, checkpoints: Object.fromEntries(cps) };
  }

  private async importType(run: ImportRun, cp: TypeCheckpoint, owner: string, opts: ImportOptions,
    budget: Budget, report: () => void): Promise<void> {
    const now = opts.now ?? Date.now;
    const fields = cp.mode === 'full' ? cachedFields(this.d.schema, cp.type) : cp.fields;
    const pageSize = opts.pageSize ?? PAGE_SIZE;
    const fetch = (pass: 'active' | 'retired', afterId: number) => this.d.fetcher.page({ type: cp.type, retired: pass === 'retired', afterId, fields, pageSize });
    let next: { pass: 'active' | 'retired'; afterId: number; page: Promise<EntityRecord[]> } | undefined;
    while (cp.pass !== 'done') {
      if (budget.stopped || budget.pages <= 0 || opts.shouldStop?.() || (opts.deadline !== undefined && now() >= opts.deadline)) { budget.stopped = true; break; }
      budget.pages--;
      const pass = cp.pass;
      const pagePromise = next && next.pass === pass && next.afterId === cp.lastId ? next.page : fetch(pass, cp.lastId);
      next = undefined;
      const page = await pagePromise;
      const full = page.length === pageSize;
      // Read the next page while this one is written.
      if (full) {
        next = { pass, afterId: page[page.length - 1].id, page: fetch(pass, page[page.length - 1].id) };
        next.page.catch(() => {});
      }
      const repaired = await this.write(cp, page, run.stamp, now);
      budget.repaired += repaired;
      budget.written += page.length;
      this.d.metrics?.add('ImportedEntities', page.length);
      if (pass === 'active') cp.active += page.length; else cp.retired += page.length;
      if (full) cp.lastId = page[page.length - 1].id;
      else { cp.pass = pass === 'active' ? 'retired' : 'done'; cp.lastId = 0; }
      cp.updatedAt = now();
      await this.d.state.saveCheckpoint(cp);
      await this.d.state.acquireLease(owner, LEASE_MS, now());
      report();
    }
    if (cp.pass !== 'done') return;
    if (cp.mode === 'full') {
      await this.d.readiness.markTypeReady(cp.type, ['id', ...cachedFields(this.d.schema, cp.type)]);
      if (await this.d.shadow?.clear(cp.type, 'import')) this.d.log?.('re-imported: back in service after its shadow mismatch', { type: cp.type });
    }
    else await this.d.readiness.markFieldsReady(cp.type, cp.fields);
    this.d.log?.('type imported', { type: cp.type, mode: cp.mode, active: cp.active, retired: cp.retired });
  }

  /** Writes one page; returns how many entities had to be re-fetched (see repair). */
  private async write(cp: TypeCheckpoint, page: EntityRecord[], stamp: number, now: () => number): Promise<number> {
    if (!page.length) return 0;
    if (cp.mode === 'full') {
      // Refresh: a re-import at the same stamp as the stored state (no event since) still replaces it.
      const { suspects } = await this.d.store.importEntities(page, stamp, { refresh: true, blind: true });
      return suspects.length ? this.repair(cp.type, suspects.map((s) => s.id), now) : 0;
    }
    // Backfill: merge only the new fields into what is stored (an entity not stored yet arrives through its events).
    const queue = [...page];
    await Promise.all(Array.from({ length: 16 }, async () => {
      for (let r = queue.shift(); r; r = queue.shift()) {
        const values: Record<string, unknown> = {};
        for (const f of cp.fields) values[f] = Object.hasOwn(r.values, f) ? r.values[f] : undefined;
        await this.d.store.applyChange(r.type, r.id, values, stamp, { refresh: true });
      }
    }));
    return 0;
  }

  /**
   * Entities the page's blind write may have overwritten with older data: someone created them concurrently (the
   * creation journal says so; docs/design.md W1). Re-fetched from the site and written whole at a fresh stamp, taken
   * before the fetch, so the result is at least as new as anything the concurrent creator wrote.
   */
  private async repair(type: string, ids: number[], now: () => number): Promise<number> {
    const stamp = await versionStamp(this.d, now(), { initialize: false });
    const found = await this.d.fetcher.byIds(type, ids, cachedFields(this.d.schema, type));
    for (const record of found.values()) await this.d.store.putEntity(record, stamp, { refresh: true });
    this.d.log?.('import: re-fetched entities created concurrently', { type, ids, stamp, missing: ids.filter((id) => !found.has(id)) });
    return ids.length;
  }
}

export { ImportState };

/** The importer of a sync context, with the shadow ledger (a completed re-import clears a type's quarantine). */
export function importerFor(ctx: SyncContext, extra: Pick<ImporterDeps, 'metrics' | 'log'> = {}): Importer {
  return new Importer({
    schema: ctx.schema, store: ctx.store, readiness: ctx.readiness, state: ctx.importState, lease: ctx.lease,
    events: ctx.events, fetcher: ctx.fetcher, shadow: new ShadowLedger(ctx.ddb, ctx.tables.state), calibrate: calibrationFor(ctx),
    rebuild: rebuilderFor(ctx, extra), ...extra,
  });
}

/** The trimmed-log rebuilder of a sync context. */
export function rebuilderFor(ctx: SyncContext, extra: Pick<ImporterDeps, 'metrics' | 'log'> = {}): Rebuilder {
  return new Rebuilder({
    schema: ctx.schema, store: ctx.store, readiness: ctx.readiness, fetcher: ctx.fetcher, events: ctx.events, lease: ctx.lease,
    doc: ctx.doc, stateTable: ctx.tables.state, site: ctx.client, ...extra,
  });
}

/**
 * Whether an import has work to do: a run in progress, a requested full import, a cached type or field not ready, or
 * (given the store) ready types stored under an older item layout.
 */
export async function importPending(d: Pick<ImporterDeps, 'schema' | 'readiness' | 'state'> & { store?: Pick<EntityStore, 'itemLayout'> }): Promise<boolean> {
  const [run, request, ready] = await Promise.all([d.state.run(), d.state.request(), d.readiness.load()]);
  if (run || request) return true;
  if (d.store && (await layoutOutdated({ store: d.store, readiness: d.readiness }))) return true;
  return d.schema.site.typeNames.some((t) => !ready.isDrifted(t, WHOLE_TYPE) && (!ready.isTypeReady(t) || ready.pendingFields(t, cachedFields(d.schema, t)).length > 0));
}

/** Ready types whose entities were stored under an older item layout (ITEM_LAYOUT): they need a full re-import. */
async function layoutOutdated(d: { store: Pick<EntityStore, 'itemLayout'>; readiness: Pick<ReadinessStore, 'load'> }): Promise<boolean> {
  if ((await d.store.itemLayout()) >= ITEM_LAYOUT) return false;
  return (await d.readiness.load()).readyTypes.length > 0;
}

/**
 * A version stamp for whole-entity reads made from now on: the site's latest event id, kept below any id that was
 * allocated but has not committed yet (a recent gap in the log's tail, or an id the cursor still waits for), so the
 * data those events carry (committed after our reads) is never rejected as older than the read. With `initialize`,
 * also the poller's starting point when it has none yet (the import takes it before scanning).
 */
export async function versionStamp(d: Pick<ImporterDeps, 'events' | 'lease'>, at: number, opts: { initialize: boolean }): Promise<number> {
  const latest = await d.events.latestId();
  const tail = latest > 0 ? await d.events.window(Math.max(0, latest - TAIL_WINDOW), latest) : [];
  const present = new Set(tail.map((r) => r.id));
  const gaps: number[] = [];
  let prev: number | undefined;
  for (const r of [...tail].sort((a, b) => a.id - b.id)) {
    const created = r.created_at ? Date.parse(r.created_at) : NaN;
    const recent = !Number.isFinite(created) || at - created < TAIL_AGE_MS;
    if (prev !== undefined && recent) for (let id = prev + 1; id < r.id; id++) if (!present.has(id)) gaps.push(id);
    prev = r.id;
  }
  let stamp = gaps.length ? Math.min(...gaps) - 1 : latest;
  const fresh = opts.initialize
    ? await d.lease.initialize({ maxSeen: latest, backlog: Object.fromEntries(gaps.map((id) => [String(id), at])) })
    : false;
  if (!fresh) {
    const held = (await d.lease.read()).cursor;
    const waiting = held ? backlogIds(held) : [];
    if (waiting.length) stamp = Math.min(stamp, waiting[0] - 1);
  }
  return Math.max(0, stamp);
}

