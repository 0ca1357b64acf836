// GET /status: the cache's readiness per type, its shadow report and the measured sync window, or the pass-through mode; reveals no data.
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { cacheStatus } from '../../shared/reads/index.js';
import { FPT_CACHE_VERSION } from '../../shared/version.js';
import type { ApiContext } from './context.js';
import { httpReply } from './reply.js';

export async function status(ctx: ApiContext, acceptEncoding: string | undefined): Promise<APIGatewayProxyStructuredResultV2> {
  const { cache, logger, upstream } = ctx;
  if (!cache) return httpReply(200, {}, Buffer.from(JSON.stringify({ ready: true, mode: 'pass-through', upstream })), acceptEncoding);
  let body: unknown;
  try {
    const [ready, shadow, syncWindow, eventLog] = await Promise.all([cache.readiness(), cache.ledger.report(), cache.pace.report(), cache.eventLog?.status()]);
    body = cacheStatus(cache.schema, ready, { version: FPT_CACHE_VERSION, upstream, shadow, permissions: cache.views.report(), syncWindow, eventLog });
  } catch (e) {
    logger.error('readiness unavailable', { error: e as Error });
    body = { ready: false, mode: 'cache', version: FPT_CACHE_VERSION, upstream, error: 'readiness unavailable (state table)' };
  }
  return httpReply(200, {}, Buffer.from(JSON.stringify(body)), acceptEncoding);
}
