// Reconciliation: updated_at scans that catch writes the event log never saw, and a slower sweep for ids that appeared, vanished or changed retirement.
//
// Scripts with "Generate Events" off change data and stamps but log nothing (docs/sim.md, peers.md §6); only their
// updated_at shows it. Each pass re-reads, per ready type, the entities (active and retired) updated since the last
// pass started less an overlap, and writes them at a version stamp taken before the reads (refresh semantics: a
// state of the same version is replaced, a newer one wins). Touched entities get their link facts re-propagated
// (closing the rename race of docs/design.md §4) and their edges repaired (§5). The sweep compares the site's ids
// with the stored ones: missing ones are imported, a retired flag that differs is re-read, vanished ids removed.
// A pass also runs the schema diff (shared/sync/schema-drift.ts) when the last one is older than schemaDiffIntervalMs,
// and the drifted types' diff on every pass while drift is recorded (so a deploy that fixes it is seen promptly).
// With `pace` (shared/store/reconcile-pace.ts), a type is scanned only when its adaptive interval is due: sooner while the
// scans (or stale shadow verdicts) find writes the event log did not carry.
import { DeleteCommand, GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CachedSchema } from '../schema/index.js';
import { formatDateTime } from '../site/index.js';
import { ReconcilePace, asWriter, type EntityStore, type PaceSettings, type PendingEvents, type QuietWrite, type ReadinessStore } from '../store/index.js';
import type { EntityRecord } from '../semantics/index.js';
import { EntityRefresher, fetchable } from './entity-refresh.js';
import { backlogIds } from './event-log.js';
import type { ShotgunEventSource } from './event-source.js';
import { versionStamp, type ImporterDeps } from './importer.js';
import type { SchemaDrift } from './schema-drift.js';
import type { SchemaDigest } from './schema-digest.js';
import { PAGE_SIZE, type SiteFetcher } from './site-fetch.js';
import type { SyncMetrics } from './sync-metrics.js';

const PK = 'reconcile';
/** sk of the last full schema diff's time (pk `reconcile`). */
const SCHEMA_DIFF_SK = 'schema-diff';
/** sk of the last calibration's time (pk `reconcile`). */
const CALIBRATION_SK = 'calibration';
/** A calibration of the site's rules (shared/calibration.ts) at most this often. */
export const DEFAULT_CALIBRATION_INTERVAL_MS = 6 * 3_600_000;
/** Default SCHEMA_DIFF_INTERVAL_MS: a full schema diff at most this often. */
export const DEFAULT_SCHEMA_DIFF_INTERVAL_MS = 15 * 60_000;
/**
 * A write younger than this when a scan starts may still have its event on the way to the consumer: it is written
 * like any other but not counted as a write the event log did not carry. An older one may be on its way too (queued
 * behind a backlog, or not polled yet after a restart or an outage): counted only when the log has no event for its
 * entity that the consumer may not have applied yet (Reconciler.notCarried).
 */
export const IN_FLIGHT_MS = 10_000;

export interface ReconcilerDeps {
  schema: CachedSchema;
  store: EntityStore;
  readiness: ReadinessStore;
  fetcher: SiteFetcher;
  /** The event log: the version stamp, and which entities have an event the consumer has not applied yet. */
  events: ImporterDeps['events'] & Pick<ShotgunEventSource, 'latestFor'>;
  lease: ImporterDeps['lease'];
  /** Events queued and not applied yet (shared/store/pending-events.ts); without it only events the poller has not read count as on their way. */
  pending?: Pick<PendingEvents, 'lowest'>;
  doc: DynamoDBDocumentClient;
  stateTable: string;
  metrics?: SyncMetrics;
  log?: (message: string, details?: Record<string, unknown>) => void;
  /** The schema diff; without it a pass runs none. */
  schemaDrift?: SchemaDrift;
  /** The whole-schema digest, checked with every full schema diff (shared/sync/schema-digest.ts). */
  schemaDigest?: SchemaDigest;
  /** Measures the site's rules (shared/calibration.ts); without it a pass runs none. */
  calibrate?: () => Promise<unknown>;
}

export interface ReconcileOptions {
  types?: string[];
  now?: () => number;
  /** Re-read what changed this long before the previous pass started, too (clock skew, late commits). Default 2 min. */
  overlapMs?: number;
  /** A type never scanned before looks back this far. Default 1 h. */
  firstLookBackMs?: number;
  /** Run the id sweep: always, never, or when the last one is older than sweepIntervalMs (default). */
  sweep?: 'auto' | 'always' | 'never';
  sweepIntervalMs?: number;
  /** Run the full schema diff: always, never, or when the last one is older than schemaDiffIntervalMs (default). */
  schemaDiff?: 'auto' | 'always' | 'never';
  schemaDiffIntervalMs?: number;
  /** Calibrate the site's rules: always, never, or when the last calibration is older than calibrationIntervalMs (default). */
  calibration?: 'auto' | 'always' | 'never';
  calibrationIntervalMs?: number;
  shouldStop?: () => boolean;
  /** The adaptive interval: scan a type only when due (base: the schedule's nominal interval, floor: its rate). Without it every pass scans every type. */
  pace?: PaceSettings;
}

export interface TypeReconcile {
  scanned: number;
  applied: number;
  added: number;
  vanished: number;
  refetched: number;
  swept: boolean;
  /** Entities the scan found newer on the site than in the cache, older than IN_FLIGHT_MS: writes the event log did not carry. */
  quiet: number;
  /** The type's interval after this pass (with `pace`). */
  intervalMs?: number;
}
export interface ReconcileOutcome {
  stamp: number;
  types: Record<string, TypeReconcile>;
  /** Ready types not due yet (with `pace`). */
  notDue: string[];
  stopped: boolean;
  /** The schema diff this pass ran, if any: full or of the drifted types only. */
  schemaDiff?: { full: boolean; types: number; drifted: number; detected: number; cleared: number; schemaChanged?: boolean };
  /** This pass calibrated the site's rules. */
  calibrated?: boolean;
}

interface TypeState {
  since?: number;
  sweptAt?: number;
}

export class Reconciler {
  readonly pace: ReconcilePace;
  private readonly refresher: EntityRefresher;
  constructor(private readonly d: ReconcilerDeps) {
    this.pace = new ReconcilePace(d.doc, d.stateTable);
    this.refresher = new EntityRefresher(d);
  }

  private async state(type: string): Promise<TypeState> {
    const it = (await this.d.doc.send(new GetCommand({ TableName: this.d.stateTable, Key: { pk: PK, sk: `type#${type}` }, ConsistentRead: true }))).Item;
    return { since: typeof it?.since === 'number' ? it.since : undefined, sweptAt: typeof it?.sweptAt === 'number' ? it.sweptAt : undefined };
  }

  private async saveState(type: string, s: TypeState): Promise<void> {
    await this.d.doc.send(new PutCommand({ TableName: this.d.stateTable, Item: { pk: PK, sk: `type#${type}`, ...s } }));
  }

  /** Forgets when a type was last scanned (the next pass looks back firstLookBackMs). */
  async reset(type: string): Promise<void> {
    await this.d.doc.send(new DeleteCommand({ TableName: this.d.stateTable, Key: { pk: PK, sk: `type#${type}` } }));
  }

  async run(opts: ReconcileOptions = {}): Promise<ReconcileOutcome> {
    const now = opts.now ?? Date.now;
    const started = now();
    const schemaDiff = await this.schemaDiff(opts, started);
    const calibrated = await this.calibrate(opts, started);
    const ready = await this.d.readiness.load();
    const types = (opts.types ?? this.d.schema.site.typeNames).filter((t) => ready.isTypeReady(t));
    const stamp = await versionStamp(this.d, started, { initialize: false });
    const out: ReconcileOutcome = {
      stamp,
      types: {},
      notDue: [],
      stopped: false,
      ...(schemaDiff ? { schemaDiff } : {}),
      ...(calibrated ? { calibrated } : {}),
    };
    for (const type of types) {
      if (opts.shouldStop?.()) {
        out.stopped = true;
        break;
      }
      const pace = await this.pace.get(type);
      // Half the schedule's rate as slack: a type due a little after this invocation would otherwise wait a whole period.
      if (opts.pace && !this.pace.due(pace, now(), opts.pace.floorMs / 2)) {
        out.notDue.push(type);
        continue;
      }
      const st = await this.state(type);
      const r: TypeReconcile = { scanned: 0, applied: 0, added: 0, vanished: 0, refetched: 0, swept: false, quiet: 0 };
      const passStart = now();
      const fields = fetchable(this.d.schema, ready, type);
      if (this.d.schema.isCached(type, 'updated_at') && !ready.isDrifted(type, 'updated_at')) {
        const since = (st.since ?? passStart - (opts.firstLookBackMs ?? 3_600_000)) - (opts.overlapMs ?? 120_000);
        const quiet = await this.notCarried(type, await this.scan(type, formatDateTime(new Date(since)), stamp, r, fields, passStart));
        r.quiet = quiet.length;
        if (quiet.length) {
          await this.pace.found(type, quiet, passStart);
          this.d.log?.('writes the event log did not carry (scripts with Generate Events off?)', { type, count: quiet.length, writers: writersOf(quiet) });
        }
      }
      const sweep = opts.sweep ?? 'auto';
      if (sweep === 'always' || (sweep === 'auto' && (st.sweptAt === undefined || passStart - st.sweptAt >= (opts.sweepIntervalMs ?? 86_400_000)))) {
        await this.sweep(type, stamp, r, fields);
        r.swept = true;
      }
      await this.saveState(type, { since: passStart, sweptAt: r.swept ? passStart : st.sweptAt });
      if (opts.pace) r.intervalMs = await this.pace.scanned(type, pace, r.quiet > 0, passStart, opts.pace);
      out.types[type] = r;
      this.d.metrics?.add('ReconciledEntities', r.applied + r.added + r.refetched);
      if (r.vanished) this.d.metrics?.add('VanishedEntities', r.vanished);
    }
    this.d.metrics?.flush();
    return out;
  }

  /**
   * The full schema diff when due (state-table timestamp), else the diff of the types with recorded drift; also
   * records fingerprints for ready fields that have none (readiness written before fingerprints existed).
   */
  private async schemaDiff(opts: ReconcileOptions, started: number): Promise<ReconcileOutcome['schemaDiff']> {
    const mode = opts.schemaDiff ?? 'auto';
    if (!this.d.schemaDrift || mode === 'never') return undefined;
    const key = { pk: PK, sk: SCHEMA_DIFF_SK };
    const last = (await this.d.doc.send(new GetCommand({ TableName: this.d.stateTable, Key: key, ConsistentRead: true }))).Item?.at;
    const full = mode === 'always' || typeof last !== 'number' || started - last >= (opts.schemaDiffIntervalMs ?? DEFAULT_SCHEMA_DIFF_INTERVAL_MS);
    let types: string[] | undefined;
    if (!full) {
      types = [...new Set((await this.d.readiness.load()).drifted().map((d) => d.type))].filter((t) => this.d.schema.site.hasType(t));
      if (!types.length) return undefined;
    }
    // Any change of the site's schema (not only of cached fields) invalidates schema replies and the site's field names.
    const digest =
      full && this.d.schemaDigest
        ? await this.d.schemaDigest.check().catch((e) => {
            this.d.log?.('whole-schema digest not checked (next full diff retries)', { error: (e as Error).message });
            return undefined;
          })
        : undefined;
    if (digest?.changed) this.d.log?.("the site's schema changed (periodic schema diff): schema generation bumped", { digest: digest.digest });
    const r = await this.d.schemaDrift.check(types, full ? 'reconciler: periodic schema diff' : 'reconciler: drift recorded');
    if (full) {
      await this.d.doc.send(new PutCommand({ TableName: this.d.stateTable, Item: { ...key, at: started } }));
      const adopted = await this.d.readiness.adoptFingerprints();
      if (adopted) this.d.log?.('definition fingerprints recorded for fields imported before fingerprints existed', { fields: adopted });
    }
    return {
      full,
      types: r.types.length,
      drifted: r.total,
      detected: r.detected.length,
      cleared: r.cleared.length,
      ...(digest ? { schemaChanged: digest.changed } : {}),
    };
  }

  /** The site's rules, re-measured when the last calibration is older than the interval (a failed one is retried next pass). */
  private async calibrate(opts: ReconcileOptions, started: number): Promise<boolean> {
    const mode = opts.calibration ?? 'auto';
    if (!this.d.calibrate || mode === 'never') return false;
    const key = { pk: PK, sk: CALIBRATION_SK };
    const last = (await this.d.doc.send(new GetCommand({ TableName: this.d.stateTable, Key: key, ConsistentRead: true }))).Item?.at;
    if (mode === 'auto' && typeof last === 'number' && started - last < (opts.calibrationIntervalMs ?? DEFAULT_CALIBRATION_INTERVAL_MS)) return false;
    try {
      await this.d.calibrate();
    } catch (e) {
      this.d.log?.('calibration failed; the site rules stay as they were', { error: (e as Error).message });
      return false;
    }
    await this.d.doc.send(new PutCommand({ TableName: this.d.stateTable, Item: { ...key, at: started } }));
    return true;
  }

  /** The updated_at scan; returns the writes it found that the cache had not seen (older than IN_FLIGHT_MS at `started`). */
  private async scan(type: string, since: string, stamp: number, r: TypeReconcile, fields: string[] | undefined, started: number): Promise<QuietWrite[]> {
    const quiet: QuietWrite[] = [];
    for (const retired of [false, true]) {
      for (let afterId = 0; ;) {
        const page = await this.d.fetcher.page({ type, retired, afterId, fields, where: [{ path: 'updated_at', relation: 'greater_than', values: [since] }] });
        r.scanned += page.length;
        quiet.push(...(await this.unseen(type, page, started)));
        const w = await this.refresher.write(page, stamp);
        r.applied += w.created + w.merged;
        if (page.length < PAGE_SIZE) break;
        afterId = page[page.length - 1].id;
      }
    }
    return quiet;
  }

  /** Records of a scan page whose site updated_at is later than the stored copy's (or that are not stored), older than IN_FLIGHT_MS. */
  private async unseen(type: string, page: readonly EntityRecord[], started: number): Promise<QuietWrite[]> {
    if (!page.length) return [];
    const stored = new Map(
      (
        await this.d.store.getMany(
          type,
          page.map((p) => p.id),
        )
      ).entities.map((e) => [e.record.id, e.record.values.updated_at]),
    );
    const out: QuietWrite[] = [];
    for (const rec of page) {
      const site = Date.parse(String(rec.values.updated_at ?? ''));
      if (!Number.isFinite(site) || started - site < IN_FLIGHT_MS) continue;
      const cached = Date.parse(String(stored.get(rec.id) ?? ''));
      if (Number.isFinite(cached) && cached >= site) continue;
      out.push({ id: rec.id, updatedAt: String(rec.values.updated_at), by: asWriter(rec.values.updated_by) });
    }
    return out;
  }

  /**
   * Of the writes a scan found unseen, those the event log did not carry: an entity with an event after the oldest one
   * the consumer may not have applied (the lowest queued marker of the type, the cursor's backlog, or beyond the cursor:
   * logged, not polled yet) has its change on the way. Judged by the log itself, so a restart or a backlog older than
   * IN_FLIGHT_MS does not pass for writes by scripts with events off (nor tighten the reconcile pace).
   */
  private async notCarried(type: string, writes: QuietWrite[]): Promise<QuietWrite[]> {
    if (!writes.length) return writes;
    const cursor = (await this.d.lease.read()).cursor;
    const queued = await this.d.pending?.lowest(type);
    let afterId = cursor?.maxSeen ?? 0;
    for (const id of [...(cursor ? backlogIds(cursor) : []), ...(queued === undefined ? [] : [queued])]) afterId = Math.min(afterId, id - 1);
    const onTheWay = await this.d.events.latestFor(
      type,
      writes.map((w) => w.id),
      Math.max(0, afterId),
    );
    return writes.filter((w) => !onTheWay.has(w.id));
  }

  /** Site ids (active, retired) against stored ids: import the missing, re-read a differing retired flag, remove the vanished. */
  private async sweep(type: string, stamp: number, r: TypeReconcile, fields?: string[]): Promise<void> {
    const site = await this.d.fetcher.ids(type);
    const stored = await this.d.store.typeSummary(type);
    const storedIds = new Set(stored.ids);
    const missing = [...site.keys()].filter((id) => !storedIds.has(id));
    const flipped = stored.ids.filter((id) => site.has(id) && site.get(id) !== stored.retired.has(id));
    const vanished = stored.ids.filter((id) => !site.has(id));
    const reread = [...missing, ...flipped];
    if (reread.length) {
      const recs = [...(await this.d.fetcher.byIds(type, reread, fields)).values()];
      await this.refresher.write(recs, stamp);
      r.added += missing.length;
      r.refetched += flipped.length;
    }
    for (const id of vanished) {
      await this.refresher.remove(type, id);
      r.vanished++;
    }
    if (missing.length || flipped.length || vanished.length) this.d.log?.('sweep corrected the cache', { type, missing, flipped, vanished });
  }
}

const writersOf = (writes: readonly QuietWrite[]): string[] => [
  ...new Set(writes.map((w) => (w.by ? `${w.by.type} ${w.by.id}${w.by.name ? ` (${w.by.name})` : ''}` : 'unknown'))),
];
