// The reconciler function built from its environment: updated_at scans and the id sweep, ending before the Lambda timeout.
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import {
  calibrationFor, Reconciler, type ReconcileOptions, type ReconcileOutcome, SchemaDrift, syncContextFromEnv, type SyncContext, EmfSyncMetrics, type SyncMetrics,
} from '../../shared/sync/index.js';

type Env = Record<string, string | undefined>;

/** Stop starting types this long before the timeout. */
export const TIMEOUT_MARGIN_MS = 20_000;

export type ReconcileHandler = (event: unknown, context: Context) => Promise<ReconcileOutcome>;

export function createReconcileRunner(d: { ctx: SyncContext; metrics: SyncMetrics; logger: Logger; options?: ReconcileOptions }): { reconciler: Reconciler; handler: ReconcileHandler } {
  const { ctx, logger } = d;
  const reconciler = new Reconciler({
    schema: ctx.schema, store: ctx.store, readiness: ctx.readiness, fetcher: ctx.fetcher, events: ctx.events, lease: ctx.lease,
    doc: ctx.doc, stateTable: ctx.tables.state, metrics: d.metrics, log: (m, x) => logger.warn(m, x ?? {}),
    calibrate: calibrationFor(ctx),
    schemaDrift: new SchemaDrift({ schema: ctx.schema, site: ctx.client, readiness: ctx.readiness, metrics: d.metrics, log: (m, x) => logger.warn(m, x ?? {}) }),
  });
  const handler: ReconcileHandler = async (_event, context) => {
    const out = await reconciler.run({ ...d.options, shouldStop: () => context.getRemainingTimeInMillis() < TIMEOUT_MARGIN_MS });
    const touched = Object.values(out.types).reduce((n, t) => n + t.applied + t.added + t.refetched + t.vanished, 0);
    logger.info('reconciliation pass', { stamp: out.stamp, touched, stopped: out.stopped, schemaDiff: out.schemaDiff ?? null, calibrated: out.calibrated ?? false });
    return out;
  };
  return { reconciler, handler };
}

export async function createReconcilerHandler(env: Env, o: { metrics?: SyncMetrics; logger?: Logger; options?: ReconcileOptions } = {}): Promise<ReconcileHandler> {
  const logger = o.logger ?? new Logger();
  const ctx = await syncContextFromEnv(env, { log: (m, x) => logger.warn(m, x ?? {}) });
  const sweepHours = Number(env.SWEEP_INTERVAL_HOURS);
  const schemaDiffMs = Number(env.SCHEMA_DIFF_INTERVAL_MS);
  const calibrationMs = Number(env.CALIBRATION_INTERVAL_MS);
  const options: ReconcileOptions = {
    ...(Number.isFinite(sweepHours) && sweepHours > 0 ? { sweepIntervalMs: sweepHours * 3_600_000 } : {}),
    ...(Number.isFinite(schemaDiffMs) && schemaDiffMs > 0 ? { schemaDiffIntervalMs: schemaDiffMs } : {}),
    ...(Number.isFinite(calibrationMs) && calibrationMs > 0 ? { calibrationIntervalMs: calibrationMs } : {}),
    ...o.options,
  };
  return createReconcileRunner({ ctx, logger, metrics: o.metrics ?? new EmfSyncMetrics(env.POWERTOOLS_SERVICE_NAME ?? 'fpt-cache'), options }).handler;
}
