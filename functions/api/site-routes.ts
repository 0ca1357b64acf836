// The requests the site answers: pass-through, writes (then written through to the cache), info, and file transfers.
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { bumpGenerations, typesNamedIn } from '../../shared/reads/index.js';
import { passThrough, relayTransfer, uploadTargets, type RawReply } from '../../shared/site/index.js';
import { FPT_CACHE_VERSION } from '../../shared/version.js';
import type { ApiContext } from './context.js';
import type { ParsedRequest } from './request.js';
import { MAX_RESULT_BODY_BYTES, httpReply, isResultsBody, tags } from './reply.js';
import { staleHeaders } from './outage.js';

/** Sends the request to the site unchanged. Its reply is never taken as a verdict on the caller's credentials (the site answers some methods, `info` first, without checking them). */
export async function forward(
  ctx: ApiContext,
  req: ParsedRequest,
  reason: string,
  acceptEncoding: string | undefined,
  extra: Record<string, string> = {},
): Promise<{ reply: RawReply; result: APIGatewayProxyStructuredResultV2 }> {
  const { cache, logger, client } = ctx;
  const method = req.rpc.method_name;
  const reply = await passThrough(client, { body: req.body, headers: req.headers, method });
  logger.info('passed through', { method, reason, status: reply.status });
  const result = httpReply(reply.status, { ...reply.headers, ...tags('pass', reason), ...extra }, reply.body, acceptEncoding);
  // Signed URLs in the site's reply renew the stored ones of the same objects (after the reply is built; never fails it).
  if (cache && isResultsBody(reply)) await cache.renewal.learn(method, reply.body);
  return { reply, result };
}

export async function write(
  ctx: ApiContext,
  req: ParsedRequest,
  reason: string,
  acceptEncoding: string | undefined,
): Promise<APIGatewayProxyStructuredResultV2> {
  const { cache, logger, metrics, client } = ctx;
  if (!cache) return (await forward(ctx, req, reason, acceptEncoding)).result;
  const method = req.rpc.method_name;
  // Taken before the read-back (see shared/reads/write-through.ts); runs while the site applies the write.
  const version = cache.versions.next().catch((e) => {
    logger.warn('no write-through version (state table)', { error: (e as Error).message });
    return undefined;
  });
  const reply = await passThrough(client, { body: req.body, headers: req.headers, method });
  let state = 'not-applicable';
  if (isResultsBody(reply)) {
    // Replies kept by the response cache that read the written types no longer serve (before the client sees the answer).
    if (cache.responses) {
      const params = req.rpc.params[1];
      const types = new Set(typesNamedIn(JSON.stringify(params ?? null)));
      if (typeof (params as { type?: unknown })?.type === 'string') types.add((params as { type: string }).type);
      for (const r of ((params as { requests?: unknown })?.requests as Array<{ entity_type?: unknown }> | undefined) ?? []) {
        if (typeof r?.entity_type === 'string') types.add(r.entity_type);
      }
      await bumpGenerations(cache.ddb, cache.tables.state, types).catch((e) =>
        logger.error('response-cache generations not bumped', { method, error: e as Error }),
      );
    }
    state = 'failed';
    try {
      const results = (JSON.parse(reply.body.toString('utf8')) as { results: unknown }).results;
      await cache.eventLog
        ?.noteWrites(method, req.rpc.params[1], results)
        .catch((e) =>
          logger.error('event created through the cache not noted (kept-log reads of its range may miss it until the next poll)', { error: e as Error }),
        );
      const out = await cache.writeThrough.apply(method, req.rpc.params[1], results, await version);
      state = out.version === undefined ? 'skipped' : 'applied';
      logger.info('written through', { method, ...out });
    } catch (e) {
      // The client's write succeeded on the site: its answer goes back unchanged; the sync pipeline repairs the cache.
      metrics.writeThroughFailed();
      logger.error('write-through failed (the sync pipeline will repair the cache)', { method, error: e as Error });
    }
  }
  logger.info('passed through', { method, reason, status: reply.status });
  const result = httpReply(reply.status, { ...reply.headers, ...tags('pass', reason), 'x-fpt-cache-write-through': state }, reply.body, acceptEncoding);
  if (isResultsBody(reply)) await cache.renewal.learn(method, reply.body);
  return result;
}

export async function info(ctx: ApiContext, req: ParsedRequest, acceptEncoding: string | undefined): Promise<APIGatewayProxyStructuredResultV2> {
  const { logger, siteInfo } = ctx;
  try {
    const r = await siteInfo.reply();
    const named = { 'x-fpt-cache-version': FPT_CACHE_VERSION };
    const since = r.staleSince ?? (ctx.client.health?.isUp() === false ? r.at : undefined);
    if (since !== undefined) {
      // The site is down: its last `info` reply, from memory, marked stale (clients connect with it), unless outage mode is off.
      if (r.staleSince !== undefined && !((ctx.cache?.outage?.graceMs ?? 0) > 0)) return (await forward(ctx, req, 'method:info', acceptEncoding)).result;
      ctx.metrics.outageHit?.();
      return httpReply(200, { ...named, ...tags('hit', 'info:memory'), ...staleHeaders(Math.floor((ctx.clock.now() - since) / 1000)) }, r.body, acceptEncoding);
    }
    return httpReply(200, { ...named, ...(r.fromMemory ? tags('hit', 'info:memory') : tags('pass', 'method:info')) }, r.body, acceptEncoding);
  } catch (e) {
    // The site's own answer (a fault, an HTTP error) or the unreachable-site fault, as for any other method.
    logger.warn('info not cached', { error: (e as Error).message });
    return (await forward(ctx, req, 'method:info', acceptEncoding)).result;
  }
}

export async function transfer(ctx: ApiContext, event: APIGatewayProxyEventV2, path: string): Promise<APIGatewayProxyStructuredResultV2> {
  const { cache, logger, metrics, upstream, deps } = ctx;
  const method = event.requestContext?.http?.method ?? 'GET';
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) headers[k.toLowerCase()] = v;
  const body = event.body === undefined ? undefined : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  const pathAndQuery = path + (event.rawQueryString ? `?${event.rawQueryString}` : '');
  const t = tags('pass', 'file-transfer');
  try {
    const r = await relayTransfer(
      deps.shotgun.url,
      { method, pathAndQuery, headers, cookies: event.cookies, body },
      {
        maxBodyBytes: Math.floor(MAX_RESULT_BODY_BYTES * 0.75),
        timeoutMs: deps.shotgun.timeoutMs,
      },
    );
    if (r.kind === 'redirect') return { statusCode: 302, headers: { location: r.location, ...t }, body: '' };
    if (method === 'POST' && path.startsWith('/upload/') && r.status === 200 && r.body[0] === 0x31 /* "1": done */)
      await landUpload(ctx, headers['content-type'], body);
    return { statusCode: r.status, headers: { ...r.headers, ...t }, body: r.body.toString('base64'), isBase64Encoded: true };
  } catch (e) {
    logger.warn('file transfer relay failed', { path, error: (e as Error).message });
    metrics.fault('file-transfer');
    return {
      statusCode: 502,
      headers: { 'content-type': 'text/plain; charset=utf-8', ...tags('error', 'file-transfer') },
      body: `fpt-cache: the Shotgun site ${upstream} could not be reached\n`,
    };
  }
}

/**
 * An upload changed an entity's field (a thumbnail, a file link) on the site without an RPC write: the entities the
 * form names are read back into the cache as after an update, and replies kept for their types stop serving, so the
 * uploader's next read sees the change. Never fails the relayed answer (the event-log poll repairs it anyway).
 */
async function landUpload(ctx: ApiContext, contentType: string | undefined, body: Buffer | undefined): Promise<void> {
  const { cache, logger } = ctx;
  const targets = cache ? uploadTargets(contentType, body) : [];
  if (!cache || targets.length === 0) return;
  try {
    if (cache.responses) await bumpGenerations(cache.ddb, cache.tables.state, new Set(targets.map((t) => t.type)));
    const version = await cache.versions.next();
    for (const t of targets) {
      const out = await cache.writeThrough.apply('update', { type: t.type, id: t.id, fields: [] }, { type: t.type, id: t.id }, version);
      logger.info('upload written through', { type: t.type, id: t.id, ...out });
    }
  } catch (e) {
    ctx.metrics.writeThroughFailed();
    logger.error('upload write-through failed (the sync pipeline will repair the cache)', { error: e as Error });
  }
}
