// What the API's routes share: the site client, logger, metrics, limits, and the cache side built once per container.
import type { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { systemClock, type Clock } from '../../shared/clock.js';
import type { ApiConfig, ShotgunConfig } from '../../shared/config.js';
import { MAX_SCAN_ENTITIES, ReadEngine } from '../../shared/query/index.js';
import {
  CachedReads,
  CallerAuth,
  DEFAULT_STORE_MAX_LAG_MS,
  StoreFreshness,
  EventLogReads,
  PermissionEpoch,
  EventLogViews,
  SignatureRenewal,
  CursorWriteVersions,
  memoBudgetBytes,
  MemoryApiMetrics,
  ReplyMemo,
  type CounterGranularity,
  PrincipalViews,
  ResponseCache,
  SchemaReplies,
  SiteFieldLearner,
  WriteThrough,
  storeLinkProjects,
  type AccessRules,
  type ApiMetrics,
  type WriteVersionSource,
} from '../../shared/reads/index.js';
import type { CachedSchema } from '../../shared/schema/index.js';
import { ShadowLedger, type ShadowSink } from '../../shared/shadow/index.js';
import { DEFAULT_SIGNED_URL_MARGIN_S, ShotgunClient, SiteInfo } from '../../shared/site/index.js';
import {
  EntityStore,
  KeptEvents,
  KeptSiteInfo,
  PendingEvents,
  ReadinessStore,
  ReconcilePace,
  RecentVolatileReads,
  type TableNames,
} from '../../shared/store/index.js';
import { PollerLease } from '../../shared/sync/index.js';
import { DEFAULT_REQUEST_LIMITS, type RequestLimits } from './request.js';

/** The cache side: without it the API passes everything through (reads with reason `read-engine-not-ready`). */
export interface CacheDeps {
  schema: CachedSchema;
  ddb: DynamoDBClient;
  tables: TableNames;
  /** The cache's own script credentials: write-through read-backs, probes, schema learning. */
  scriptAuth: () => Promise<{ script_name: string; script_key: string } | undefined>;
  accessRules: AccessRules;
  /** The HMAC key of auth verdicts and verified views (its own secret, never the script key); none: a random key per container, verdicts in memory only. */
  verdictKey?: () => Promise<string | undefined>;
  /** Principals served the script's view without probes (TRUSTED_PRINCIPALS; the cache's own script always is). */
  trustedPrincipals?: string[];
  /** Write-through versions (default: from the event-log cursor in the state table). */
  versions?: WriteVersionSource;
  /** The response cache of unplannable reads (shared/reads/response-cache.ts): on unless `enabled: false` (RESPONSE_CACHE=off). */
  responseCache?: { enabled?: boolean; ttlS?: number; maxStoredBytes?: number };
  /** The reply memo of plannable reads (shared/reads/reply-memo.ts): on unless `enabled: false` (REPLY_MEMO=off); `share` of the function's memory. */
  replyMemo?: { enabled?: boolean; maxBytes?: number; share?: number; granularity?: CounterGranularity };
  /** EventLogEntry reads from the kept event log (shared/reads/event-log-reads.ts): on unless `enabled: false` (EVENT_LOG_READS=off). */
  eventLog?: { enabled?: boolean; maxLagMs?: number };
  /** Shadow verification (shared/shadow/shadow-check.ts): this share of hits goes to the verifier through `sink`. */
  shadow?: { rate: number; sink: ShadowSink; random?: () => number };
  /** Reads served only while the store is provably fresh (shared/reads/store-freshness.ts): on when given (STORE_FRESHNESS, STORE_MAX_LAG_MS). */
  freshness?: { enabled?: boolean; maxLagMs?: number };
  /** Outage mode (functions/api/outage.ts): while the site is down, verified reads served marked stale for `graceMs` after the last poll; omitted or 0: off. */
  outage?: { graceMs: number };
}

export interface ApiDeps {
  shotgun: ShotgunConfig;
  logger: Logger;
  metrics?: ApiMetrics;
  api?: Partial<ApiConfig>;
  cache?: CacheDeps;
  /**
   * The one time source of the container (tests: a virtual one; default the real clock): the site's health, outage
   * grace, store freshness, verdict and view lifetimes, signed URLs.
   */
  clock?: Clock;
}

export type ApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

const API_DEFAULTS: ApiConfig = {
  authCacheMs: 300_000,
  readinessCacheMs: 5_000,
  infoCacheMs: 300_000,
  permissionViewTtlMs: 600_000,
  maxRequestBytes: DEFAULT_REQUEST_LIMITS.maxBytes,
  maxJsonDepth: DEFAULT_REQUEST_LIMITS.maxDepth,
  maxScanEntities: MAX_SCAN_ENTITIES,
  signedUrlMarginS: DEFAULT_SIGNED_URL_MARGIN_S,
};

/** The cache side, built: readiness snapshots, caller auth, the read path, write-through, the response cache, the ledger and the reconcile pace. */
export type Cache = ReturnType<typeof buildCache>;

/** Everything a route needs, built once per container (per stack locally). */
export interface ApiContext {
  deps: ApiDeps;
  logger: Logger;
  metrics: ApiMetrics;
  cfg: ApiConfig;
  limits: RequestLimits;
  /** The site's origin (status, fault messages). */
  upstream: string;
  client: ShotgunClient;
  siteInfo: SiteInfo;
  clock: Clock;
  cache?: Cache;
}

export function buildContext(deps: ApiDeps): ApiContext {
  const { logger } = deps;
  const cfg: ApiConfig = { ...API_DEFAULTS, ...deps.api };
  const metrics = deps.metrics ?? new MemoryApiMetrics();
  const limits = { maxBytes: cfg.maxRequestBytes, maxDepth: cfg.maxJsonDepth };
  const upstream = new URL(deps.shotgun.url).origin;
  const clock = deps.clock ?? systemClock;
  const client = new ShotgunClient({
    clock,
    url: deps.shotgun.url,
    timeoutMs: deps.shotgun.timeoutMs,
    // Every call of a request, retries included, within API Gateway's 30 s: a hung site is answered, never waited out.
    totalTimeoutMs: Math.min(deps.shotgun.timeoutMs, 25_000),
    retry: { maxAttempts: deps.shotgun.maxAttempts },
    userAgent: 'fpt-cache',
    onRetry: (r) => logger.warn('retrying the site', { ...r }),
  });
  const log = (level: 'warn' | 'error') => (message: string, details?: Record<string, unknown>) => logger[level](message, { ...details });
  // The last `info` reply is also kept in the state table, for containers started while the site is down.
  const siteInfo = new SiteInfo(client, cfg.infoCacheMs, () => clock.now(), deps.cache && new KeptSiteInfo(deps.cache.ddb, deps.cache.tables.state));
  const cache = deps.cache && buildCache(deps.cache, client, cfg, log, metrics, clock);
  return { deps, logger, metrics, cfg, limits, upstream, client, siteInfo, clock, cache };
}

function buildCache(
  c: CacheDeps,
  client: ShotgunClient,
  cfg: ApiConfig,
  log: (level: 'warn' | 'error') => (message: string, details?: Record<string, unknown>) => void,
  metrics: ApiMetrics,
  clock: Clock,
) {
  const now = () => clock.now();
  const readinessStore = new ReadinessStore(c.ddb, c.tables, c.schema);
  // Reloaded at most every readinessCacheMs, and at once after the site's field names were learnt.
  let snapshot = readinessStore.snapshots(cfg.readinessCacheMs);
  const readiness = () => snapshot();
  const store = new EntityStore(c.ddb, c.tables, c.schema);
  const volatile = { marginMs: cfg.signedUrlMarginS * 1000, now };
  const auth = new CallerAuth({
    client,
    ttlMs: cfg.authCacheMs,
    table: { ddb: c.ddb, name: c.tables.state },
    log: log('warn'),
    now,
    hmacKey: c.verdictKey ?? (async () => undefined),
  });
  const ledger = new ShadowLedger(c.ddb, c.tables.state);
  const m = c.replyMemo;
  const memo =
    m?.enabled === false
      ? undefined
      : new ReplyMemo({
          ddb: c.ddb,
          table: c.tables.state,
          granularity: m?.granularity,
          volatile,
          maxBytes: m?.maxBytes ?? memoBudgetBytes(process.env, m?.share),
          onEvict: (n) => metrics.memoEvicted?.(n),
        });
  // Changes the event log carries that move permissions end every view verified before them (shared/reads/view-coverage.ts).
  const epoch = new PermissionEpoch({ ddb: c.ddb, table: c.tables.state });
  // Each caller's own view, probed with its credentials (shared/reads/principal-views.ts).
  const views = new PrincipalViews({
    client,
    schema: c.schema,
    scriptAuth: c.scriptAuth,
    identity: (cred) => auth.identity(cred),
    trusted: c.trustedPrincipals,
    ttlMs: cfg.permissionViewTtlMs,
    table: { ddb: c.ddb, name: c.tables.state },
    log: log('warn'),
    onEvent: (e) => metrics.permission?.(e, 1),
    epoch: () => epoch.current(),
    now,
  });
  const lease = new PollerLease(DynamoDBDocumentClient.from(c.ddb), c.tables.state, 0);
  const eventLog =
    c.eventLog?.enabled === false
      ? undefined
      : new EventLogReads({
          schema: c.schema,
          kept: new KeptEvents(c.ddb, c.tables.state),
          cursor: () => lease.read(),
          readiness,
          maxLagMs: c.eventLog?.maxLagMs,
          now,
          projects: async (ids) => (await store.getMany('Project', ids)).entities.map((e) => e.record),
        });
  // How fresh the store is: the poller's lease item and the pending-event markers (also what outage mode reports).
  const freshness = new StoreFreshness({
    lease: () => lease.read(),
    firstPending: (keys) => pending.firstPending(keys),
    maxLagMs: c.freshness?.maxLagMs ?? DEFAULT_STORE_MAX_LAG_MS,
    since: clock.now(),
    clock,
  });
  const pending = new PendingEvents(c.ddb, c.tables.state);
  const reads = new CachedReads({
    freshness: c.freshness && c.freshness.enabled !== false ? freshness : undefined,
    schema: c.schema,
    readiness,
    auth,
    rules: c.accessRules,
    log: log('error'),
    memo,
    quarantine: ledger.quarantine(cfg.readinessCacheMs),
    views,
    linkProjects: storeLinkProjects(store),
    eventLog,
    eventLogViews:
      eventLog &&
      new EventLogViews({
        client,
        scriptAuth: c.scriptAuth,
        identity: (cred) => auth.identity(cred),
        ttlMs: views.ttlMs,
        now,
        onProbe: () => metrics.permission?.('probe', 1),
      }),
    engine: new ReadEngine(store, c.schema, { readiness, maxScanEntities: cfg.maxScanEntities, volatile }),
  });
  const writeThrough = new WriteThrough({
    schema: c.schema,
    store,
    log: log('warn'),
    site: {
      async read(params) {
        const script = await c.scriptAuth();
        if (!script) throw new Error('no script credentials (SHOTGUN_SCRIPT_NAME) to read the written entities back');
        return (await client.call<{ entities?: Array<Record<string, unknown>> }>('read', params, { auth: script, idempotent: true }))?.entities ?? [];
      },
    },
  });
  const versions = c.versions ?? new CursorWriteVersions(c.ddb, DynamoDBDocumentClient.from(c.ddb), c.tables.state);
  const responses =
    c.responseCache?.enabled === false
      ? undefined
      : new ResponseCache({
          ddb: c.ddb,
          table: c.tables.state,
          ttlS: c.responseCache?.ttlS,
          maxStoredBytes: c.responseCache?.maxStoredBytes,
          marginMs: volatile.marginMs,
          now: volatile.now,
        });
  // The site's field names, learnt on passes naming uncached fields (shared/reads/site-field-learning.ts).
  const learner = new SiteFieldLearner({
    schema: c.schema,
    readiness,
    store: readinessStore,
    log: log('warn'),
    minIntervalMs: cfg.readinessCacheMs,
    onLearned: () => {
      snapshot = readinessStore.snapshots(cfg.readinessCacheMs);
    },
    async fieldsOf(type) {
      const script = await c.scriptAuth();
      if (!script) throw new Error("no script credentials (SHOTGUN_SCRIPT_NAME) to read the site's fields");
      return client.call('schema_field_read', { type }, { auth: script, idempotent: true });
    },
  });
  // Signed URLs: renewed from relayed replies; entities served with them recorded for the reconciler (docs/semantics.md "Volatile values").
  const renewal = new SignatureRenewal({ schema: c.schema, store, log: log('warn') });
  const recent = new RecentVolatileReads({ ddb: c.ddb, table: c.tables.state, now: volatile.now });
  // Schema replies are kept per caller and per binding (its permission epoch and view period): they die with its views.
  const schemaReplies =
    responses &&
    new SchemaReplies({
      responses,
      schema: c.schema,
      identity: async (cred) => {
        const binding = await views.binding(cred, []);
        if (binding === undefined) throw new Error('permission epoch unavailable');
        return `${await auth.identity(cred)}#${binding}`;
      },
    });
  return {
    ...c,
    readiness,
    auth,
    views,
    reads,
    freshness,
    eventLog,
    writeThrough,
    versions,
    responses,
    schemaReplies,
    ledger,
    memo,
    learner,
    renewal,
    recent,
    pace: new ReconcilePace(DynamoDBDocumentClient.from(c.ddb), c.tables.state),
  };
}
