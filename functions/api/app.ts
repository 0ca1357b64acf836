// The API function built from its configuration: parse, decide hit or pass, forward, shape the reply (handler.ts wires it to the environment).
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { ShotgunConfig } from '../../shared/config.js';
import { ErrorCode, ShotgunFault } from '../../shared/faults.js';
import { passThrough } from '../../shared/pass-through.js';
import { decideRoute } from '../../shared/request-routing.js';
import { ShotgunClient } from '../../shared/shotgun-client.js';
import { parseRequest } from './request.js';
import { faultReply, httpReply } from './reply.js';

export interface ApiDeps {
  shotgun: ShotgunConfig;
  logger: Logger;
}

export type ApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/** The handler with its clients created once (per container in AWS, per stack locally). */
export function createApiHandler(deps: ApiDeps): ApiHandler {
  const { logger } = deps;
  const client = new ShotgunClient({
    url: deps.shotgun.url,
    timeoutMs: deps.shotgun.timeoutMs,
    retry: { maxAttempts: deps.shotgun.maxAttempts },
    userAgent: 'fpt-cache',
    onRetry: (r) => logger.warn('retrying the site', { ...r }),
  });

  const statusBody = Buffer.from(JSON.stringify({ ready: true, mode: 'pass-through', upstream: new URL(deps.shotgun.url).origin }));

  async function handle(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
    const acceptEncoding = event.headers?.['accept-encoding'];
    // GET /status (the CDK app's health route). Today everything passes through, which needs nothing but the site;
    // the cached-reads work reports import and poller state here.
    if (event.requestContext?.http?.method === 'GET' && event.rawPath === '/status') return httpReply(200, {}, statusBody, acceptEncoding);
    const started = Date.now();
    let method: string | undefined;
    try {
      const req = parseRequest(event);
      method = req.rpc.method_name;
      const route = decideRoute(req.rpc);
      const tags = { 'x-fpt-cache': route.kind, 'x-fpt-cache-reason': route.reason };
      try {
        const reply = await passThrough(client, { body: req.body, headers: req.headers, method });
        logger.info('passed through', { method, reason: route.reason, status: reply.status, ms: Date.now() - started });
        return httpReply(reply.status, { ...reply.headers, ...tags }, reply.body, acceptEncoding);
      } catch (e) {
        if (e instanceof ShotgunFault) {
          logger.warn('site unavailable', { method, reason: route.reason, fault: e.message, ms: Date.now() - started });
          return faultReply(e, tags, acceptEncoding);
        }
        throw e;
      }
    } catch (e) {
      if (e instanceof ShotgunFault) {
        logger.info('rejected request', { method, errorCode: e.errorCode, fault: e.message });
        return faultReply(e, { 'x-fpt-cache': 'error' }, acceptEncoding);
      }
      logger.error('unexpected error', { method, error: e as Error });
      return faultReply(new ShotgunFault('fpt-cache: internal error', ErrorCode.API), { 'x-fpt-cache': 'error' }, acceptEncoding);
    }
  }

  return middy(handle).use(injectLambdaContext(logger));
}
