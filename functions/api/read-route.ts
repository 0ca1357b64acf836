// Reads: answered from the cache (and sampled for shadow checks), from the response cache, or passed through with the reason.
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import {
  credentialOf,
  isCacheableReason,
  principalOf,
  refusedPass,
  requestTypes,
  responseKey,
  type CachedMethod,
  type CachedReadOutcome,
} from '../../shared/reads/index.js';
import { sampled, shadowSample } from '../../shared/shadow/index.js';
import type { VolatileRef } from '../../shared/query/index.js';
import type { RawReply } from '../../shared/site/index.js';
import type { ApiContext } from './context.js';
import type { ParsedRequest } from './request.js';
import { checkReadReplySize, faultReply, httpReply, isResultsBody, tags } from './reply.js';
import { forward } from './site-routes.js';
import { isOutageStatus, outageMode, staleHeaders } from './outage.js';
import { ErrorCode, ShotgunFault } from '../../shared/site/index.js';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export async function read(
  ctx: ApiContext,
  req: ParsedRequest,
  acceptEncoding: string | undefined,
  requireHit: boolean,
  method: CachedMethod,
): Promise<APIGatewayProxyStructuredResultV2> {
  const [auth, params] = req.rpc.params;
  const outcome = ctx.cache ? await ctx.cache.reads.answer(auth, params, method) : { kind: 'pass' as const, reason: 'read-engine-not-ready' };
  // The site known down: what the cache can answer for a caller verified before is served, marked stale.
  if (outcome.kind === 'pass') {
    const stale = await outageAnswer(ctx, req, acceptEncoding, method, false);
    if (stale) return stale;
  }
  // Entities read with signed URLs (or placeholders) are recorded for the reconciler meanwhile (awaited before returning: Lambda freezes after).
  const recorded = (outcome.kind === 'pass' || outcome.kind === 'hit') && outcome.volatile ? recordVolatile(ctx, outcome.volatile) : undefined;
  try {
    const result = await respond(ctx, req, outcome, acceptEncoding, requireHit, method);
    // A hit while the site is known down is still within the freshness bound; it is marked all the same.
    if (outcome.kind !== 'pass' && ctx.client.health?.isUp() === false) {
      const mode = await outageMode(ctx);
      if (mode) return { ...result, headers: { ...result.headers, ...staleHeaders(mode.ageS) } };
    }
    // The pass found the site down (its 502/503/504): outage mode may answer instead of relaying it.
    if (outcome.kind === 'pass' && isOutageStatus(result.statusCode)) return (await outageAnswer(ctx, req, acceptEncoding, method, true)) ?? result;
    return result;
  } catch (e) {
    if (outcome.kind === 'pass' && e instanceof ShotgunFault && e.errorCode === ErrorCode.UPSTREAM_UNAVAILABLE) {
      const stale = await outageAnswer(ctx, req, acceptEncoding, method, true);
      if (stale) return stale;
    }
    throw e;
  } finally {
    await recorded;
  }
}

/** The read answered in outage mode (marked stale, not shadow-checked: the site cannot be asked), or undefined. */
async function outageAnswer(
  ctx: ApiContext,
  req: ParsedRequest,
  acceptEncoding: string | undefined,
  method: CachedMethod,
  siteFailed: boolean,
): Promise<APIGatewayProxyStructuredResultV2 | undefined> {
  const mode = ctx.cache && (await outageMode(ctx, siteFailed));
  if (!mode) return undefined;
  const [auth, params] = req.rpc.params;
  const outcome = await ctx.cache!.reads.answer(auth, params, method, { outage: { after: mode.after } });
  if (outcome.kind !== 'hit' && outcome.kind !== 'memo') return undefined;
  const result = await respond(ctx, req, outcome.kind === 'hit' ? { ...outcome, unshadowed: true } : outcome, acceptEncoding, false, method, false);
  ctx.metrics.outageHit?.();
  ctx.logger.info('served during a site outage', { method, lastPollSecondsAgo: mode.ageS });
  return { ...result, headers: { ...result.headers, ...staleHeaders(mode.ageS) } };
}

async function respond(
  ctx: ApiContext,
  req: ParsedRequest,
  outcome: CachedReadOutcome,
  acceptEncoding: string | undefined,
  requireHit: boolean,
  method: CachedMethod,
  shadow = true,
): Promise<APIGatewayProxyStructuredResultV2> {
  const { cache, logger, metrics } = ctx;
  const params = req.rpc.params[1];
  if (outcome.kind === 'denied') {
    logger.info('credentials rejected by the site', { errorCode: outcome.fault.errorCode });
    return faultReply(outcome.fault, tags('error', 'auth-rejected'), acceptEncoding);
  }
  if (outcome.kind === 'pass') {
    // Runs while the site answers: the type's field names, when they could make such reads servable.
    const learning = cache?.learner.afterPass(outcome.reason, params);
    try {
      return await passRead(ctx, req, outcome.reason, acceptEncoding, requireHit, method);
    } finally {
      await learning;
    }
  }
  if (outcome.kind === 'memo') {
    metrics.hit();
    metrics.memoHit?.();
    const reply = httpReply(200, tags('hit', `memo;access:${outcome.access}`), outcome.body, acceptEncoding, outcome.gzipped);
    if (shadow) await shadowCheck(ctx, req, method, () => (JSON.parse(outcome.body.toString('utf8')) as { results: unknown }).results, outcome.access);
    return reply;
  }
  const reason = `access:${outcome.access}`;
  const tooBig = 'entities' in outcome.result ? checkReadReplySize(outcome.result, acceptEncoding) : undefined;
  if (tooBig) {
    metrics.fault('reply-too-large');
    return faultReply(tooBig, tags('error', 'reply-too-large'), acceptEncoding);
  }
  metrics.hit();
  const body = Buffer.from(JSON.stringify({ results: outcome.result }), 'utf8');
  outcome.keep?.(body);
  const reply = httpReply(200, tags('hit', reason), body, acceptEncoding);
  // The verifier replays as the cache's script: a hit in a restricted view (the caller's, not the script's) cannot be checked that way.
  if (outcome.view !== 'restricted' && !outcome.unshadowed) await shadowCheck(ctx, req, method, outcome.result, outcome.access);
  return reply;
}

/** A read the cache does not answer: from the response cache when it may, else the site's reply (refused under `require: hit`). */
async function passRead(
  ctx: ApiContext,
  req: ParsedRequest,
  reason: string,
  acceptEncoding: string | undefined,
  requireHit: boolean,
  method: CachedMethod,
): Promise<APIGatewayProxyStructuredResultV2> {
  const { cache, metrics } = ctx;
  if (cache?.responses && isCacheableReason(reason)) {
    const answered = await fromResponseCache(ctx, req, reason, acceptEncoding, requireHit, method);
    if (answered) return answered;
  }
  metrics.pass(reason);
  if (requireHit) {
    metrics.fault('require-hit');
    return faultReply(refusedPass(method, reason), tags('error', reason), acceptEncoding);
  }
  const passed = await forward(ctx, req, reason, acceptEncoding);
  if (method === 'read') await observe(ctx, req, passed.reply);
  return passed.result;
}

/** Entities read with signed URLs (or placeholders): recorded for the reconciler to renew (a failure is logged, never the client's problem). */
async function recordVolatile(ctx: ApiContext, refs: VolatileRef[]): Promise<void> {
  await ctx.cache?.recent.record(refs).catch((e) => ctx.logger.warn('volatile reads not recorded', { error: (e as Error).message }));
}

/** The caller's own pass-through reply as evidence against its verified view (shared/reads/principal-views.ts). */
async function observe(ctx: ApiContext, req: ParsedRequest, reply: RawReply): Promise<void> {
  const [auth, params] = req.rpc.params;
  const cred = credentialOf(auth);
  const type = isObj(params) ? params.type : undefined;
  if (!ctx.cache || !cred || typeof type !== 'string' || !isResultsBody(reply)) return;
  const entities = () => (JSON.parse(reply.body.toString('utf8')) as { results?: { entities?: unknown } }).results?.entities;
  await ctx.cache.views.evidence(cred, type, entities).catch((e) => ctx.logger.warn('permission evidence not checked', { error: (e as Error).message }));
}

/**
 * Sends a sampled hit to the verifier once its reply is built. Lambda freezes the sandbox when the handler returns,
 * so the message is sent before returning (only sampled requests pay the one SQS call); a failure is logged, never
 * the client's problem.
 */
export async function shadowCheck(ctx: ApiContext, req: ParsedRequest, method: CachedMethod, result: unknown | (() => unknown), access: string): Promise<void> {
  const { cache, logger } = ctx;
  const shadow = cache?.shadow;
  const [auth, params] = req.rpc.params;
  if (!shadow || !isObj(params) || !sampled(shadow.rate, shadow.random)) return;
  const cred = credentialOf(auth);
  try {
    await shadow.sink.submit(
      shadowSample(
        method,
        params,
        typeof result === 'function' ? (result as () => unknown)() : result,
        access,
        ctx.clock.now(),
        cred ? principalOf(cred) : undefined,
      ),
    );
  } catch (e) {
    logger.warn('shadow sample not sent', { error: (e as Error).message });
  }
}

/**
 * A pass the response cache may answer: the stored reply when every generation it read is unchanged (after the
 * caller's credentials are verified, as for cached reads), else the site's reply, kept for the next time.
 * Undefined: not for the response cache (no credential, an uncacheable read, the cache failing): the normal pass.
 */
export async function fromResponseCache(
  ctx: ApiContext,
  req: ParsedRequest,
  reason: string,
  acceptEncoding: string | undefined,
  requireHit: boolean,
  method: CachedMethod,
): Promise<APIGatewayProxyStructuredResultV2 | undefined> {
  const { cache, logger, metrics } = ctx;
  const responses = cache!.responses!;
  const [auth, params] = req.rpc.params;
  const cred = credentialOf(auth);
  const types = requestTypes(params);
  if (!cred || !types) return undefined;
  let found;
  try {
    // Bound to the caller's verified views of the types read (and the permission epoch): a reply kept under them dies with them.
    const binding = await cache!.views.binding(cred, types);
    if (binding === undefined) return undefined;
    found = await responses.lookup(responseKey(method, params, `${await cache!.auth.identity(cred)}#${binding}`), types);
  } catch (e) {
    logger.warn('response cache unavailable', { error: (e as Error).message });
    return undefined;
  }
  if (found.kind === 'hit') return keptReply(ctx, req, found.body, 'response-cache', acceptEncoding);
  metrics.pass(reason);
  if (requireHit) {
    metrics.fault('require-hit');
    return faultReply(refusedPass(method, reason), tags('error', reason), acceptEncoding);
  }
  const { reply, result } = await forward(ctx, req, reason, acceptEncoding);
  if (isResultsBody(reply)) {
    await responses.store(found, reply.body).catch((e) => logger.warn('response not kept', { error: (e as Error).message }));
  }
  return result;
}

/**
 * A reply kept for this caller (the response cache, schema replies): served once the caller's credentials are
 * verified, as for cached reads; the site's fault when it rejects them; undefined when they cannot be verified now.
 */
export async function keptReply(
  ctx: ApiContext,
  req: ParsedRequest,
  body: Buffer,
  reason: string,
  acceptEncoding: string | undefined,
): Promise<APIGatewayProxyStructuredResultV2 | undefined> {
  const auth = req.rpc.params[0];
  const cred = credentialOf(auth);
  if (!ctx.cache || !cred) return undefined;
  const verdict = await ctx.cache.auth.verify(cred);
  if (verdict.status === 'invalid') return faultReply(verdict.fault, tags('error', 'auth-rejected'), acceptEncoding);
  if (verdict.status !== 'valid') return undefined;
  ctx.metrics.hit();
  ctx.metrics.responseCacheHit?.();
  return httpReply(200, tags('hit', reason), body, acceptEncoding);
}
