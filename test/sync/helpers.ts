// Test rig for the sync pipeline: a simulated site, fresh tables on the suite's DynamoDB Local, and the sync context over both.
import { inject } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startSimSite, type SimSite, type SimSiteOptions } from '../../local/sim/server.js';
import { DEFAULT_SCRIPT } from '../../local/sim/credentials.js';
import { loadCachedSchema } from '../../shared/schema/index.js';
import {
  EventApplier,
  Importer,
  type ImportOptions,
  type PollerMetrics,
  Reconciler,
  type ReconcilerDeps,
  syncContextFromEnv,
  type SyncContext,
  MemorySyncMetrics,
} from '../../shared/sync/index.js';
import { ShotgunClient } from '../../shared/site/index.js';
import { ensureTables, tableNames } from '../../shared/store/index.js';
import { ReadEngine } from '../../shared/query/index.js';

export const schema = loadCachedSchema('schema/default.yml');

export interface Rig {
  site: SimSite;
  env: Record<string, string>;
  ctx: SyncContext;
  metrics: MemorySyncMetrics;
  /** A client of the site with events on (the `fpt-cache` script). */
  sg: ShotgunClient;
  importer: Importer;
  applier: EventApplier;
  close(): Promise<void>;
}

let seq = 0;

/** A site and fresh tables; `extraEnv` is merged into the functions' environment. */
export async function startRig(label: string, siteOptions: SimSiteOptions = {}, extraEnv: Record<string, string> = {}): Promise<Rig> {
  const site = await startSimSite({ port: 0, ...siteOptions });
  const tables = tableNames(`sync-${label}-${process.pid}-${Date.now().toString(36)}-${seq++}-`);
  const endpoint = inject('dynamodbEndpoint');
  const ddb = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await ensureTables(ddb, tables);
  ddb.destroy();
  const env: Record<string, string> = {
    SHOTGUN_URL: site.url,
    SHOTGUN_SCRIPT_NAME: DEFAULT_SCRIPT.name,
    SHOTGUN_SCRIPT_KEY: DEFAULT_SCRIPT.key,
    ENTITIES_TABLE: tables.entities,
    STATE_TABLE: tables.state,
    REFS_TABLE: tables.refs,
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    ...extraEnv,
  };
  const ctx = await syncContextFromEnv(env, { schema });
  const metrics = new MemorySyncMetrics();
  const importer = new Importer({
    schema,
    store: ctx.store,
    readiness: ctx.readiness,
    state: ctx.importState,
    lease: ctx.lease,
    events: ctx.events,
    fetcher: ctx.fetcher,
    metrics,
  });
  const applier = new EventApplier({ schema, store: ctx.store, fetcher: ctx.fetcher, events: ctx.events });
  // The test's own view of the site: not subject to the cache's circuit breaker (shared/site/site-health.ts).
  const sg = new ShotgunClient({ url: site.url, scriptName: DEFAULT_SCRIPT.name, scriptKey: DEFAULT_SCRIPT.key, health: false });
  return {
    site,
    env,
    ctx,
    metrics,
    sg,
    importer,
    applier,
    async close() {
      ctx.destroy();
      await site.close();
    },
  };
}

export function importAll(rig: Rig, opts: ImportOptions = {}) {
  return rig.importer.run({ typeConcurrency: 2, ...opts });
}

/** Applies every event after `afterId` the way the consumer would (in id order), and returns the last id seen. */
export async function applyEventsAfter(rig: Rig, afterId: number): Promise<number> {
  let last = afterId;
  for (;;) {
    const rows = await rig.ctx.events.readAfter(last, 500);
    for (const ev of rows) await rig.applier.apply(ev);
    if (rows.length) last = rows[rows.length - 1].id;
    if (rows.length < 500) return last;
  }
}

/** Poller metrics that record nothing. */
export const NO_POLLER_METRICS: PollerMetrics = {
  heartbeat() {},
  forwarded() {},
  dropped() {},
  backlog() {},
  behind() {},
  expired() {},
  lagSeconds() {},
  cursorBeyondRetention() {},
};

/** A reconciler over the rig's context; `extra` adds or replaces its ports (metrics, log, pending markers). */
export function reconcilerFor(rig: Rig, extra: Partial<ReconcilerDeps> = {}): Reconciler {
  const { ctx } = rig;
  return new Reconciler({
    schema,
    store: ctx.store,
    readiness: ctx.readiness,
    fetcher: ctx.fetcher,
    events: ctx.events,
    lease: ctx.lease,
    doc: ctx.doc,
    stateTable: ctx.tables.state,
    ...extra,
  });
}

/** The read engine over the rig's store, gated by the readiness the import recorded. */
export function engine(rig: Rig): ReadEngine {
  return new ReadEngine(rig.ctx.store, schema, { readiness: () => rig.ctx.readiness.load() });
}

type Params = Record<string, unknown>;
export const cond = (path: string, relation: string, ...values: unknown[]) => ({ path, relation, values });
export const readParams = (type: string, conditions: unknown[], return_fields: string[], extra: Params = {}): Params => ({
  type,
  return_fields,
  filters: { logical_operator: 'and', conditions },
  return_only: 'active',
  paging: { entities_per_page: 500, current_page: 1 },
  return_paging_info_without_counts: false,
  ...extra,
});

/** The same read from the site and from the cache; the cache must serve it. */
export async function both(rig: Rig, params: Params): Promise<{ site: unknown; cache: unknown }> {
  const fromSite = await rig.sg.call('read', params);
  const fromCache = await engine(rig).read(params);
  if (!fromCache.served) throw new Error(`the cache did not serve the read: ${fromCache.reason}`);
  return { site: fromSite, cache: fromCache.result };
}

/** Waits for a condition (a hang guard with a generous deadline, never a timing assertion). */
export async function waitUntil(what: string, probe: () => Promise<boolean> | boolean, deadlineMs = 30_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    if (await probe()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
