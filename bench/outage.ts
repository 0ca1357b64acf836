// Benchmark of outages on one machine: the catch-up rate after a long gap, the site calls per minute while the site is down, and the recovery time.
//
//   node --import tsx bench/outage.ts [entities=3000] [gapEvents=3000] [outageS=60]   (or npm run bench -- outage)
//
// Everything is real: the simulated site over HTTP (its chaos knob takes it down with its maintenance 503), DynamoDB
// Local, the local SQS with the FIFO event-source emulation, the poller, consumer and API handlers with `npm start`'s settings.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { apiDepsFromEnv, createApiHandler } from '../functions/api/app.js';
import { createConsumerHandler } from '../functions/consumer/app.js';
import { createPollerHandler } from '../functions/poller/app.js';
import { startLocalApiGateway } from '../local/api-gateway.js';
import { startDynamoDbLocal } from '../local/dynamodb-local.js';
import { API_FUNCTION } from '../local/functions.js';
import { freePort } from '../local/ports.js';
import { startScheduler } from '../local/scheduler.js';
import { DEFAULT_SCRIPT } from '../local/sim/credentials.js';
import { startSimSite } from '../local/sim/server.js';
import { startSqsEventSource } from '../local/sqs-event-source.js';
import { startLocalSqs } from '../local/sqs-local.js';
import { loadCachedSchema } from '../shared/schema/index.js';
import { authParams, batchParams, readParams, rpcPayload, ShotgunClient, updateParams } from '../shared/site/index.js';
import { ensureTables, tableNames } from '../shared/store/index.js';
import { importAlone, syncEnv } from './fixtures.js';
import { MemorySyncMetrics, syncContextFromEnv } from '../shared/sync/index.js';
import { MemoryApiMetrics } from '../shared/reads/index.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function benchOutage(entities = 3000, gapEvents = 3000, outageS = 60): Promise<string> {
  const quiet = new Logger({ serviceName: 'bench', logLevel: 'CRITICAL' });
  const schema = loadCachedSchema('schema/default.yml');
  const ddbLocal = await startDynamoDbLocal({ port: await freePort() });
  const site = await startSimSite({ port: 0, entities });
  const sqs = await startLocalSqs({ port: 0 });
  const tables = tableNames(`bench-outage-${Date.now()}-`);
  const ddb = new DynamoDBClient({ endpoint: ddbLocal.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await ensureTables(ddb, tables);
  const env = syncEnv({ siteUrl: site.url, tables, sqs, dynamodbEndpoint: ddbLocal.endpoint }, { POWERTOOLS_LOG_LEVEL: 'CRITICAL', RESPONSE_CACHE: 'off' });
  const ctx = await syncContextFromEnv(env, { schema });
  const lines: string[] = [];
  const site2 = new ShotgunClient({ url: site.url, scriptName: DEFAULT_SCRIPT.name, scriptKey: DEFAULT_SCRIPT.key, health: false });
  try {
    await importAlone(ctx).run();
    const shots = (
      await site2.call<{ entities: Array<{ id: number }> }>('read', readParams('Shot', [], ['code'], { paging: { entities_per_page: 500, current_page: 1 } }))
    ).entities;

    // 1. Catch-up after a gap: the cache stopped while `gapEvents` changes land, then started.
    for (let i = 0; i < gapEvents; i += 100) {
      const reqs = Array.from({ length: Math.min(100, gapEvents - i) }, (_, j) => ({
        request_type: 'update' as const,
        entity_type: 'Shot',
        entity_id: shots[(i + j) % shots.length].id,
        data: { description: `gap ${i + j}` },
      }));
      await site2.call('batch', batchParams(reqs));
    }
    const latest = await ctx.events.latestId();
    const cache = await startCache(env, sqs, quiet);
    const t0 = Date.now();
    await until(async () => ((await ctx.lease.read()).cursor?.maxSeen ?? 0) >= latest && cache.drained(), 600_000);
    const catchUpS = (Date.now() - t0) / 1000;
    lines.push(
      `| catch-up after a gap of ${gapEvents} events (cursor at the latest event, queue drained) | ${catchUpS.toFixed(1)} s, **${Math.round(gapEvents / catchUpS)} events/s** |`,
    );

    // 2. The site down for `outageS` (its maintenance 503), a client reading 10 times a second through the cache.
    const read = rpcPayload(
      'read',
      authParams({ scriptName: DEFAULT_SCRIPT.name, apiKey: DEFAULT_SCRIPT.key }),
      readParams('Shot', [], ['code', 'description'], { paging: { entities_per_page: 50, current_page: 1 } }),
    );
    await until(async () => (await cache.rpc(read)).headers.get('x-fpt-cache') === 'hit', 60_000);
    site.chaos.apply({ down: 'maintenance' });
    const siteBefore = Number(site.control.stats().requests);
    const outageStart = Date.now();
    const served = { stale: 0, hit: 0, other: 0, http500: 0 };
    while (Date.now() - outageStart < outageS * 1000) {
      const r = await cache.rpc(read);
      if (r.status >= 500 && r.status !== 503) served.http500++;
      if (r.headers.get('x-fpt-cache-stale')) served.stale++;
      else if (r.headers.get('x-fpt-cache') === 'hit') served.hit++;
      else served.other++;
      await sleep(100);
    }
    const siteCalls = Number(site.control.stats().requests) - siteBefore;
    lines.push(
      `| site calls during a ${outageS} s outage (poller, consumer, API together; ~10 client reads/s) | ${siteCalls} calls, **${(siteCalls / (outageS / 60)).toFixed(0)} per minute** |`,
    );
    lines.push(
      `| client reads during it | ${served.stale} served marked stale, ${served.hit} plain hits (before the cache knew), ${served.other} passed (the site's 503), ${served.http500} HTTP 500 |`,
    );

    // 3. Recovery: the site back; a change written at once; when the poller polls again and the change is visible as a hit.
    site.chaos.clear();
    const back = Date.now();
    await site2.call('update', updateParams('Shot', shots[0].id, { description: 'after the outage' }));
    await until(async () => ((await ctx.lease.read()).cursorAt ?? 0) > back && (await ctx.lease.read()).siteDownSince === null, 120_000);
    const polled = (Date.now() - back) / 1000;
    const check = rpcPayload(
      'read',
      authParams({ scriptName: DEFAULT_SCRIPT.name, apiKey: DEFAULT_SCRIPT.key }),
      readParams('Shot', [{ path: 'id', relation: 'is', values: [shots[0].id] }], ['description']),
    );
    await until(async () => {
      const r = await cache.rpc(check);
      return r.headers.get('x-fpt-cache') === 'hit' && !r.headers.get('x-fpt-cache-stale') && (await r.text()).includes('after the outage');
    }, 120_000);
    const visible = (Date.now() - back) / 1000;
    lines.push(
      `| recovery: first successful poll after the site came back | **${polled.toFixed(1)} s** (POLL_INTERVAL_MS 1000; site probes back off to at most 5 s) |`,
    );
    lines.push(`| recovery: a change written as it came back, visible as a fresh hit | **${visible.toFixed(1)} s** |`);
    await cache.stop();
  } finally {
    ctx.destroy();
    ddb.destroy();
    await site.close();
    await sqs.close();
    await ddbLocal.stop();
  }
  const out = [
    '## Outages (bench/outage.ts)',
    '',
    `One run, ${entities} entities; this machine is shared with other work (2 cores, noisy): compare, do not quote as AWS figures.`,
    '',
    '| what | figure |',
    '|---|---|',
    ...lines,
    '',
  ].join('\n');
  return out;
}

async function startCache(env: Record<string, string>, sqs: Awaited<ReturnType<typeof startLocalSqs>>, logger: Logger) {
  const sync = new MemorySyncMetrics();
  const consumer = await createConsumerHandler(env, { metrics: sync, logger });
  const events = startSqsEventSource({
    endpoint: sqs.endpoint,
    queueUrl: sqs.queueUrl,
    dlqUrl: sqs.dlqUrl,
    fn: { name: 'consumer', timeoutMs: 30_000 },
    handler: consumer,
    batchSize: 10,
    maxConcurrency: 5,
  });
  const poller = await createPollerHandler(env, { metrics: sync, logger, triggerImport: async () => {} });
  const scheduler = startScheduler([{ fn: { name: 'poller', timeoutMs: 70_000 }, handler: poller, everyMs: 1000 }]);
  const gw = await startLocalApiGateway({ port: 0, fn: API_FUNCTION.fn, handler: createApiHandler(apiDepsFromEnv(env, logger, new MemoryApiMetrics())) });
  return {
    drained: () => {
      const s = events.stats();
      return s.buffered === 0 && s.inFlightBatches === 0;
    },
    rpc: (payload: unknown) => fetch(`${gw.url}/api3/json`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) }),
    async stop() {
      await scheduler.stop();
      await events.stop();
      await gw.close();
    },
  };
}

async function until(probe: () => Promise<boolean> | boolean, deadlineMs: number): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error('bench: timed out');
    await sleep(50);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [e, g, o] = process.argv.slice(2).map(Number);
  benchOutage(e || undefined, g || undefined, o || undefined).then(
    (s) => {
      process.stdout.write(`${s}\n`);
      process.exit(0);
    },
    (err) => {
      process.stderr.write(`${(err as Error).stack}\n`);
      process.exit(1);
    },
  );
}
