// The API function built from its configuration: parse, route, answer from the cache or the site, shape the reply (handler.ts wires it to the environment).
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { requiresHit, refusedPass, routeOf } from '../../shared/reads/index.js';
import { ErrorCode, ShotgunFault, isFileTransferPath } from '../../shared/site/index.js';
import { buildContext, type ApiDeps, type ApiHandler } from './context.js';
import { read } from './read-route.js';
import { schema, schemaWrite } from './schema-route.js';
import { parseRequest } from './request.js';
import { checkBuiltReply, faultReply, tags } from './reply.js';
import { forward, info, transfer, write } from './site-routes.js';
import { status } from './status.js';

export type { ApiDeps, ApiHandler, CacheDeps } from './context.js';
export { apiDepsFromEnv, responseCacheFromEnv, shadowFromEnv } from './env.js';
export { STATUS_KEY_HEADER } from './status.js';

const lowerHeaders = (h: Record<string, string | undefined> | undefined): Record<string, string | undefined> =>
  Object.fromEntries(Object.entries(h ?? {}).map(([k, v]) => [k.toLowerCase(), v]));

/** The handler with its clients created once (per container in AWS, per stack locally). */
export function createApiHandler(deps: ApiDeps): ApiHandler {
  const ctx = buildContext(deps);
  const { logger, metrics, limits } = ctx;

  async function handle(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
    const acceptEncoding = event.headers?.['accept-encoding'];
    const httpMethod = event.requestContext?.http?.method ?? 'POST';
    const path = event.rawPath ?? '/api3/json';
    // GET /status: the cache's readiness (or the pass-through mode). Reveals no data.
    if (httpMethod === 'GET' && path === '/status') return status(ctx, acceptEncoding, lowerHeaders(event.headers));
    if (isFileTransferPath(path)) return transfer(ctx, event, path);
    let method: string | undefined;
    try {
      const req = parseRequest(event, limits);
      method = req.rpc.method_name;
      const route = routeOf(req.rpc);
      let result: APIGatewayProxyStructuredResultV2;
      try {
        if (route.kind === 'read') result = await read(ctx, req, acceptEncoding, requiresHit(req.headers), route.method);
        else if (route.kind === 'info') result = await info(ctx, req, acceptEncoding);
        else if (route.kind === 'schema') result = await schema(ctx, req, route.reason, acceptEncoding, requiresHit(req.headers));
        else if (route.kind === 'schema-write') result = await schemaWrite(ctx, req, route.reason, acceptEncoding);
        else if (route.kind === 'write') result = await write(ctx, req, route.reason, acceptEncoding);
        else if (requiresHit(req.headers)) {
          metrics.fault('require-hit');
          result = faultReply(refusedPass(method, route.reason), tags('error', route.reason), acceptEncoding);
        } else result = (await forward(ctx, req, route.reason, acceptEncoding)).result;
      } catch (e) {
        if (e instanceof ShotgunFault) {
          // The site could not be reached (fault 1003 from shared/site/pass-through.ts).
          logger.warn('site unavailable', { method, fault: e.message });
          metrics.fault('upstream');
          return faultReply(e, tags('pass', route.kind === 'read' ? 'site-unavailable' : `method:${method}`), acceptEncoding);
        }
        throw e;
      }
      const tooBig = checkBuiltReply(result);
      if (tooBig) {
        metrics.fault('reply-too-large');
        return faultReply(tooBig, tags('error', 'reply-too-large'), acceptEncoding);
      }
      return result;
    } catch (e) {
      if (e instanceof ShotgunFault) {
        logger.info('rejected request', { method, errorCode: e.errorCode, fault: e.message });
        metrics.fault('bad-request');
        return faultReply(e, { 'x-fpt-cache': 'error' }, acceptEncoding);
      }
      logger.error('unexpected error', { method, error: e as Error });
      metrics.fault('internal');
      return faultReply(new ShotgunFault('fpt-cache: internal error', ErrorCode.API), { 'x-fpt-cache': 'error' }, acceptEncoding);
    } finally {
      metrics.flush();
    }
  }

  return middy(handle).use(injectLambdaContext(logger));
}
