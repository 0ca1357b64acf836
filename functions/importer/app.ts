// The importer function built from its environment: imports what is not ready, in chunks that end before the Lambda timeout.
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import {
  importerFor,
  type Importer,
  type ImportOptions,
  type ImportOutcome,
  syncContextFromEnv,
  type SyncContext,
  EmfSyncMetrics,
  type SyncMetrics,
} from '../../shared/sync/index.js';

type Env = Record<string, string | undefined>;

/** Stop starting pages this long before the timeout (a page write and the checkpoint fit in it). */
export const TIMEOUT_MARGIN_MS = 30_000;

/** What an invocation may ask for (the poller sends {source}; an operator may name types). */
export const ImportRequestSchema = z.looseObject({ types: z.array(z.string()).optional() });

export interface ImportSummary {
  complete: boolean;
  busy: boolean;
  written: number;
  pending: string[];
  stamp?: number;
}

export type ImportHandler = (event: unknown, context: Context) => Promise<ImportSummary>;

export function summarize(o: ImportOutcome): ImportSummary {
  return { complete: o.complete, busy: o.busy ?? false, written: o.written, pending: o.pending, stamp: o.stamp };
}

export function createImportRunner(d: { ctx: SyncContext; metrics: SyncMetrics; logger: Logger; options?: Partial<ImportOptions> }): {
  importer: Importer;
  handler: ImportHandler;
} {
  const { ctx, logger } = d;
  const importer = importerFor(ctx, { metrics: d.metrics, log: (m, x) => logger.info(m, x ?? {}) });
  const handler: ImportHandler = async (event, context) => {
    const req = ImportRequestSchema.safeParse(event ?? {});
    const types = req.success ? req.data.types : undefined;
    const outcome = await importer.run({
      ...d.options,
      types,
      deadline: Date.now() + context.getRemainingTimeInMillis() - TIMEOUT_MARGIN_MS,
      shouldStop: () => context.getRemainingTimeInMillis() < TIMEOUT_MARGIN_MS,
    });
    const summary = summarize(outcome);
    if (outcome.busy) logger.info('another importer is running');
    else if (!outcome.complete) logger.info('import chunk done; the poller re-invokes the importer until it is complete', { ...summary });
    else logger.info('import complete', { ...summary });
    return summary;
  };
  return { importer, handler };
}

export async function createImporterHandler(
  env: Env,
  o: { metrics?: SyncMetrics; logger?: Logger; options?: Partial<ImportOptions> } = {},
): Promise<ImportHandler> {
  const logger = o.logger ?? new Logger();
  const ctx = await syncContextFromEnv(env, { log: (m, x) => logger.warn(m, x ?? {}) });
  // IMPORT_PAGE_SIZE: entities per page (default the site's 500); smaller pages checkpoint (and stop) sooner.
  const pageSize = Number(env.IMPORT_PAGE_SIZE);
  const options: Partial<ImportOptions> = { ...(Number.isInteger(pageSize) && pageSize > 0 && pageSize <= 500 ? { pageSize } : {}), ...o.options };
  return createImportRunner({ ctx, logger, metrics: o.metrics ?? new EmfSyncMetrics(env.POWERTOOLS_SERVICE_NAME ?? 'fpt-cache'), options }).handler;
}
