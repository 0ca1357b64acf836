// Schema methods: the site's own reply kept per caller (shared/reads/schema-replies.ts), served once the caller's credentials are verified; else passed through with the reason.
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { bumpGenerations, credentialOf, refusedPass } from '../../shared/reads/index.js';
import { SCHEMA_GENERATION } from '../../shared/store/index.js';
import type { ApiContext } from './context.js';
import type { ParsedRequest } from './request.js';
import { faultReply, isResultsBody, tags } from './reply.js';
import { forward } from './site-routes.js';
import { keptReply } from './read-route.js';

/** Pass reasons: `schema-miss` (not kept, or the schema changed since: kept now), `schema-too-large`, `no-credentials`, `cache-error`, `auth-unverified`. */
export async function schema(
  ctx: ApiContext,
  req: ParsedRequest,
  passReason: string,
  acceptEncoding: string | undefined,
  requireHit: boolean,
): Promise<APIGatewayProxyStructuredResultV2> {
  const { cache, logger, metrics } = ctx;
  const method = req.rpc.method_name;
  const [auth, params] = req.rpc.params;
  const cred = credentialOf(auth);
  const replies = cache?.schemaReplies;
  const pass = async (reason: string) => {
    metrics.pass(reason);
    if (!requireHit) return (await forward(ctx, req, reason, acceptEncoding)).result;
    metrics.fault('require-hit');
    return faultReply(refusedPass(method, reason), tags('error', reason), acceptEncoding);
  };
  if (!replies) return pass(passReason);
  if (!cred) return pass('no-credentials');
  let found;
  try {
    found = await replies.lookup(method, params, cred);
  } catch (e) {
    logger.warn('schema replies unavailable', { error: (e as Error).message });
    return pass('cache-error');
  }
  if (found.kind === 'hit') return (await keptReply(ctx, req, found.body, 'schema-reply', acceptEncoding)) ?? pass('auth-unverified');
  if (requireHit) return pass('schema-miss');
  const { reply, result } = await forward(ctx, req, 'schema-miss', acceptEncoding);
  const kept =
    !isResultsBody(reply) ||
    (await replies.keep(found, reply.body).catch((e) => {
      logger.warn('schema reply not kept', { error: (e as Error).message });
      return true;
    }));
  const reason = kept ? 'schema-miss' : 'schema-too-large';
  metrics.pass(reason);
  return kept ? result : { ...result, headers: { ...result.headers, ...tags('pass', reason) } };
}

/** A schema write: the site's answer; once it succeeded, `*schema` is bumped before the client sees it (kept schema replies and field names no longer serve). */
export async function schemaWrite(
  ctx: ApiContext,
  req: ParsedRequest,
  reason: string,
  acceptEncoding: string | undefined,
): Promise<APIGatewayProxyStructuredResultV2> {
  const { cache, logger } = ctx;
  const { reply, result } = await forward(ctx, req, reason, acceptEncoding);
  if (cache && isResultsBody(reply)) {
    await bumpGenerations(cache.ddb, cache.tables.state, [SCHEMA_GENERATION]).catch((e) =>
      logger.error('schema generation not bumped after a schema write', { method: req.rpc.method_name, error: e as Error }),
    );
  }
  return result;
}
