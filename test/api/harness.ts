// Test harness for the API: the simulated site, fresh tables on the suite's DynamoDB Local, an imported and ready cache, and the real handler behind the local API Gateway.
import { Logger } from '@aws-lambda-powertools/logger';
import { systemClock } from '../../shared/clock.js';
import { createApiHandler, type CacheDeps } from '../../functions/api/app.js';
import { startLocalApiGateway, type LocalApiGateway } from '../../local/api-gateway.js';
import { API_FUNCTION } from '../../local/functions.js';
import { startSimSite, type SimSite, type SimSiteOptions } from '../../local/sim/server.js';
import { DEFAULT_SCRIPT } from '../../local/sim/credentials.js';
import { parseAccessRules, MemoryApiMetrics } from '../../shared/reads/index.js';
import { loadCachedSchema, type CachedSchema } from '../../shared/schema/index.js';
import type { ApiConfig } from '../../shared/config.js';
import { EntityStore, type TableNames } from '../../shared/store/index.js';
import { ShotgunClient, type AuthParams, readParams, wireCondition } from '../../shared/site/index.js';
import { importReadyCache } from '../reads/importer.js';
import { dynamo, freshTables } from '../store/helpers.js';
import { postRpc, type RawResponse } from '../stack/http.js';

export const schema = loadCachedSchema('schema/default.yml');
/** The verdict HMAC key of the API under test (its own secret, as deployed: never the script key). */
export const TEST_VERDICT_KEY = 'test-verdict-key-0123456789abcdef0123456789abcdef';
export const SCRIPT_AUTH: AuthParams = { script_name: DEFAULT_SCRIPT.name, script_key: DEFAULT_SCRIPT.key };

export interface Harness {
  sim: SimSite;
  api: LocalApiGateway;
  metrics: MemoryApiMetrics;
  store: EntityStore;
  tables: TableNames;
  /** The site's client as the cache's script (direct, not through the API). */
  site: ShotgunClient;
  /** POST a JSON-RPC payload to the API, as shotgun_api3 does. */
  rpc(payload: unknown, headers?: Record<string, string>): Promise<RawResponse>;
  /** The same payload straight to the site. */
  direct(payload: unknown): Promise<RawResponse>;
  /** Another API container (its own memory: auth verdicts, reply memo) over the same tables and site; `deployed`: another cached schema. */
  another(deployed?: CachedSchema): Promise<{ rpc(payload: unknown, headers?: Record<string, string>): Promise<RawResponse>; metrics: MemoryApiMetrics }>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  sim?: SimSiteOptions;
  api?: Partial<ApiConfig>;
  /** ACCESS_RULES, or a function building it from the site (to name real project ids). */
  accessRules?: string | ((site: ShotgunClient) => Promise<string>);
  /** Skip the import and readiness (an empty, unready cache). */
  empty?: boolean;
  /** The response cache's settings (default here: off, so engine tests see every pass; on in the deployed API). */
  responseCache?: CacheDeps['responseCache'];
  /** The reply memo's settings (default here: off, so engine tests see every engine read; on in the deployed API). */
  replyMemo?: CacheDeps['replyMemo'];
  /** The clock the cache judges signed URLs by (a virtual one; the sim's `mediaNow` should follow the same). */
  clock?: () => number;
  /** EventLogEntry reads from the kept event log (default: on, as deployed). */
  eventLog?: CacheDeps['eventLog'];
  /** TRUSTED_PRINCIPALS (default: none). */
  trustedPrincipals?: string[];
}

export async function startHarness(label: string, opts: HarnessOptions = {}): Promise<Harness> {
  const ddb = dynamo();
  const sim = await startSimSite({ port: 0, entities: 200, seed: 7, ...opts.sim });
  const tables = await freshTables(ddb, label);
  const store = new EntityStore(ddb, tables, schema);
  // The test's own view of the site: not subject to the cache's circuit breaker (shared/site/site-health.ts).
  const site = new ShotgunClient({ url: sim.url, scriptName: DEFAULT_SCRIPT.name, scriptKey: DEFAULT_SCRIPT.key, health: false });
  if (!opts.empty) await importReadyCache(site, ddb, tables, schema);
  const cache: CacheDeps = {
    schema,
    ddb,
    tables,
    accessRules: parseAccessRules(typeof opts.accessRules === 'function' ? await opts.accessRules(site) : opts.accessRules),
    scriptAuth: async () => ({ script_name: DEFAULT_SCRIPT.name, script_key: DEFAULT_SCRIPT.key }),
    verdictKey: async () => TEST_VERDICT_KEY,
    responseCache: opts.responseCache ?? { enabled: false },
    replyMemo: opts.replyMemo ?? { enabled: false },
    eventLog: opts.eventLog,
    trustedPrincipals: opts.trustedPrincipals,
  };
  const gateways: LocalApiGateway[] = [];
  const startApi = async (deployed?: CachedSchema) => {
    const metrics = new MemoryApiMetrics();
    const handler = createApiHandler({
      shotgun: { url: sim.url, timeoutMs: 10_000, maxAttempts: 2 },
      logger: new Logger({ serviceName: 'fpt-cache-api-test', logLevel: (process.env.API_TEST_LOG ?? 'SILENT') as 'SILENT' }),
      metrics,
      cache: deployed ? { ...cache, schema: deployed } : cache,
      api: opts.api,
      clock: opts.clock && { now: opts.clock, sleep: systemClock.sleep },
    });
    const gw = await startLocalApiGateway({ port: 0, fn: API_FUNCTION.fn, handler });
    gateways.push(gw);
    return { gw, metrics, rpc: (payload: unknown, headers?: Record<string, string>) => postRpc(`${gw.url}/api3/json`, payload, headers) };
  };
  const { gw: api, metrics, rpc } = await startApi();
  sim.control.resetStats();
  return {
    sim,
    api,
    metrics,
    store,
    tables,
    site,
    rpc,
    direct: (payload) => postRpc(`${sim.url}/api3/json`, payload),
    another: startApi,
    async close() {
      for (const gw of gateways) await gw.close();
      await sim.close();
      ddb.destroy();
    },
  };
}

/** A `read` payload as shotgun_api3 8.x sends it for find / find_one. */
export function readPayload(auth: AuthParams | undefined, type: string, conditions: unknown[], fields: string[], extra: Record<string, unknown> = {}) {
  return { method_name: 'read', params: [auth, readParams(type, conditions, fields, extra)].filter((p) => p !== undefined) };
}

export const cond = wireCondition;

export function results<T = any>(r: RawResponse): T {
  return (r.json() as { results: T }).results;
}

export function fault(r: RawResponse): { exception: boolean; error_code: number; message: string } {
  return r.json() as { exception: boolean; error_code: number; message: string };
}

/** Count of `read` calls the site answered since the last reset. */
export function siteReads(sim: SimSite): number {
  return (sim.control.stats().byMethod as Record<string, number>).read ?? 0;
}
