// The reconciler function built from its environment: updated_at scans and the id sweep (on an adaptive interval per type), then the re-checks that lift quarantines, ending before the Lambda timeout.
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { EmfShadowMetrics, QuarantineHealer, ShadowLedger, ShadowVerifier, type HealOutcome, type ShadowMetrics } from '../../shared/shadow/index.js';
import {
  calibrationFor, EmfSyncMetrics, Reconciler, SchemaDigest, SchemaDrift, shadowPorts, syncContextFromEnv, validatorFor, type ReconcileOptions, type ReconcileOutcome, type SyncContext, type SyncMetrics,
} from '../../shared/sync/index.js';

type Env = Record<string, string | undefined>;

/** Stop starting types this long before the timeout. */
export const TIMEOUT_MARGIN_MS = 20_000;

export type ReconcileHandler = (event: unknown, context: Context) => Promise<ReconcileOutcome & { heal?: HealOutcome }>;

export interface ReconcileRunnerDeps {
  ctx: SyncContext;
  metrics: SyncMetrics;
  /** Shadow metrics (ShadowLifted, ShadowRepaired); without them no re-checks run. */
  shadowMetrics?: ShadowMetrics;
  logger: Logger;
  options?: ReconcileOptions;
  now?: () => number;
}

export function createReconcileRunner(d: ReconcileRunnerDeps): { reconciler: Reconciler; healer?: QuarantineHealer; handler: ReconcileHandler } {
  const { ctx, logger } = d;
  const warn = (m: string, x?: Record<string, unknown>) => logger.warn(m, x ?? {});
  const reconciler = new Reconciler({
    schema: ctx.schema, store: ctx.store, readiness: ctx.readiness, fetcher: ctx.fetcher, events: ctx.events, lease: ctx.lease,
    doc: ctx.doc, stateTable: ctx.tables.state, metrics: d.metrics, log: warn,
    calibrate: calibrationFor(ctx),
    schemaDrift: new SchemaDrift({ schema: ctx.schema, site: ctx.client, readiness: ctx.readiness, metrics: d.metrics, log: warn }),
    schemaDigest: new SchemaDigest({ schema: ctx.schema, site: ctx.client, ddb: ctx.ddb, table: ctx.tables.state, readiness: ctx.readiness }),
  });
  const sm = d.shadowMetrics;
  let healer: QuarantineHealer | undefined;
  if (sm) {
    // Re-checks replay with no settle rounds: one comparison, a repair of what is stale, one more comparison.
    const verifier = new ShadowVerifier({ ...shadowPorts(ctx, { onRepair: (n) => sm.repaired(n) }), settleMs: 0, roundMs: 1 });
    const validator = validatorFor(ctx);
    healer = new QuarantineHealer({
      ledger: new ShadowLedger(ctx.ddb, ctx.tables.state), metrics: sm, log: warn, now: d.now,
      recheck: (method, type, params) => verifier.recheck(method, type, params),
      suspectsDiffering: async (type, ids) => (await validator.differing(type, ids)).length,
    });
  }
  const handler: ReconcileHandler = async (_event, context) => {
    const shouldStop = () => context.getRemainingTimeInMillis() < TIMEOUT_MARGIN_MS;
    const out = await reconciler.run({ ...d.options, ...(d.now ? { now: d.now } : {}), shouldStop });
    const heal = healer && !shouldStop() ? await healer.run(new Set(Object.keys(out.types))) : undefined;
    sm?.flush();
    const touched = Object.values(out.types).reduce((n, t) => n + t.applied + t.added + t.refetched + t.vanished, 0);
    const quiet = Object.values(out.types).reduce((n, t) => n + t.quiet, 0);
    logger.info('reconciliation pass', { stamp: out.stamp, scanned: Object.keys(out.types), notDue: out.notDue, touched, quiet, stopped: out.stopped, schemaDiff: out.schemaDiff ?? null, calibrated: out.calibrated ?? false, heal: heal ?? null });
    return { ...out, ...(heal ? { heal } : {}) };
  };
  return { reconciler, healer, handler };
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

export async function createReconcilerHandler(env: Env, o: { metrics?: SyncMetrics; shadowMetrics?: ShadowMetrics; logger?: Logger; options?: ReconcileOptions } = {}): Promise<ReconcileHandler> {
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
  return createReconcileRunner({
    ctx, logger, options, metrics: o.metrics ?? new EmfSyncMetrics(service), shadowMetrics: o.shadowMetrics ?? new EmfShadowMetrics(service),
  }).handler;
}
