// Benchmark of the cache against site size: import, an event burst, reads per shape, reconcile and validation, items and RCUs per read, memory; from 10k entities up.
//
//   npm run bench -- --scale [sizes=10000,100000]        (SCALE_SIZES=10000,100000,1000000; SCALE_BURST=5000; SCALE_EVENT_HISTORY=3;
//                                                          SCALE_DDB=disk for a file-backed DynamoDB Local, as npm start uses)
//
// At 1M: DYNAMODB_HEAP=2g (DynamoDB Local's in-memory tables are SQLite in native memory, ~6.5 KB per entity with the
// entities table's ALL-projected indexes; its live heap stays ~150 MB, a larger -Xmx only lets garbage pile up) and
// NODE_OPTIONS=--max-old-space-size=6144 (the site alone holds ~1.9 GB of heap at 1M).
//
// Everything is real and on this machine: the simulated site over HTTP (no latency), DynamoDB Local, the local SQS with
// the FIFO event-source emulation, the functions' own handlers. Each size gets fresh processes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { batchParams, firstPage, readParams as read, ShotgunClient, wireCondition as cond } from '../shared/site/index.js';
import { loadCachedSchema } from '../shared/schema/index.js';
import { MemorySyncMetrics, syncContextFromEnv, validatorFor } from '../shared/sync/index.js';
import { ensureTables, tableNames } from '../shared/store/index.js';
import { benchStores, importAlone } from './fixtures.js';
import { ReadEngine } from '../shared/query/index.js';
import { createConsumerHandler } from '../functions/consumer/app.js';
import { createPollerHandler } from '../functions/poller/app.js';
import { createReconcileRunner } from '../functions/reconciler/app.js';
import { startDynamoDbLocal } from '../local/dynamodb-local.js';
import { freePort } from '../local/ports.js';
import { startScheduler } from '../local/scheduler.js';
import { DEFAULT_SCRIPT } from '../local/sim/credentials.js';
import { startSimSite } from '../local/sim/server.js';
import type { SeedMix } from '../local/sim/seed.js';
import { startSqsEventSource } from '../local/sqs-event-source.js';
import { measure } from './measure.js';
import { cpuS, rssAfterGcMB, rssMB } from './process-stats.js';
import { scaleSection } from './scale-section.js';

type Row = Record<string, any>;
type Params = Record<string, unknown>;

export interface ScaleRun {
  size: number;
  entities: number;
  seedS: number;
  importS: number;
  importRate: number;
  /** CPU per imported entity (ms): this process (site and importer) and DynamoDB Local. */
  importCpuMs: { node: number; dynamo: number };
  burst: { events: number; writesS: number; appliedS: number; rate: number; siteReads: number };
  reads: Array<{ shape: string; returned: number; items: number; rcu: number; p50: number; p99: number }>;
  reconcileS: number;
  validateS: number;
  rssNodeMB: number;
  rssDynamoMB: number;
  /** DynamoDB Local after a full GC of its JVM: its tables (native memory) and live heap. */
  rssDynamoGcMB: number;
}

/** The sim's mix of types (local/sim/seed.ts MIXES): a studio's by default. */
const MIX = (process.env.SCALE_MIX ?? 'studio') as SeedMix;
/** EventLogEntry history rows per entity on the simulated site (local/sim/event-history.ts): a studio's years of log. */
const HISTORY = Number(process.env.SCALE_EVENT_HISTORY ?? 3);
/** Timed reads per shape. */
const READS = Number(process.env.SCALE_READS ?? 50);
const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec));
/** One line on stderr of where memory stands (this process: RSS and V8 heap; DynamoDB Local: RSS). */
const memLine = (size: number, phase: string, ddbPid: number | undefined) =>
  process.stderr.write(
    `scale ${size}: ${phase}: rss ${rssMB(process.pid, true)} MB, heap ${Math.round(process.memoryUsage().heapUsed / 2 ** 20)} MB, DynamoDB Local rss ${rssMB(ddbPid)} MB\n`,
  );

/** One size: fresh site, DynamoDB Local, queue and tables; everything measured in this one run. */
export async function scaleRun(size: number, burstEvents: number, disk: boolean): Promise<ScaleRun> {
  const quiet = new Logger({ serviceName: 'bench', logLevel: 'CRITICAL' });
  const schema = loadCachedSchema('schema/default.yml');
  const dataDir = disk ? mkdtempSync(join(process.env.SCALE_DDB_DIR ?? tmpdir(), 'fpt-scale-')) : undefined;
  const ddbLocal = await startDynamoDbLocal({ port: await freePort(), timeoutMs: 180_000, ...(dataDir ? { dataDir } : {}) });
  let t0 = Date.now();
  const site = await startSimSite({ port: 0, entities: size, mix: MIX, eventHistory: HISTORY });
  const seedS = (Date.now() - t0) / 1000;
  memLine(size, `seeded in ${seedS.toFixed(1)} s`, ddbLocal.pid);
  const { sqs, env, close } = await benchStores(site.url, ddbLocal.endpoint, `scale-${size}-`);
  const stops: Array<() => Promise<unknown> | unknown> = [];
  try {
    const ctx = await syncContextFromEnv(env, { schema });
    stops.push(() => ctx.destroy());
    const entities = Object.entries(site.control.stats().entities as Record<string, number>)
      .filter(([t]) => schema.site.hasType(t))
      .reduce((n, [, c]) => n + c, 0);

    // 1. Import (the importer alone, as `fpt-cache import` runs it).
    const importer = importAlone(ctx);
    t0 = Date.now();
    const cpu0 = { node: cpuS(process.pid, true), dynamo: cpuS(ddbLocal.pid) };
    let last = 0;
    const imported = await importer.run({
      onProgress: (p) => {
        if (Date.now() - last < 30_000) return;
        last = Date.now();
        memLine(size, `imported ${p.done}/${p.total}`, ddbLocal.pid);
      },
    });
    const importS = (Date.now() - t0) / 1000;
    const importCpuMs = {
      node: ((cpuS(process.pid, true) - cpu0.node) * 1000) / Math.max(1, imported.written),
      dynamo: ((cpuS(ddbLocal.pid) - cpu0.dynamo) * 1000) / Math.max(1, imported.written),
    };
    process.stderr.write(`scale ${size}: import CPU per entity ${importCpuMs.node.toFixed(2)} ms here, ${importCpuMs.dynamo.toFixed(2)} ms DynamoDB Local\n`);
    process.stderr.write(`scale ${size}: imported ${imported.written} in ${importS.toFixed(0)} s\n`);
    memLine(size, 'imported', ddbLocal.pid);
    if (!imported.complete) throw new Error(`import of ${size} did not complete`);

    // 2. A burst: `burstEvents` single-field updates of distinct Tasks through the site's batch, the poller every second,
    //    the consumer behind the FIFO emulation (batches of 10, 5 at once, as in npm start).
    const metrics = new MemorySyncMetrics();
    const consumer = await createConsumerHandler(env, { metrics, logger: quiet, ctx });
    const es = startSqsEventSource({
      endpoint: sqs.endpoint,
      queueUrl: sqs.queueUrl,
      dlqUrl: sqs.dlqUrl,
      fn: { name: 'consumer', timeoutMs: 60_000 },
      handler: consumer,
      maxBuffered: 2000,
    });
    stops.push(() => es.stop());
    const poller = await createPollerHandler(env, { metrics, logger: quiet });
    const scheduler = startScheduler([{ fn: { name: 'poller', timeoutMs: 70_000 }, handler: poller, everyMs: 1000 }]);
    stops.push(() => scheduler.stop());
    const sg = new ShotgunClient({ url: site.url, scriptName: DEFAULT_SCRIPT.name, scriptKey: DEFAULT_SCRIPT.key });
    const tasks: number[] = [];
    for (let after = 0; tasks.length < burstEvents;) {
      const page = (
        await sg.call<{ entities: Row[] }>(
          'read',
          read('Task', [cond('id', 'greater_than', after)], ['id'], { sorts: [{ field_name: 'id', direction: 'asc' }] }),
        )
      ).entities;
      if (!page.length) break;
      tasks.push(...page.map((t) => t.id as number));
      after = page[page.length - 1].id;
    }
    const n = Math.min(burstEvents, tasks.length);
    while (!(await sleep(200), metrics.total('PollerHeartbeat'))) {
      /* the poller has its cursor */
    }
    site.control.resetStats();
    t0 = Date.now();
    for (let i = 0; i < n; i += 100) {
      await sg.call(
        'batch',
        batchParams(
          tasks
            .slice(i, Math.min(n, i + 100))
            .map((id, j) => ({ request_type: 'update' as const, entity_type: 'Task', entity_id: id, data: { sg_description: `burst ${i + j}` } })),
        ),
      );
    }
    const writesS = (Date.now() - t0) / 1000;
    process.stderr.write(`scale ${size}: ${n} writes in ${writesS.toFixed(1)} s\n`);
    for (let i = 0; metrics.total('EventsApplied') < n; i++) {
      await sleep(50);
      if (i % 200 === 0)
        process.stderr.write(
          `scale ${size}: applied ${metrics.total('EventsApplied')}/${n}, forwarded ${metrics.total('EventsForwarded')}, dropped ${metrics.total('EventsDropped')}\n`,
        );
    }
    const appliedS = (Date.now() - t0) / 1000;
    const byMethod = site.control.stats().byMethod as Record<string, number>;
    const siteReads = byMethod.read ?? 0;
    await scheduler.stop();
    await es.stop();

    // 3. Reads of each shape through the read engine (in-process, as the API function runs it).
    const ready = await ctx.readiness.load();
    const engine = new ReadEngine(ctx.store, schema, { readiness: () => ready });
    const first = async (type: string, conditions: unknown[], fields: string[]) =>
      (await sg.call<{ entities: Row[] }>('read', read(type, conditions, fields, firstPage(1)))).entities[0];
    const shot = await first('Shot', [cond('tasks', 'is_not', null), cond('sg_sequence', 'is_not', null)], ['project', 'sg_sequence']);
    const version = await first('Version', [], ['project']);
    const shapes: Array<{ name: string; params: Params }> = [
      { name: 'Version by id', params: read('Version', [cond('id', 'is', version.id)], ['code', 'entity', 'project', 'sg_status_list', 'user'], firstPage(1)) },
      {
        name: "a project's Versions, first page of 100",
        params: read('Version', [cond('project', 'is', version.project)], ['code', 'sg_status_list', 'entity'], {
          paging: { entities_per_page: 100, current_page: 1 },
          sorts: [{ field_name: 'id', direction: 'asc' }],
        }),
      },
      {
        name: "a Shot's Tasks (link)",
        params: read('Task', [cond('entity', 'is', { type: 'Shot', id: shot.id })], ['content', 'step', 'sg_status_list', 'task_assignees']),
      },
      {
        name: "deep: Tasks of a Sequence's Shots",
        params: read('Task', [cond('project', 'is', shot.project), cond('entity.Shot.sg_sequence', 'is', shot.sg_sequence)], ['content', 'entity', 'step']),
      },
    ];
    process.stderr.write(`scale ${size}: burst applied in ${appliedS.toFixed(1)} s\n`);
    const reads: ScaleRun['reads'] = [];
    for (const s of shapes) {
      const probe = await engine.read(s.params);
      if (!probe.served) throw new Error(`${s.name} was not servable: ${probe.reason}`);
      const m = await measure(() => engine.read(s.params), { iterations: READS, warmup: 3 });
      reads.push({ shape: s.name, returned: probe.result.entities.length, items: probe.stats.items, rcu: probe.stats.rcu, p50: m.p50, p99: m.p99 });
    }

    // 4. One reconcile pass (updated_at scans of every type; the id sweep, which runs once a day, with SCALE_SWEEP=1)
    //    and one validation (counts + the 20 most recently updated per type).
    process.stderr.write(`scale ${size}: reads done; reconcile ...\n`);
    t0 = Date.now();
    await createReconcileRunner({ ctx, metrics, logger: quiet }).reconciler.run({
      sweep: process.env.SCALE_SWEEP === '1' ? 'always' : 'never',
      schemaDiff: 'never',
      calibration: 'never',
    });
    const reconcileS = (Date.now() - t0) / 1000;
    t0 = Date.now();
    await validatorFor(ctx).run({ recheckMs: 0 });
    const validateS = (Date.now() - t0) / 1000;
    process.stderr.write(`scale ${size}: reconcile ${reconcileS.toFixed(1)} s, validate ${validateS.toFixed(1)} s\n`);

    return {
      size,
      entities,
      seedS,
      importS,
      importRate: imported.written / importS,
      importCpuMs,
      burst: { events: n, writesS, appliedS, rate: n / appliedS, siteReads },
      reads,
      reconcileS,
      validateS,
      rssNodeMB: rssMB(process.pid, true),
      rssDynamoMB: rssMB(ddbLocal.pid),
      rssDynamoGcMB: rssAfterGcMB(ddbLocal.pid),
    };
  } finally {
    for (const s of stops.reverse()) await s();
    await close();
    await site.close();
    await ddbLocal.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The import alone into a fresh DynamoDB Local, in memory or file-backed (what `npm start` runs): entities/s. */
export async function importOnly(size: number, disk: boolean): Promise<number> {
  const schema = loadCachedSchema('schema/default.yml');
  const dataDir = disk ? mkdtempSync(join(process.env.SCALE_DDB_DIR ?? tmpdir(), 'fpt-scale-')) : undefined;
  const ddbLocal = await startDynamoDbLocal({ port: await freePort(), timeoutMs: 180_000, ...(dataDir ? { dataDir } : {}) });
  const site = await startSimSite({ port: 0, entities: size, mix: MIX, eventHistory: HISTORY });
  const tables = tableNames(`scale-import-${size}-`);
  const ddb = new DynamoDBClient({ endpoint: ddbLocal.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    await ensureTables(ddb, tables);
    const ctx = await syncContextFromEnv(
      {
        SHOTGUN_URL: site.url,
        SHOTGUN_SCRIPT_NAME: DEFAULT_SCRIPT.name,
        SHOTGUN_SCRIPT_KEY: DEFAULT_SCRIPT.key,
        ENTITIES_TABLE: tables.entities,
        STATE_TABLE: tables.state,
        REFS_TABLE: tables.refs,
        AWS_ENDPOINT_URL_DYNAMODB: ddbLocal.endpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
      },
      { schema },
    );
    const importer = importAlone(ctx);
    const t0 = Date.now();
    const r = await importer.run();
    const rate = r.written / ((Date.now() - t0) / 1000);
    ctx.destroy();
    return rate;
  } finally {
    ddb.destroy();
    await site.close();
    await ddbLocal.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function benchScale(sizes = (process.env.SCALE_SIZES ?? '10000,100000').split(',').map(Number)): Promise<string> {
  const disk = process.env.SCALE_DDB === 'disk';
  const burst = Number(process.env.SCALE_BURST ?? 5000);
  const runs: ScaleRun[] = [];
  for (const size of sizes) {
    process.stderr.write(`scale: ${size} ...\n`);
    const r = await scaleRun(size, burst, disk);
    process.stderr.write(`scale: ${JSON.stringify(r)}\n`);
    runs.push(r);
  }
  let storage: { size: number; memory: number; file: number } | undefined;
  if (process.env.SCALE_STORAGE !== 'skip') {
    const size = sizes[0];
    process.stderr.write(`scale: import of ${size}, in memory then file-backed ...\n`);
    storage = { size, memory: await importOnly(size, false), file: await importOnly(size, true) };
    process.stderr.write(`scale: ${JSON.stringify(storage)}\n`);
  }
  return scaleSection(runs, { disk, mix: MIX, reads: READS, sweep: process.env.SCALE_SWEEP === '1' }, storage);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await benchScale(process.argv[2] ? process.argv[2].split(',').map(Number) : undefined));
}
