// Benchmark of event bursts: the consumer as npm start runs it (grouped writes, 5 batches in flight) against step-by-step writes and against 20 batches in flight, in one run; CPU per event of each process, and DynamoDB Local's own floor.
//
//   npm run bench -- burst          (BURST_SITE=50000 entities, BURST_EVENTS=1500 per round, 2 rounds per variant)
//
// Everything is real and on this machine: the simulated site (no latency), DynamoDB Local in memory, the local SQS
// with the FIFO event-source emulation (batches of 10, 5 or 20 in flight), the poller every second, the consumer's handler.
import { cpus } from 'node:os';
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  CreateTableCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { batchParams, readParams as read, ShotgunClient, wireCondition as cond } from '../shared/site/index.js';
import { loadCachedSchema } from '../shared/schema/index.js';
import { createTableInput, edgeKey, ENTITIES_TABLE, entityWriteSet, pool, type TableNames } from '../shared/store/index.js';
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

const SITE = Number(process.env.BURST_SITE ?? 50_000);
const EVENTS = Number(process.env.BURST_EVENTS ?? 1500);
const ROUNDS = 2;
/** Step by step and grouped at npm start's (and the CDK's default) 5 batches in flight, grouped at 20. */
const VARIANTS: ReadonlyArray<[Round['mode'], number]> = [
  ['off', 5],
  ['transact', 5],
  ['transact', 20],
];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Round {
  mode: 'transact' | 'off';
  /** Batches in flight (the event source's MaximumConcurrency). */
  inFlight: number;
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
    const burst = async (mode: Round['mode'], inFlight: number, n: number): Promise<Round> => {
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
        maxConcurrency: inFlight,
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
        inFlight,
        events: n,
        rate: n / s,
        nodeMs: (node.user + node.system) / 1000 / n,
        dynamoMs: (dynamoS * 1000) / n,
        callsPerEvent: calls.total() / n,
      };
      process.stderr.write(`burst: ${JSON.stringify(r)}\n`);
      return r;
    };
    await burst('transact', 5, 1000); // warm-up (the JVM's JIT, the SDK's clients), not reported
    const rounds: Round[] = [];
    for (let i = 0; i < ROUNDS; i++) for (const [mode, inFlight] of VARIANTS) rounds.push(await burst(mode, inFlight, EVENTS));

    const floor = await dynamoFloor(ddb, tables, ddbLocal.pid!);
    return section(rounds, imported.written, floor);
  } finally {
    for (const s of stops.reverse()) await s();
    await close();
    await site.close();
    await ddbLocal.stop();
  }
}

interface Floor {
  /** DynamoDB Local's CPU per event, ms, and the cores it used doing it. */
  msPerEvent: number;
  cores: number;
  /** The same with the entity items in a table without the read indexes (GSIs). */
  plainMsPerEvent: number;
}

/**
 * DynamoDB Local's CPU for the least one event needs, nothing else: its stored entity item read (BatchGetItem of 10,
 * consistent), then the entity put under its lock with one edge added and one removed (the store's own entityWriteSet,
 * 10 events a TransactWriteItems), 8 calls at once; no site, queue, counters or markers. Then the same with the entity
 * items in a table without the read indexes (what the indexes cost of it).
 */
async function dynamoFloor(ddb: DynamoDBClient, tables: TableNames, pid: number): Promise<Floor> {
  const q = await ddb.send(
    new QueryCommand({
      TableName: tables.entities,
      IndexName: 'byType',
      KeyConditionExpression: 't = :t',
      ExpressionAttributeValues: { ':t': { S: 'Task' } },
      Limit: 2000,
    }),
  );
  const keys = (q.Items ?? []).map((it) => ({ pk: it.pk, sk: it.sk }));
  const plain = `${tables.entities}-floor-plain`;
  await ddb.send(new CreateTableCommand(createTableInput({ ...ENTITIES_TABLE, indexes: [] }, plain)));
  for (let i = 0; i < (q.Items ?? []).length; i += 25) {
    await ddb.send(new BatchWriteItemCommand({ RequestItems: { [plain]: q.Items!.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
  }
  const run = async (table: string, pass: number) => {
    const groups: (typeof keys)[] = [];
    for (let i = 0; i < keys.length; i += 10) groups.push(keys.slice(i, i + 10));
    const c0 = cpuSeconds(pid);
    const t0 = Date.now();
    // Edges of users no one else links to, apart for each table (their `ev` follows that table's entity items).
    const user = (k: number) => ({ type: 'HumanUser', id: (table === plain ? 900_010 : 900_000) + ((pass + k) % 2) });
    await pool(groups, 8, async (g) => {
      const got = (await ddb.send(new BatchGetItemCommand({ RequestItems: { [table]: { Keys: g, ConsistentRead: true } } }))).Responses?.[table] ?? [];
      const sets = got.map((cur) => {
        const w = Number(cur.w.N) + 1;
        const id = Number(cur.id.N);
        const entityPut = {
          TableName: table,
          Item: { ...cur, w: { N: String(w) } },
          ConditionExpression: 'w = :w',
          ExpressionAttributeValues: { ':w': cur.w },
        };
        const added = [{ ...edgeKey('Task', id, 'updated_by', user(1)), ev: { N: String(w) } }];
        return entityWriteSet(tables, { entityPut, chunks: [], added, removed: [edgeKey('Task', id, 'updated_by', user(0))], oldChunks: [], w });
      });
      await ddb.send(new TransactWriteItemsCommand({ TransactItems: sets.flatMap((x) => x.ops) }));
    });
    return { ms: ((cpuSeconds(pid) - c0) * 1000) / keys.length, cores: (cpuSeconds(pid) - c0) / ((Date.now() - t0) / 1000) };
  };
  await run(tables.entities, 0); // warm-up
  const indexed = await run(tables.entities, 1);
  await run(plain, 0);
  const bare = await run(plain, 1);
  return { msPerEvent: indexed.ms, cores: indexed.cores, plainMsPerEvent: bare.ms };
}

function section(rounds: Round[], imported: number, floor: Floor): string {
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const of = ([mode, inFlight]: readonly [Round['mode'], number]) => rounds.filter((r) => r.mode === mode && r.inFlight === inFlight);
  const label = ([mode, inFlight]: readonly [Round['mode'], number]) =>
    `${mode === 'transact' ? 'grouped' : 'step by step'}, ${inFlight} in flight${mode === 'transact' && inFlight === 5 ? ' (npm start)' : ''}`;
  const row = (v: readonly [Round['mode'], number]) => {
    const rs = of(v);
    return `| ${label(v)} | ${rs.map((r) => Math.round(r.rate)).join(', ')} | ${med(rs.map((r) => r.callsPerEvent)).toFixed(2)} | ${med(rs.map((r) => r.nodeMs)).toFixed(2)} | ${med(rs.map((r) => r.dynamoMs)).toFixed(2)} |`;
  };
  const rate = (v: readonly [Round['mode'], number]) => med(of(v).map((r) => r.rate));
  const g = of(['transact', 5]);
  const cpu = med(g.map((r) => r.nodeMs)) + med(g.map((r) => r.dynamoMs));
  const cores = cpus().length;
  return [
    '## Event bursts',
    '',
    `A site of ${imported} entities (studio mix), imported; rounds of ${rounds[0]?.events ?? 0} single-field updates of distinct Tasks written through the site's \`batch\` (each moves \`updated_by\` to the script: an edge put and one deleted), the poller every second, the consumer behind the FIFO emulation (batches of 10). The variants alternate in one run, after a warm-up round. CPU is per applied event: this Node process (the consumer, the poller, the simulated site and the local SQS all run in it) and DynamoDB Local's JVM.`,
    '',
    '| consumer | events/s (each round) | DynamoDB calls per event (consumer) | Node CPU ms/event | DynamoDB Local CPU ms/event |',
    '|---|---|---|---|---|',
    ...VARIANTS.map(row),
    '',
    `- Grouped / step by step at 5 in flight, events/s: **${(rate(['transact', 5]) / rate(['off', 5])).toFixed(2)}x**; 20 in flight / 5 in flight, grouped: **${(rate(['transact', 20]) / rate(['transact', 5])).toFixed(2)}x**.`,
    `- At npm start's settings both processes spend ${cpu.toFixed(1)} ms of CPU per event: 500 events/s would take ${((cpu * 500) / 1000).toFixed(1)} cores; this machine has ${cores}.`,
    `- DynamoDB Local's floor: the least one event needs and nothing else (its entity item read; the put under its lock with an edge added and one removed, 10 events a transaction, 8 calls at once; no site, queue, counters or markers) costs it **${floor.msPerEvent.toFixed(2)} ms of CPU per event**, and with 8 calls in flight it used **${floor.cores.toFixed(2)} cores** (it serves requests largely one at a time): at most **~${Math.round((1000 * floor.cores) / floor.msPerEvent)} events/s** from DynamoDB Local, whatever the consumer does and with Node needing no CPU at all. The same with the entity items in a table without the read indexes: ${floor.plainMsPerEvent.toFixed(2)} ms (~${Math.round((1000 * floor.cores) / floor.plainMsPerEvent)} events/s).`,
    '',
  ].join('\n');
}
