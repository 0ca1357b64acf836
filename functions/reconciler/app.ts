// The reconciler function built from its environment: updated_at scans and the id sweep (on an adaptive interval per type), the re-checks that lift quarantines, and the renewal of expiring signed URLs, ending before the Lambda timeout.
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { EmfShadowMetrics, QuarantineHealer, ShadowLedger, ShadowVerifier, type HealOutcome, type ShadowMetrics } from '../../shared/shadow/index.js';
import { PendingEvents, RecentVolatileReads } from '../../shared/store/index.js';
import { DEFAULT_SIGNED_URL_MARGIN_S } from '../../shared/site/index.js';
import {
  calibrationFor,
  EmfSyncMetrics,
  EntityRefresher,
  Reconciler,
  SchemaDigest,
  SchemaDrift,
  shadowPorts,
  syncContextFromEnv,
  validatorFor,
  VolatileRefresher,
  type VolatileRefreshOutcome,
  type ReconcileOptions,
  type ReconcileOutcome,
  type SyncContext,
  type SyncMetrics,
} from '../../shared/sync/index.js';

type Env = Record<string, string | undefined>;

/** Stop starting types this long before the timeout. */
export const TIMEOUT_MARGIN_MS = 20_000;

export type ReconcileHandler = (event: unknown, context: Context) => Promise<ReconcileOutcome & { heal?: HealOutcome; volatile?: VolatileRefreshOutcome }>;

export interface ReconcileRunnerDeps {
  ctx: SyncContext;
  metrics: SyncMetrics;
  /** Shadow metrics (ShadowLifted, ShadowRepaired); without them no re-checks run. */
  shadowMetrics?: ShadowMetrics;
  logger: Logger;
  options?: ReconcileOptions;
  now?: () => number;
  /** Signed URLs of recently read entities are renewed before they come within this margin (SIGNED_URL_MARGIN_S). */
  signedUrlMarginS?: number;
}

export function createReconcileRunner(d: ReconcileRunnerDeps): {
  reconciler: Reconciler;
  healer?: QuarantineHealer;
  handler: ReconcileHandler;
  volatile: VolatileRefresher;
} {
  const { ctx, logger } = d;
  const warn = (m: string, x?: Record<string, unknown>) => logger.warn(m, x ?? {});
  // The context's clock (the real one in production) unless the caller gives its own.
  const now = d.now ?? (() => ctx.clock.now());
  const reconciler = new Reconciler({
    schema: ctx.schema,
    store: ctx.store,
    readiness: ctx.readiness,
    fetcher: ctx.fetcher,
    events: ctx.events,
    lease: ctx.lease,
    // Changes queued and not applied yet are on their way, not writes the event log did not carry.
    pending: new PendingEvents(ctx.ddb, ctx.tables.state),
    doc: ctx.doc,
    stateTable: ctx.tables.state,
    metrics: d.metrics,
    log: warn,
    calibrate: calibrationFor(ctx),
    schemaDrift: new SchemaDrift({ schema: ctx.schema, site: ctx.client, readiness: ctx.readiness, metrics: d.metrics, log: warn }),
    schemaDigest: new SchemaDigest({ schema: ctx.schema, site: ctx.client, ddb: ctx.ddb, table: ctx.tables.state, readiness: ctx.readiness }),
  });
  // Signed URLs of entities recently served with them, renewed before they come within the margin (shared/sync/volatile-refresh.ts).
  const refresher = new EntityRefresher(ctx);
  const volatile = new VolatileRefresher({
    schema: ctx.schema,
    store: ctx.store,
    fetcher: ctx.fetcher,
    log: warn,
    stamp: () => refresher.stamp(),
    recent: new RecentVolatileReads({ ddb: ctx.ddb, table: ctx.tables.state, now }),
  });
  const sm = d.shadowMetrics;
  let healer: QuarantineHealer | undefined;
  if (sm) {
    // Re-checks replay with no settle rounds: one comparison, a repair of what is stale, one more comparison.
    const verifier = new ShadowVerifier({
      ...shadowPorts(ctx, { onRepair: (n) => sm.repaired(n) }),
      settleMs: 0,
      roundMs: 1,
      now,
      sleep: (ms) => ctx.clock.sleep(ms),
    });
    const validator = validatorFor(ctx);
    healer = new QuarantineHealer({
      ledger: new ShadowLedger(ctx.ddb, ctx.tables.state),
      metrics: sm,
      log: warn,
      now,
      recheck: (method, type, params) => verifier.recheck(method, type, params),
      suspectsDiffering: async (type, ids) => (await validator.differing(type, ids)).length,
    });
  }
  const handler: ReconcileHandler = async (_event, context) => {
    const shouldStop = () => context.getRemainingTimeInMillis() < TIMEOUT_MARGIN_MS;
    const out = await reconciler.run({ now, ...d.options, ...(d.now ? { now: d.now } : {}), shouldStop });
    const heal = healer && !shouldStop() ? await healer.run(new Set(Object.keys(out.types))) : undefined;
    const renewed = shouldStop()
      ? undefined
      : await volatile.run({ now, marginMs: (d.signedUrlMarginS ?? DEFAULT_SIGNED_URL_MARGIN_S) * 1000 }).catch((e: unknown) => {
          warn('signed URLs not renewed', { error: (e as Error).message });
          return undefined;
        });
    sm?.flush();
    const touched = Object.values(out.types).reduce((n, t) => n + t.applied + t.added + t.refetched + t.vanished, 0);
    const quiet = Object.values(out.types).reduce((n, t) => n + t.quiet, 0);
    logger.info('reconciliation pass', {
      stamp: out.stamp,
      scanned: Object.keys(out.types),
      notDue: out.notDue,
      touched,
      quiet,
      stopped: out.stopped,
      schemaDiff: out.schemaDiff ?? null,
      calibrated: out.calibrated ?? false,
      heal: heal ?? null,
      volatile: renewed ?? null,
    });
    return { ...out, ...(heal ? { heal } : {}), ...(renewed ? { volatile: renewed } : {}) };
  };
  return { reconciler, healer, handler, volatile };
}

const positiveMs = (raw: string | undefined): number | undefined => {
  const n = Number(raw);
  return raw !== undefined && raw.trim() !== '' && Number.isFinite(n) && n > 0 ? n : undefined;
};

/**
 * The adaptive interval from RECONCILE_INTERVAL_MS (the base: a type with no quiet writes is scanned this often) and
 * RECONCILE_FLOOR_MS (the schedule's rate: the shortest interval); none unless the floor is below the base.
 */
export function paceFromEnv(env: Env): ReconcileOptions['pace'] {
  const baseMs = positiveMs(env.RECONCILE_INTERVAL_MS);
  const floorMs = positiveMs(env.RECONCILE_FLOOR_MS);
  return baseMs && floorMs && floorMs < baseMs ? { baseMs, floorMs } : undefined;
}

export async function createReconcilerHandler(
  env: Env,
  o: { metrics?: SyncMetrics; shadowMetrics?: ShadowMetrics; logger?: Logger; options?: ReconcileOptions } = {},
): Promise<ReconcileHandler> {
  const logger = o.logger ?? new Logger();
  const ctx = await syncContextFromEnv(env, { log: (m, x) => logger.warn(m, x ?? {}) });
  const sweepHours = Number(env.SWEEP_INTERVAL_HOURS);
  const schemaDiffMs = Number(env.SCHEMA_DIFF_INTERVAL_MS);
  const calibrationMs = Number(env.CALIBRATION_INTERVAL_MS);
  const pace = paceFromEnv(env);
  const options: ReconcileOptions = {
    ...(Number.isFinite(sweepHours) && sweepHours > 0 ? { sweepIntervalMs: sweepHours * 3_600_000 } : {}),
    ...(Number.isFinite(schemaDiffMs) && schemaDiffMs > 0 ? { schemaDiffIntervalMs: schemaDiffMs } : {}),
    ...(Number.isFinite(calibrationMs) && calibrationMs > 0 ? { calibrationIntervalMs: calibrationMs } : {}),
    ...(pace ? { pace } : {}),
    ...o.options,
  };
  const service = env.POWERTOOLS_SERVICE_NAME ?? 'fpt-cache';
  const margin = Number(env.SIGNED_URL_MARGIN_S);
  return createReconcileRunner({
    ctx,
    logger,
    options,
    ...(Number.isInteger(margin) && margin > 0 ? { signedUrlMarginS: margin } : {}),
    metrics: o.metrics ?? new EmfSyncMetrics(service),
    shadowMetrics: o.shadowMetrics ?? new EmfShadowMetrics(service),
  }).handler;
}
