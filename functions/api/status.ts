// GET /status: readiness only to anyone; the cache's readiness per type, its shadow report, permissions counters, the sync window and the upstream only to a caller holding the cache's own script key.
import { timingSafeEqual } from 'node:crypto';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { cacheStatus } from '../../shared/reads/index.js';
import { FPT_CACHE_VERSION } from '../../shared/version.js';
import type { ApiContext } from './context.js';
import { httpReply } from './reply.js';

/** The request header that unlocks the details: the cache's own script key (SHOTGUN_SCRIPT_KEY). */
export const STATUS_KEY_HEADER = 'x-fpt-cache-script-key';

async function mayDetail(ctx: ApiContext, given: string | undefined): Promise<boolean> {
  if (!given || !ctx.deps.cache) return false;
  const own = (await ctx.deps.cache.scriptAuth().catch(() => undefined))?.script_key;
  if (!own) return false;
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(own, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function status(
  ctx: ApiContext,
  acceptEncoding: string | undefined,
  headers: Record<string, string | undefined> = {},
): Promise<APIGatewayProxyStructuredResultV2> {
  const { cache, logger, upstream } = ctx;
  const reply = (body: unknown) => httpReply(200, {}, Buffer.from(JSON.stringify(body)), acceptEncoding);
  if (!cache) return reply({ ready: true, mode: 'pass-through' });
  const detailed = await mayDetail(ctx, headers[STATUS_KEY_HEADER]);
  try {
    if (!detailed)
      return reply({
        ready: cacheStatus(cache.schema, await cache.readiness(), { version: FPT_CACHE_VERSION, upstream }).ready,
        mode: 'cache',
        version: FPT_CACHE_VERSION,
      });
    const [ready, shadow, syncWindow, eventLog] = await Promise.all([cache.readiness(), cache.ledger.report(), cache.pace.report(), cache.eventLog?.status()]);
    return reply(cacheStatus(cache.schema, ready, { version: FPT_CACHE_VERSION, upstream, shadow, permissions: cache.views.report(), syncWindow, eventLog }));
  } catch (e) {
    logger.error('readiness unavailable', { error: e as Error });
    return reply({ ready: false, mode: 'cache', version: FPT_CACHE_VERSION, ...(detailed ? { upstream } : {}), error: 'readiness unavailable (state table)' });
  }
}
