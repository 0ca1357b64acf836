// Benchmark of event bursts: the consumer with grouped writes (npm start's setting) against step-by-step writes in the same run, CPU per event of each process, and DynamoDB Local's own floor.
//
//   npm run bench -- burst          (BURST_SITE=40000 entities, BURST_EVENTS=1500 per round, 2 rounds per mode)
//
// Everything is real and on this machine: the simulated site (no latency), DynamoDB Local in memory, the local SQS
// with the FIFO event-source emulation (batches of 10, 5 in flight), the poller every second, the consumer's handler.
import { cpus } from 'node:os';
import { BatchWriteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { batchParams, readParams as read, ShotgunClient, wireCondition as cond } from '../shared/site/index.js';
import { loadCachedSchema } from '../shared/schema/index.js';
import { MemorySyncMetrics, syncContextFromEnv, type SyncContext } from '../shared/sync/index.js';
import { benchStores, importAlone } from './fixtures.js';
import { createConsumerHandler } from '../functions/consumer/app.js';
import { createPollerHandler } from '../functions/poller/app.js';
import { startDynamoDbLocal } from '../local/dynamodb-local.js';
import { freePort } from '../local/ports.js';
import { startScheduler } from '../local/scheduler.js';
import { DEFAULT_SCRIPT } from '../local/sim/credentials.js';
import { startSimSite } from '../local/sim/server.js';
import { startSqsEventSource } from '../local/sqs-event-source.js';
import { cpuS as cpuSeconds } from './process-stats.js';

const SITE = Number(process.env.BURST_SITE ?? 40_000);
const EVENTS = Number(process.env.BURST_EVENTS ?? 1500);
const ROUNDS = 2;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Round {
  mode: 'transact' | 'off';
  events: number;
  rate: number;
  nodeMs: number;
  dynamoMs: number;
  callsPerEvent: number;
}

/** Counts the DynamoDB calls a client makes (the consumer's own; the poller has its client). */
function countCalls(ctx: SyncContext): { total: () => number } {
  let n = 0;
  ctx.ddb.middlewareStack.add(
    (next) => (args) => {
      n++;
      return next(args);
    },
    { step: 'initialize', name: 'benchCallCounter' },
  );
  return { total: () => n };
}

export async function benchBurst(): Promise<string> {
  const quiet = new Logger({ serviceName: 'bench', logLevel: 'CRITICAL' });
  const schema = loadCachedSchema('schema/default.yml');
  const ddbLocal = await startDynamoDbLocal({ port: await freePort(), timeoutMs: 180_000 });
  const site = await startSimSite({ port: 0, entities: SITE, mix: 'studio' });
  const { sqs, tables, ddb, env: base, close } = await benchStores(site.url, ddbLocal.endpoint, 'burst-');
  const stops: Array<() => Promise<unknown> | unknown> = [];
  try {
    const importCtx = await syncContextFromEnv(base, { schema });
    stops.push(() => importCtx.destroy());
    const imported = await importAlone(importCtx).run({});
    const metrics = new MemorySyncMetrics();
    const poller = await createPollerHandler(base, { metrics, logger: quiet });
    const scheduler = startScheduler([{ fn: { name: 'poller', timeoutMs: 70_000 }, handler: poller, everyMs: 1000 }]);
    stops.push(() => scheduler.stop());
    const sg = new ShotgunClient({ url: site.url, scriptName: DEFAULT_SCRIPT.name, scriptKey: DEFAULT_SCRIPT.key });
    const tasks: number[] = [];
    for (let after = 0; ;) {
      const page = (
        await sg.call<{ entities: Array<{ id: number }> }>(
          'read',
          read('Task', [cond('id', 'greater_than', after)], ['id'], { sorts: [{ field_name: 'id', direction: 'asc' }] }),
        )
      ).entities;
      if (!page.length) break;
      tasks.push(...page.map((t) => t.id));
      after = page[page.length - 1].id;
    }
    while (!(await sleep(200), metrics.total('PollerHeartbeat'))) {
      /* the poller has its cursor */
    }

    /** One burst of `n` updates of distinct Tasks, applied by a consumer whose store groups its writes or not. */
    let round = 0;
    let used = 0;
    const burst = async (mode: Round['mode'], n: number): Promise<Round> => {
      const ctx = await syncContextFromEnv({ ...base, STORE_WRITE_GROUPING: mode }, { schema });
      const calls = countCalls(ctx);
      const applied = new MemorySyncMetrics();
      const es = startSqsEventSource({
        endpoint: sqs.endpoint,
        queueUrl: sqs.queueUrl,
        dlqUrl: sqs.dlqUrl,
        fn: { name: 'consumer', timeoutMs: 60_000 },
        handler: await createConsumerHandler(base, { metrics: applied, logger: quiet, ctx }),
        maxBuffered: 2000,
      });
      // Tasks no earlier round touched: each update moves `updated_by` to the script (an edge put and delete), as a
      // script's first pass over them does.
      const ids = tasks.slice(used, used + n);
      if (ids.length < n) throw new Error(`the site has ${tasks.length} Tasks; BURST_SITE must be larger for these rounds`);
      used += n;
      round++;
      const node0 = process.cpuUsage();
      const dynamo0 = cpuSeconds(ddbLocal.pid!);
      const t0 = Date.now();
      for (let i = 0; i < n; i += 100) {
        const slice = ids.slice(i, i + 100);
        await sg.call(
          'batch',
          batchParams(
            slice.map((id) => ({ request_type: 'update' as const, entity_type: 'Task', entity_id: id, data: { sg_description: `burst ${round} ${id}` } })),
          ),
        );
      }
      while (applied.total('EventsApplied') < n) await sleep(20);
      const s = (Date.now() - t0) / 1000;
      const node = process.cpuUsage(node0);
      const dynamoS = cpuSeconds(ddbLocal.pid!) - dynamo0;
      await es.stop();
      ctx.destroy();
      const r: Round = {
        mode,
        events: n,
        rate: n / s,
        nodeMs: (node.user + node.system) / 1000 / n,
        dynamoMs: (dynamoS * 1000) / n,
        callsPerEvent: calls.total() / n,
      };
      process.stderr.write(`burst: ${JSON.stringify(r)}\n`);
      return r;
    };
    await burst('transact', 1000); // warm-up (the JVM's JIT, the SDK's clients), not reported
    const rounds: Round[] = [];
    for (let i = 0; i < ROUNDS; i++) for (const mode of ['off', 'transact'] as const) rounds.push(await burst(mode, EVENTS));

    // DynamoDB Local's floor: the items one such event writes at the least (the entity item, the updated_by edge put and
    // the old one deleted, the pending marker put and deleted), sent as plain BatchWriteItem of 25, nothing else.
    const floor = await dynamoFloor(ddb, tables.refs, ddbLocal.pid!);
    return section(rounds, imported.written, floor);
  } finally {
    for (const s of stops.reverse()) await s();
    await close();
    await site.close();
    await ddbLocal.stop();
  }
}

/** DynamoDB Local's CPU per event when it only stores 5 item writes an event at its cheapest (BatchWriteItem of 25, 8 calls at once). */
async function dynamoFloor(ddb: DynamoDBClient, table: string, pid: number): Promise<{ cpuMsPerEvent: number }> {
  const n = 3000;
  const item = (i: number) => ({ pk: { S: `Floor#${i % 7}` }, sk: { S: `f#${i}` }, ev: { N: '1' }, v: { S: 'x'.repeat(600) } });
  const writes = Array.from({ length: n * 5 }, (_, i) => item(i));
  const batches: (typeof writes)[] = [];
  for (let i = 0; i < writes.length; i += 25) batches.push(writes.slice(i, i + 25));
  const c0 = cpuSeconds(pid);
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < batches.length) {
        const b = batches[next++];
        await ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: b.map((Item) => ({ PutRequest: { Item } })) } }));
      }
    }),
  );
  return { cpuMsPerEvent: ((cpuSeconds(pid) - c0) * 1000) / n };
}

function section(rounds: Round[], imported: number, floor: { cpuMsPerEvent: number }): string {
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const by = (mode: Round['mode']) => rounds.filter((r) => r.mode === mode);
  const row = (mode: Round['mode'], label: string) => {
    const rs = by(mode);
    return `| ${label} | ${rs.map((r) => Math.round(r.rate)).join(', ')} | ${med(rs.map((r) => r.callsPerEvent)).toFixed(2)} | ${med(rs.map((r) => r.nodeMs)).toFixed(2)} | ${med(rs.map((r) => r.dynamoMs)).toFixed(2)} |`;
  };
  const ratio = med(by('transact').map((r) => r.rate)) / med(by('off').map((r) => r.rate));
  const g = by('transact');
  const cpu = med(g.map((r) => r.nodeMs)) + med(g.map((r) => r.dynamoMs));
  return [
    '## Event bursts: grouped writes',
    '',
    `A site of ${imported} entities (studio mix), imported; rounds of ${rounds[0]?.events ?? 0} single-field updates of distinct Tasks written through the site's \`batch\`, the poller every second, the consumer behind the FIFO emulation (batches of 10, 5 in flight). Rounds alternate step-by-step and grouped writes (\`STORE_WRITE_GROUPING\`) in one run, after a warm-up round. CPU is per applied event: this Node process (the consumer, the poller, the simulated site and the local SQS all run in it) and DynamoDB Local's JVM.`,
    '',
    '| writes | events/s (each round) | DynamoDB calls per event (consumer) | Node CPU ms/event | DynamoDB Local CPU ms/event |',
    '|---|---|---|---|---|',
    row('off', 'step by step'),
    row('transact', 'grouped (npm start)'),
    '',
    `- Grouped / step by step, events/s: **${ratio.toFixed(2)}x**.`,
    `- Both processes together spend ${cpu.toFixed(1)} ms of CPU per event grouped: on this machine's ${cpus().length} cores that bounds a burst near ${Math.round((cpus().length * 1000) / cpu)} events/s however the work is spread.`,
    `- DynamoDB Local's floor: storing only the 5 item writes an event makes at the least (entity, edge put and delete, pending marker put and delete) as plain \`BatchWriteItem\` of 25 costs it ${floor.cpuMsPerEvent.toFixed(2)} ms of CPU per event: ${Math.round(1000 / floor.cpuMsPerEvent)} events/s if it had a core to itself and Node needed none.`,
    '',
  ].join('\n');
}
