// Test rig for outages: the simulated site, fresh tables, the local SQS, and the cache's processes (API behind the local gateway, poller, importer, consumer) that can be stopped cleanly or killed and started again.
import { Logger } from '@aws-lambda-powertools/logger';
import { GetQueueAttributesCommand, type QueueAttributeName, SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { expect } from 'vitest';
import { apiDepsFromEnv, createApiHandler } from '../../functions/api/app.js';
import { createConsumerHandler } from '../../functions/consumer/app.js';
import { createImporterHandler } from '../../functions/importer/app.js';
import { createPollerHandler } from '../../functions/poller/app.js';
import { startLocalApiGateway, type LocalApiGateway } from '../../local/api-gateway.js';
import { API_FUNCTION } from '../../local/functions.js';
import { startScheduler, type Scheduler } from '../../local/scheduler.js';
import { startSqsEventSource, type SqsEventSource } from '../../local/sqs-event-source.js';
import { startLocalSqs, type LocalSqs } from '../../local/sqs-local.js';
import { DEFAULT_SCRIPT } from '../../local/sim/credentials.js';
import type { Clock } from '../../shared/clock.js';
import { MemoryApiMetrics } from '../../shared/reads/index.js';
import { authParams, deleteParams, readParams, reviveParams, rpcPayload, ShotgunClient, updateParams, type AuthParams } from '../../shared/site/index.js';
import { MemorySyncMetrics, Validator } from '../../shared/sync/index.js';
import { postRpc, type RawResponse } from '../stack/http.js';
import { importAll, schema, startRig, waitUntil, type Rig } from '../sync/helpers.js';

/** Throttles every DynamoDB call of the API containers started from now on while `on`. */
export const throttle = { on: false };

export const SCRIPT: AuthParams = authParams({ scriptName: DEFAULT_SCRIPT.name, apiKey: DEFAULT_SCRIPT.key }) as AuthParams;
const quiet = new Logger({ serviceName: 'outage-test', logLevel: (process.env.API_TEST_LOG ?? 'CRITICAL') as 'CRITICAL' });

/** The cache's processes over one rig: stopped cleanly (leases released) or killed (their clients cut mid-work). */
export interface CacheProcesses {
  apiUrl: string;
  metrics: MemoryApiMetrics;
  sync: MemorySyncMetrics;
  events: SqsEventSource;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

export interface OutageRig {
  rig: Rig;
  sqs: LocalSqs;
  /** The site's client without the shared health (the test's own view of the truth, never refused). */
  site: ShotgunClient;
  env: Record<string, string>;
  cache: CacheProcesses;
  start(): Promise<CacheProcesses>;
  rpc(payload: unknown): Promise<RawResponse>;
  /** The same payload straight to the site. */
  direct(payload: unknown): Promise<RawResponse>;
  close(): Promise<void>;
}

/**
 * Kills the cache as a crash would: no grace, and the poller's lease left held by its dead owner with a recent
 * heartbeat (a killed process never releases it); the next poller must take it over once the heartbeat is stale.
 */
export async function killCache(o: OutageRig): Promise<void> {
  await o.cache.kill();
  // The abandoned invocation notices the shutdown at its next poll; then its lease is left as a dead process leaves it.
  await waitUntil('the lease as a dead owner left it', async () => (await o.rig.ctx.lease.acquire(`dead-${Date.now()}`, Date.now())) !== null);
}

/** Changes on the site as a studio makes them: updates, relinks, retirements and revivals (as the cache's script, events on). */
export async function changeSite(o: OutageRig, n: number, seed: number): Promise<void> {
  let x = seed;
  const random = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
  const read = async (type: string, fields: string[], retired = false) =>
    (await o.site.call<{ entities: Array<Record<string, any>> }>('read', readParams(type, [], fields, { return_only: retired ? 'retired' : 'active' })))
      .entities;
  const [shots, sequences] = await Promise.all([read('Shot', ['code']), read('Sequence', ['code'])]);
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
  for (let i = 0; i < n; i++) {
    const op = i % 4;
    if (op === 0) await o.site.call('update', updateParams('Shot', pick(shots).id, { description: `change ${seed}/${i}`, sg_cut_in: i }));
    else if (op === 1) await o.site.call('update', updateParams('Shot', pick(shots).id, { sg_sequence: { type: 'Sequence', id: pick(sequences).id } }));
    else if (op === 2) await o.site.call('delete', deleteParams('Shot', shots.splice(Math.floor(random() * shots.length), 1)[0].id));
    else {
      const retired = await read('Shot', ['code'], true);
      if (retired.length) await o.site.call('revive', reviveParams('Shot', pick(retired).id));
    }
  }
}

/**
 * `extraEnv` overrides the rig's short settings ('' restores a setting's real default); `clock` is the time source of
 * the cache's processes (default the real clock; a VirtualClock to cross long bounds at their real settings).
 */
export async function startOutageRig(
  label: string,
  extraEnv: Record<string, string> = {},
  entities = 60,
  visibilityS?: number,
  clock?: Clock,
): Promise<OutageRig> {
  const sqs = await startLocalSqs({ port: 0 });
  const rig = await startRig(
    label,
    { entities, seed: 17 },
    {
      EVENTS_QUEUE_URL: sqs.queueUrl,
      EVENTS_DLQ_URL: sqs.dlqUrl,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      POLL_INTERVAL_MS: '100',
      POLL_LOOP_MS: '4000',
      POLLER_LEASE_MS: '60000',
      POLLER_STALE_MS: '1500',
      SHOTGUN_TIMEOUT_MS: '1500',
      SHOTGUN_MAX_ATTEMPTS: '2',
      STORE_MAX_LAG_MS: '3000',
      OUTAGE_GRACE_S: '600',
      RESPONSE_CACHE: 'off',
      REPLY_MEMO: 'off',
      EVENT_LOG_READS: 'off',
      POWERTOOLS_LOG_LEVEL: 'CRITICAL',
      // As npm start writes (local/stack.ts): kills and restarts land in the middle of grouped transactions too.
      STORE_WRITE_GROUPING: 'transact',
      ...extraEnv,
    },
  );
  expect((await importAll(rig)).complete).toBe(true);
  // A message a killed consumer had received comes back after the queue's visibility timeout, as SQS redelivers it.
  if (visibilityS !== undefined) {
    await rig.ctx.sqs.send(new SetQueueAttributesCommand({ QueueUrl: sqs.queueUrl, Attributes: { VisibilityTimeout: String(visibilityS) } }));
  }
  const site = new ShotgunClient({ url: rig.site.url, scriptName: DEFAULT_SCRIPT.name, scriptKey: DEFAULT_SCRIPT.key, health: false });
  const out: OutageRig = {
    rig,
    sqs,
    site,
    env: rig.env,
    cache: undefined as unknown as CacheProcesses,
    start: async () => (out.cache = await startCache(rig.env, sqs, clock)),
    rpc: (payload) => postRpc(`${out.cache.apiUrl}/api3/json`, payload),
    direct: (payload) => postRpc(`${rig.site.url}/api3/json`, payload),
    async close() {
      await out.cache?.stop().catch(() => {});
      await rig.close();
      await sqs.close();
    },
  };
  await out.start();
  return out;
}

async function startCache(env: Record<string, string>, sqs: LocalSqs, clock?: Clock): Promise<CacheProcesses> {
  const metrics = new MemoryApiMetrics();
  const sync = new MemorySyncMetrics();
  const consumer = await createConsumerHandler(env, { metrics: sync, logger: quiet, clock });
  const events = startSqsEventSource({
    endpoint: sqs.endpoint,
    queueUrl: sqs.queueUrl,
    dlqUrl: sqs.dlqUrl,
    fn: { name: 'consumer', timeoutMs: 30_000 },
    handler: consumer,
    retryDelayMs: 200,
  });
  const poller = await createPollerHandler(env, { metrics: sync, logger: quiet, triggerImport: async () => {}, clock });
  const importer = await createImporterHandler({ IMPORT_PAGE_SIZE: '100', ...env }, { metrics: sync, logger: quiet });
  const scheduler: Scheduler = startScheduler([
    { fn: { name: 'poller', timeoutMs: 10_000 }, handler: poller, everyMs: 100 },
    { fn: { name: 'importer', timeoutMs: 60_000 }, handler: importer, everyMs: 500 },
  ]);
  const deps = { ...apiDepsFromEnv(env, quiet, metrics), clock };
  // DynamoDB as the API sees it, throttled on demand (the read path must pass, never fail).
  const ddb = deps.cache!.ddb;
  const send = ddb.send.bind(ddb) as (...args: unknown[]) => Promise<unknown>;
  (ddb as { send: unknown }).send = (...args: unknown[]) =>
    throttle.on
      ? Promise.reject(new ProvisionedThroughputExceededException({ message: 'Rate of requests exceeds the allowed throughput.', $metadata: {} }))
      : send(...args);
  const handler = createApiHandler(deps);
  const gw: LocalApiGateway = await startLocalApiGateway({ port: 0, fn: API_FUNCTION.fn, handler });
  return {
    apiUrl: gw.url,
    metrics,
    sync,
    events,
    async stop() {
      await scheduler.stop();
      await events.stop();
      await gw.close();
    },
    async kill() {
      // The poller and the API abandoned where they are (no grace). The local event source is stopped first and hands the
      // messages it holds back at once, where SQS would redeliver them after the visibility timeout.
      await events.stop();
      await Promise.all([scheduler.stop(0), gw.close()]);
    },
  };
}

/** The read payloads every scenario compares, as the cache's script (Shots, Tasks, Sequences, Assets with links). */
export function probeReads(auth: AuthParams = SCRIPT): unknown[] {
  const page = { entities_per_page: 500, current_page: 1 };
  return [
    rpcPayload(
      'read',
      auth,
      readParams('Shot', [], ['code', 'description', 'sg_cut_in', 'sg_sequence', 'project'], { paging: page, sorts: [{ field_name: 'id', direction: 'asc' }] }),
    ),
    rpcPayload(
      'read',
      auth,
      readParams('Task', [], ['content', 'sg_status_list', 'entity', 'task_assignees'], { paging: page, sorts: [{ field_name: 'id', direction: 'asc' }] }),
    ),
    rpcPayload('read', auth, readParams('Sequence', [], ['code', 'shots'], { paging: page, sorts: [{ field_name: 'id', direction: 'asc' }] })),
    rpcPayload('read', auth, readParams('Shot', [], ['code'], { return_only: 'retired', paging: page, sorts: [{ field_name: 'id', direction: 'asc' }] })),
  ];
}

/** Where two read replies first differ, by entity: what a failed comparison reports (cache first, then site). */
function firstDifference(cache: unknown, site: unknown): string {
  type Reply = { results?: { entities?: Array<{ id: number }> } };
  const rows = (r: unknown) => new Map(((r as Reply)?.results?.entities ?? []).map((e) => [e.id, JSON.stringify(e)]));
  const [c, s] = [rows(cache), rows(site)];
  for (const id of new Set([...c.keys(), ...s.keys()])) {
    if (c.get(id) !== s.get(id)) return `id ${id}: cache ${c.get(id) ?? '(absent)'} site ${s.get(id) ?? '(absent)'}`;
  }
  return `${JSON.stringify(cache).slice(0, 200)} vs ${JSON.stringify(site).slice(0, 200)}`;
}

/** Every probe read through the cache, each answer compared with the site's; returns how many were hits. */
export async function compareWithSite(o: OutageRig, payloads: unknown[] = probeReads()): Promise<{ hits: number; differing: string[] }> {
  let hits = 0;
  const differing: string[] = [];
  for (const p of payloads) {
    const viaCache = await o.rpc(p);
    const direct = await o.direct(p);
    expect(viaCache.status).toBe(200);
    if (viaCache.headers['x-fpt-cache'] === 'hit') hits++;
    if (JSON.stringify(viaCache.json()) !== JSON.stringify(direct.json()))
      differing.push(
        `${JSON.stringify((p as { params: unknown[] }).params[1]).slice(0, 80)} (${String(viaCache.headers['x-fpt-cache-reason'])}): ${firstDifference(viaCache.json(), direct.json())}`,
      );
  }
  return { hits, differing };
}

/** The end of every scenario: the poller caught up, the queue drained, the DLQ empty, the store identical to the site, and every probe read a hit equal to it. */
export async function expectConverged(o: OutageRig): Promise<void> {
  const latest = await o.site.call<{ entities: Array<{ id: number }> }>(
    'read',
    readParams('EventLogEntry', [], ['id'], { sorts: [{ field_name: 'id', direction: 'desc' }], paging: { entities_per_page: 1, current_page: 1 } }),
  );
  const last = latest.entities[0]?.id ?? 0;
  await waitUntil(
    'the cursor to reach the last event',
    async () => {
      const c = (await o.rig.ctx.lease.read()).cursor;
      return c !== null && c.maxSeen >= last && Object.keys(c.backlog).length === 0;
    },
    60_000,
  );
  await waitUntil(
    'the queue to drain',
    () => {
      const st = o.cache.events.stats();
      return st.buffered === 0 && st.inFlightBatches === 0;
    },
    60_000,
  );
  // Messages a killed consumer had received come back after the visibility timeout: nothing left in the queue at all.
  await waitUntil('no message left in the queue', async () => (await depth(o, o.sqs.queueUrl, true)) === 0, 60_000);
  await waitUntil(
    'the queue to drain',
    () => {
      const st = o.cache.events.stats();
      return st.buffered === 0 && st.inFlightBatches === 0;
    },
    60_000,
  );
  expect(o.cache.events.stats().movedToDlq).toBe(0);
  expect(await depth(o, o.sqs.dlqUrl)).toBe(0);
  const validator = new Validator({ schema, store: o.rig.ctx.store, readiness: o.rig.ctx.readiness, fetcher: o.rig.ctx.fetcher, client: o.site });
  const report = await validator.run({ data: 'all', recheckMs: 1000 });
  if (process.env.DEBUG_OUTAGE)
    console.log(
      JSON.stringify(
        report.types
          .filter((t) => t.differing.length || t.site.active !== t.cache.active || t.site.retired !== t.cache.retired)
          .map((t) => ({ type: t.type, site: t.site, cache: t.cache, differing: t.differing.slice(0, 5) })),
      ),
    );
  expect(report.types.filter((t) => t.differing.length || t.site.active !== t.cache.active || t.site.retired !== t.cache.retired).map((t) => t.type)).toEqual(
    [],
  );
  expect(report.drift).toBe(0);
  await waitUntil('every probe read to be a hit', async () => (await compareWithSite(o)).hits === probeReads().length, 30_000);
  expect((await compareWithSite(o)).differing).toEqual([]);
}

async function depth(o: OutageRig, url: string, inFlight = false): Promise<number> {
  const names: QueueAttributeName[] = ['ApproximateNumberOfMessages', ...(inFlight ? (['ApproximateNumberOfMessagesNotVisible'] as const) : [])];
  const r = await o.rig.ctx.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: [...names] }));
  return names.reduce((n, k) => n + Number(r.Attributes?.[k] ?? 0), 0);
}
