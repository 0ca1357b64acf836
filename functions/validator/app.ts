// The validator function built from its environment: compares a sample of cached entities with the site and emits Drift.
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import {
  syncContextFromEnv,
  type SyncContext,
  EmfSyncMetrics,
  type SyncMetrics,
  validatorFor,
  type ValidateOptions,
  type ValidationReport,
} from '../../shared/sync/index.js';

type Env = Record<string, string | undefined>;

export type ValidateHandler = (event: unknown, context: Context) => Promise<{ drift: number; types: number }>;

/** One log line per drifting type, naming the entities and fields. */
export function logDrift(logger: Logger, report: ValidationReport): void {
  for (const t of report.types) {
    const countsDiffer = t.site.active !== t.cache.active || t.site.retired !== t.cache.retired;
    if (t.ready && (countsDiffer || t.differing.length)) {
      logger.error('drift between the cache and the site', { type: t.type, site: t.site, cache: t.cache, differing: t.differing.slice(0, 20) });
    }
  }
}

export function createValidator(d: { ctx: SyncContext; metrics: SyncMetrics; logger: Logger; options?: ValidateOptions }): ValidateHandler {
  const validator = validatorFor(d.ctx, d.metrics);
  return async () => {
    const report = await validator.run(d.options);
    logDrift(d.logger, report);
    d.logger.info('validation pass', { drift: report.drift });
    return { drift: report.drift, types: report.types.length };
  };
}

export async function createValidatorHandler(env: Env, o: { metrics?: SyncMetrics; logger?: Logger } = {}): Promise<ValidateHandler> {
  const logger = o.logger ?? new Logger();
  const ctx = await syncContextFromEnv(env, { log: (m, x) => logger.warn(m, x ?? {}) });
  const n = Number(env.VALIDATE_SAMPLE);
  return createValidator({
    ctx,
    logger,
    metrics: o.metrics ?? new EmfSyncMetrics(env.POWERTOOLS_SERVICE_NAME ?? 'fpt-cache'),
    options: { data: Number.isInteger(n) && n > 0 ? n : 20 },
  });
}
