// The API function built from its configuration: parse, answer from the cache or the site, write through, shape the reply (handler.ts wires it to the environment).
import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { parseAccessRules, type AccessRules } from '../../shared/reads/index.js';
import { MemoryApiMetrics, type ApiMetrics } from '../../shared/reads/index.js';
import { cacheStatus } from '../../shared/reads/index.js';
import { CachedReads, type CachedMethod } from '../../shared/reads/index.js';
import { loadCachedSchema, schemaFileFromEnv, type CachedSchema } from '../../shared/schema/index.js';
import { CallerAuth, credentialOf, principalOf, PrincipalViews, parseTrustedPrincipals, storeLinkProjects } from '../../shared/reads/index.js';
import {
  ConfigError, apiConfigFromEnv, awsClientConfig, shotgunConfigFromEnv, storeConfigFromEnv, type ApiConfig, type ShotgunConfig,
} from '../../shared/config.js';
import { EntityStore } from '../../shared/store/index.js';
import { ErrorCode, ShotgunFault } from '../../shared/site/index.js';
import { isFileTransferPath, relayTransfer } from '../../shared/site/index.js';
import { passThrough } from '../../shared/site/index.js';
import { MAX_SCAN_ENTITIES, ReadEngine } from '../../shared/query/index.js';
import { ReadinessStore } from '../../shared/store/index.js';
import { refusedPass, requiresHit, routeOf } from '../../shared/reads/index.js';
import { DEFAULT_RESPONSE_CACHE_TTL_S, ResponseCache, bumpGenerations, isCacheableReason, requestTypes, responseKey, typesNamedIn } from '../../shared/reads/index.js';
import { sampled, shadowSample } from '../../shared/shadow/index.js';
import { ShadowLedger } from '../../shared/shadow/index.js';
import { SqsShadowSink, shadowRateFromEnv, type ShadowSink } from '../../shared/shadow/index.js';
import { ShotgunClient, type RawReply } from '../../shared/site/index.js';
import { getScriptKey } from '../../shared/site/index.js';
import { SiteInfo } from '../../shared/site/index.js';
import type { TableNames } from '../../shared/store/index.js';
import { FPT_CACHE_VERSION } from '../../shared/version.js';
import { CursorWriteVersions, WriteThrough, type WriteVersionSource } from '../../shared/reads/index.js';
import { DEFAULT_REQUEST_LIMITS, parseRequest, type ParsedRequest } from './request.js';
import { MAX_RESULT_BODY_BYTES, checkBuiltReply, checkReadReplySize, faultReply, httpReply } from './reply.js';

type Env = Record<string, string | undefined>;

/** The cache side: without it the API passes everything through (reads with reason `read-engine-not-ready`). */
export interface CacheDeps {
  schema: CachedSchema;
  ddb: DynamoDBClient;
  tables: TableNames;
  /** The cache's own script credentials: write-through read-backs, and the HMAC key of auth verdicts. */
  scriptAuth: () => Promise<{ script_name: string; script_key: string } | undefined>;
  accessRules: AccessRules;
  /** Principals served the script's view without probes (TRUSTED_PRINCIPALS; the cache's own script always is). */
  trustedPrincipals?: string[];
  /** Write-through versions (default: from the event-log cursor in the state table). */
  versions?: WriteVersionSource;
  /** The response cache of unplannable reads (shared/reads/response-cache.ts): on unless `enabled: false` (RESPONSE_CACHE=off). */
  responseCache?: { enabled?: boolean; ttlS?: number; maxStoredBytes?: number };
  /** Shadow verification (shared/shadow/shadow-check.ts): this share of hits goes to the verifier through `sink`. */
  shadow?: { rate: number; sink: ShadowSink; random?: () => number };
}

export interface ApiDeps {
  shotgun: ShotgunConfig;
  logger: Logger;
  metrics?: ApiMetrics;
  api?: Partial<ApiConfig>;
  cache?: CacheDeps;
}

export type ApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

const API_DEFAULTS: ApiConfig = {
  authCacheMs: 300_000, readinessCacheMs: 5_000, infoCacheMs: 300_000,
  permissionViewTtlMs: 600_000, maxRequestBytes: DEFAULT_REQUEST_LIMITS.maxBytes, maxJsonDepth: DEFAULT_REQUEST_LIMITS.maxDepth, maxScanEntities: MAX_SCAN_ENTITIES,
};

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reply headers naming how a request was answered. */
const tags = (kind: 'hit' | 'pass' | 'error', reason: string): Record<string, string> => ({ 'x-fpt-cache': kind, 'x-fpt-cache-reason': reason });

/** A site reply whose body is a result envelope (not a fault): the credentials it carried were accepted. */
function isResultsBody(r: RawReply): boolean {
  if (r.status !== 200) return false;
  const head = r.body.subarray(0, 32).toString('utf8').replace(/\s+/g, '');
  return head.startsWith('{"results":');
}

/** The handler with its clients created once (per container in AWS, per stack locally). */
export function createApiHandler(deps: ApiDeps): ApiHandler {
  const { logger } = deps;
  const cfg: ApiConfig = { ...API_DEFAULTS, ...deps.api };
  const metrics = deps.metrics ?? new MemoryApiMetrics();
  const limits = { maxBytes: cfg.maxRequestBytes, maxDepth: cfg.maxJsonDepth };
  const upstream = new URL(deps.shotgun.url).origin;
  const client = new ShotgunClient({
    url: deps.shotgun.url,
    timeoutMs: deps.shotgun.timeoutMs,
    retry: { maxAttempts: deps.shotgun.maxAttempts },
    userAgent: 'fpt-cache',
    onRetry: (r) => logger.warn('retrying the site', { ...r }),
  });
  const log = (level: 'warn' | 'error') => (message: string, details?: Record<string, unknown>) => logger[level](message, { ...details });
  const siteInfo = new SiteInfo(client, cfg.infoCacheMs, FPT_CACHE_VERSION);

  const cache = deps.cache && (() => {
    const c = deps.cache;
    const readiness = new ReadinessStore(c.ddb, c.tables, c.schema).snapshots(cfg.readinessCacheMs);
    const store = new EntityStore(c.ddb, c.tables, c.schema);
    const auth = new CallerAuth({
      client, ttlMs: cfg.authCacheMs, table: { ddb: c.ddb, name: c.tables.state }, log: log('warn'),
      hmacKey: async () => (await c.scriptAuth())?.script_key,
    });
    const ledger = new ShadowLedger(c.ddb, c.tables.state);
    const views = new PrincipalViews({
      client, schema: c.schema, scriptAuth: c.scriptAuth, identity: (cred) => auth.identity(cred), trusted: c.trustedPrincipals,
      ttlMs: cfg.permissionViewTtlMs, table: { ddb: c.ddb, name: c.tables.state }, log: log('warn'), onEvent: (e) => metrics.permission?.(e, 1),
    });
    const reads = new CachedReads({
      schema: c.schema, readiness, auth, rules: c.accessRules, log: log('error'), quarantine: ledger.quarantine(cfg.readinessCacheMs),
      views, linkProjects: storeLinkProjects(store),
      engine: new ReadEngine(store, c.schema, { readiness, maxScanEntities: cfg.maxScanEntities }),
    });
    const writeThrough = new WriteThrough({
      schema: c.schema, store, log: log('warn'),
      site: {
        async read(params) {
          const script = await c.scriptAuth();
          if (!script) throw new Error('no script credentials (SHOTGUN_SCRIPT_NAME) to read the written entities back');
          return (await client.call<{ entities?: Array<Record<string, unknown>> }>('read', params, { auth: script, idempotent: true }))?.entities ?? [];
        },
      },
    });
    const versions = c.versions ?? new CursorWriteVersions(c.ddb, DynamoDBDocumentClient.from(c.ddb), c.tables.state);
    const responses = c.responseCache?.enabled === false ? undefined
      : new ResponseCache({ ddb: c.ddb, table: c.tables.state, ttlS: c.responseCache?.ttlS, maxStoredBytes: c.responseCache?.maxStoredBytes });
    return { ...c, readiness, auth, views, reads, writeThrough, versions, responses, ledger };
  })();

  const passThroughStatus = Buffer.from(JSON.stringify({ ready: true, mode: 'pass-through', upstream }));

  async function status(acceptEncoding: string | undefined): Promise<APIGatewayProxyStructuredResultV2> {
    if (!cache) return httpReply(200, {}, passThroughStatus, acceptEncoding);
    let body: unknown;
    try {
      const [ready, shadow] = await Promise.all([cache.readiness(), cache.ledger.report()]);
      body = cacheStatus(cache.schema, ready, { version: FPT_CACHE_VERSION, upstream, shadow, permissions: cache.views.report() });
    } catch (e) {
      logger.error('readiness unavailable', { error: e as Error });
      body = { ready: false, mode: 'cache', version: FPT_CACHE_VERSION, upstream, error: 'readiness unavailable (state table)' };
    }
    return httpReply(200, {}, Buffer.from(JSON.stringify(body)), acceptEncoding);
  }

  async function transfer(event: APIGatewayProxyEventV2, path: string): Promise<APIGatewayProxyStructuredResultV2> {
    const method = event.requestContext?.http?.method ?? 'GET';
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(event.headers ?? {})) headers[k.toLowerCase()] = v;
    const body = event.body === undefined ? undefined : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
    const pathAndQuery = path + (event.rawQueryString ? `?${event.rawQueryString}` : '');
    const t = tags('pass', 'file-transfer');
    try {
      const r = await relayTransfer(deps.shotgun.url, { method, pathAndQuery, headers, cookies: event.cookies, body }, {
        maxBodyBytes: Math.floor(MAX_RESULT_BODY_BYTES * 0.75), timeoutMs: deps.shotgun.timeoutMs,
      });
      if (r.kind === 'redirect') return { statusCode: 302, headers: { location: r.location, ...t }, body: '' };
      return { statusCode: r.status, headers: { ...r.headers, ...t }, body: r.body.toString('base64'), isBase64Encoded: true };
    } catch (e) {
      logger.warn('file transfer relay failed', { path, error: (e as Error).message });
      metrics.fault('file-transfer');
      return { statusCode: 502, headers: { 'content-type': 'text/plain; charset=utf-8', ...tags('error', 'file-transfer') }, body: `fpt-cache: the Shotgun site ${upstream} could not be reached\n` };
    }
  }

  /** Sends the request to the site unchanged; a successful reply also teaches the auth cache its credentials. */
  async function forward(req: ParsedRequest, reason: string, acceptEncoding: string | undefined, extra: Record<string, string> = {}): Promise<{ reply: RawReply; result: APIGatewayProxyStructuredResultV2 }> {
    const method = req.rpc.method_name;
    const reply = await passThrough(client, { body: req.body, headers: req.headers, method });
    if (cache && req.rpc.params.length > 0 && isResultsBody(reply)) {
      await cache.auth.learn(req.rpc.params[0]).catch((e) => logger.warn('auth verdict not recorded', { error: (e as Error).message }));
    }
    logger.info('passed through', { method, reason, status: reply.status });
    return { reply, result: httpReply(reply.status, { ...reply.headers, ...tags('pass', reason), ...extra }, reply.body, acceptEncoding) };
  }

  async function write(req: ParsedRequest, reason: string, acceptEncoding: string | undefined): Promise<APIGatewayProxyStructuredResultV2> {
    if (!cache) return (await forward(req, reason, acceptEncoding)).result;
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
        for (const r of (params as { requests?: unknown })?.requests as Array<{ entity_type?: unknown }> | undefined ?? []) {
          if (typeof r?.entity_type === 'string') types.add(r.entity_type);
        }
        await bumpGenerations(cache.ddb, cache.tables.state, types)
          .catch((e) => logger.error('response-cache generations not bumped', { method, error: e as Error }));
      }
      state = 'failed';
      try {
        const results = (JSON.parse(reply.body.toString('utf8')) as { results: unknown }).results;
        await cache.auth.learn(req.rpc.params[0]).catch(() => {});
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
    return httpReply(reply.status, { ...reply.headers, ...tags('pass', reason), 'x-fpt-cache-write-through': state }, reply.body, acceptEncoding);
  }

  async function read(req: ParsedRequest, acceptEncoding: string | undefined, requireHit: boolean, method: CachedMethod): Promise<APIGatewayProxyStructuredResultV2> {
    const [auth, params] = req.rpc.params;
    const outcome = cache ? await cache.reads.answer(auth, params, method) : { kind: 'pass' as const, reason: 'read-engine-not-ready' };
    if (outcome.kind === 'denied') {
      logger.info('credentials rejected by the site', { errorCode: outcome.fault.errorCode });
      return faultReply(outcome.fault, tags('error', 'auth-rejected'), acceptEncoding);
    }
    if (outcome.kind === 'pass' && cache?.responses && isCacheableReason(outcome.reason)) {
      const answered = await fromResponseCache(req, outcome.reason, acceptEncoding, requireHit, method);
      if (answered) return answered;
    }
    if (outcome.kind === 'pass') {
      metrics.pass(outcome.reason);
      if (requireHit) {
        metrics.fault('require-hit');
        return faultReply(refusedPass(method, outcome.reason), tags('error', outcome.reason), acceptEncoding);
      }
      const passed = await forward(req, outcome.reason, acceptEncoding);
      if (cache && method === 'read') await observe(req, passed.reply);
      return passed.result;
    }
    const reason = `access:${outcome.access}`;
    const tooBig = 'entities' in outcome.result ? checkReadReplySize(outcome.result, acceptEncoding) : undefined;
    if (tooBig) {
      metrics.fault('reply-too-large');
      return faultReply(tooBig, tags('error', 'reply-too-large'), acceptEncoding);
    }
    metrics.hit();
    const reply = httpReply(200, tags('hit', reason), Buffer.from(JSON.stringify({ results: outcome.result }), 'utf8'), acceptEncoding);
    // The verifier replays as the cache's script: a hit in a restricted view (the caller's, not the script's) cannot be checked that way.
    if (outcome.view !== 'restricted') await shadowCheck(req, method, outcome.result, outcome.access);
    return reply;
  }

  /** The caller's own pass-through reply as evidence against its verified view (shared/reads/principal-views.ts). */
  async function observe(req: ParsedRequest, reply: RawReply): Promise<void> {
    const [auth, params] = req.rpc.params;
    const cred = credentialOf(auth);
    const type = isObj(params) ? params.type : undefined;
    if (!cred || typeof type !== 'string' || !isResultsBody(reply)) return;
    const entities = () => (JSON.parse(reply.body.toString('utf8')) as { results?: { entities?: unknown } }).results?.entities;
    await cache!.views.evidence(cred, type, entities).catch((e) => logger.warn('permission evidence not checked', { error: (e as Error).message }));
  }

  /**
   * Sends a sampled hit to the verifier once its reply is built. Lambda freezes the sandbox when the handler returns,
   * so the message is sent before returning (only sampled requests pay the one SQS call); a failure is logged, never
   * the client's problem.
   */
  async function shadowCheck(req: ParsedRequest, method: CachedMethod, result: unknown, access: string): Promise<void> {
    const shadow = cache?.shadow;
    const [auth, params] = req.rpc.params;
    if (!shadow || !isObj(params) || !sampled(shadow.rate, shadow.random)) return;
    const cred = credentialOf(auth);
    try {
      await shadow.sink.submit(shadowSample(method, params, result, access, Date.now(), cred ? principalOf(cred) : undefined));
    } catch (e) {
      logger.warn('shadow sample not sent', { error: (e as Error).message });
    }
  }

  /**
   * A pass the response cache may answer: the stored reply when every generation it read is unchanged (after the
   * caller's credentials are verified, as for cached reads), else the site's reply, kept for the next time.
   * Undefined: not for the response cache (no credential, an uncacheable read, the cache failing): the normal pass.
   */
  async function fromResponseCache(req: ParsedRequest, reason: string, acceptEncoding: string | undefined, requireHit: boolean, method: CachedMethod): Promise<APIGatewayProxyStructuredResultV2 | undefined> {
    const responses = cache!.responses!;
    const [auth, params] = req.rpc.params;
    const cred = credentialOf(auth);
    const types = requestTypes(params);
    if (!cred || !types) return undefined;
    let found;
    try {
      found = await responses.lookup(responseKey(method, params, await cache!.auth.identity(cred)), types);
    } catch (e) {
      logger.warn('response cache unavailable', { error: (e as Error).message });
      return undefined;
    }
    if (found.kind === 'hit') {
      const verdict = await cache!.auth.verify(auth, cred);
      if (verdict.status === 'invalid') return faultReply(verdict.fault, tags('error', 'auth-rejected'), acceptEncoding);
      if (verdict.status === 'valid') {
        metrics.hit();
        metrics.responseCacheHit?.();
        return httpReply(200, tags('hit', 'response-cache'), found.body, acceptEncoding);
      }
      return undefined;
    }
    metrics.pass(reason);
    if (requireHit) {
      metrics.fault('require-hit');
      return faultReply(refusedPass(method, reason), tags('error', reason), acceptEncoding);
    }
    const { reply, result } = await forward(req, reason, acceptEncoding);
    if (isResultsBody(reply)) {
      await responses.store(found, reply.body).catch((e) => logger.warn('response not kept', { error: (e as Error).message }));
    }
    return result;
  }

  async function info(req: ParsedRequest, acceptEncoding: string | undefined): Promise<APIGatewayProxyStructuredResultV2> {
    try {
      const r = await siteInfo.reply();
      return httpReply(200, r.fromMemory ? tags('hit', 'info:memory') : tags('pass', 'method:info'), r.body, acceptEncoding);
    } catch (e) {
      // The site's own answer (a fault, an HTTP error) or the unreachable-site fault, as for any other method.
      logger.warn('info not cached', { error: (e as Error).message });
      return (await forward(req, 'method:info', acceptEncoding)).result;
    }
  }

  async function handle(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
    const acceptEncoding = event.headers?.['accept-encoding'];
    const httpMethod = event.requestContext?.http?.method ?? 'POST';
    const path = event.rawPath ?? '/api3/json';
    // GET /status: the cache's readiness (or the pass-through mode). Reveals no data.
    if (httpMethod === 'GET' && path === '/status') return status(acceptEncoding);
    if (isFileTransferPath(path)) return transfer(event, path);
    let method: string | undefined;
    try {
      const req = parseRequest(event, limits);
      method = req.rpc.method_name;
      const route = routeOf(req.rpc);
      let result: APIGatewayProxyStructuredResultV2;
      try {
        if (route.kind === 'read') result = await read(req, acceptEncoding, requiresHit(req.headers), route.method);
        else if (route.kind === 'info') result = await info(req, acceptEncoding);
        else if (route.kind === 'write') result = await write(req, route.reason, acceptEncoding);
        else if (requiresHit(req.headers)) {
          metrics.fault('require-hit');
          result = faultReply(refusedPass(method, route.reason), tags('error', route.reason), acceptEncoding);
        } else result = (await forward(req, route.reason, acceptEncoding)).result;
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

/**
 * Dependencies from a function's environment: the site (SHOTGUN_URL, SHOTGUN_SCRIPT_NAME, the key from
 * SHOTGUN_SCRIPT_KEY_SECRET_ARN or SHOTGUN_SCRIPT_KEY), the tables (ENTITIES_TABLE, STATE_TABLE, REFS_TABLE; the first two unset: pass-through
 * only), SCHEMA, and the API's own settings (shared/config.ts apiConfigFromEnv).
 */
export function apiDepsFromEnv(env: Env, logger: Logger, metrics?: ApiMetrics): ApiDeps {
  const shotgun = shotgunConfigFromEnv(env);
  const api = apiConfigFromEnv(env);
  if (!env.ENTITIES_TABLE?.trim() && !env.STATE_TABLE?.trim()) return { shotgun, logger, metrics, api };
  const tables = storeConfigFromEnv(env);
  let accessRules: AccessRules;
  let trustedPrincipals: string[];
  try {
    accessRules = parseAccessRules(api.accessRules);
    trustedPrincipals = parseTrustedPrincipals(api.trustedPrincipals);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  const scriptName = shotgun.scriptName;
  const scriptAuth = async () => (scriptName ? { script_name: scriptName, script_key: await getScriptKey({ env }) } : undefined);
  return {
    shotgun, logger, metrics, api,
    cache: {
      schema: loadCachedSchema(schemaFileFromEnv(env as NodeJS.ProcessEnv)),
      ddb: new DynamoDBClient(awsClientConfig(env, 'DYNAMODB')),
      tables: { entities: tables.entitiesTable, state: tables.stateTable, refs: tables.refsTable },
      scriptAuth,
      accessRules,
      trustedPrincipals,
      responseCache: responseCacheFromEnv(env),
      shadow: shadowFromEnv(env),
    },
  };
}

/** SHADOW_QUEUE_URL (unset: no shadow checks) and SHADOW_SAMPLE_RATE (0..1, default 0.01). */
export function shadowFromEnv(env: Env): CacheDeps['shadow'] {
  const queueUrl = env.SHADOW_QUEUE_URL?.trim();
  if (!queueUrl) return undefined;
  const rate = shadowRateFromEnv(env);
  return rate > 0 ? { rate, sink: new SqsShadowSink(new SQSClient(awsClientConfig(env, 'SQS')), queueUrl) } : undefined;
}

/** RESPONSE_CACHE (`off` disables it) and RESPONSE_CACHE_TTL_S (seconds, default 600). */
export function responseCacheFromEnv(env: Env): { enabled: boolean; ttlS: number } {
  const enabled = (env.RESPONSE_CACHE ?? '').trim().toLowerCase() !== 'off';
  const raw = env.RESPONSE_CACHE_TTL_S?.trim();
  const ttlS = raw ? Number(raw) : DEFAULT_RESPONSE_CACHE_TTL_S;
  if (!Number.isInteger(ttlS) || ttlS <= 0) throw new ConfigError(`RESPONSE_CACHE_TTL_S must be a positive number of seconds, not "${raw}"`);
  return { enabled, ttlS };
}
