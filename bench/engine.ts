// Benchmark of the read engine against DynamoDB Local, beside the same reads sent to the simulated site at 150 ms.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynamoDbLocal } from '../local/dynamodb-local.js';
import { freePort } from '../local/ports.js';
import { startSimSite } from '../local/sim/server.js';
import { DEFAULT_SCRIPT } from '../local/sim/credentials.js';
import { loadCachedSchema } from '../shared/schema/index.js';
import { EntityStore, Readiness, ensureTables, tableNames } from '../shared/store/index.js';
import { ReadEngine } from '../shared/query/index.js';
import { ShotgunClient, firstPage, readParams as read, wireCondition as cond } from '../shared/site/index.js';
import { importSite } from '../test/reads/importer.js';
import { projectWithShots } from './fixtures.js';
import { measure, ms, table } from './measure.js';

const SITE_LATENCY_MS = 150;
type Params = Record<string, unknown>;

export async function benchEngine(): Promise<string> {
  const ddbLocal = await startDynamoDbLocal({ port: await freePort() });
  const site = await startSimSite({ port: 0, entities: 2000, seed: 5 });
  const ddb = new DynamoDBClient({ endpoint: ddbLocal.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    const client = new ShotgunClient({ url: site.url, scriptName: DEFAULT_SCRIPT.name, scriptKey: DEFAULT_SCRIPT.key });
    const p100 = await projectWithShots(client, 'Bench100', 100);
    const p500 = await projectWithShots(client, 'Bench500', 500);
    const schema = loadCachedSchema('schema/default.yml');
    const names = tableNames('bench-engine-');
    await ensureTables(ddb, names);
    const store = new EntityStore(ddb, names, schema);
    await importSite(client, store, schema);
    const ready = Readiness.all(Object.fromEntries(schema.site.typeNames.map((t) => [t, Object.keys(schema.site.type(t)!.fields)])));
    const engine = new ReadEngine(store, schema, { readiness: () => ready });

    const withTasks = (await client.call<{ entities: Array<Record<string, any>> }>('read', read('Shot', [cond('tasks', 'is_not', null)], ['tasks']))).entities;
    const busiest = withTasks.reduce((a, b) => (b.tasks.length > a.tasks.length ? b : a));
    const shot = { type: 'Shot', id: busiest.id as number };
    const seq = (
      await client.call<{ entities: Array<Record<string, any>> }>(
        'read',
        read('Shot', [cond('sg_sequence', 'is_not', null)], ['sg_sequence', 'project'], firstPage(1)),
      )
    ).entities[0];
    const shapes: Array<{ name: string; params: Params }> = [
      { name: 'find_one Shot by id', params: read('Shot', [cond('id', 'is', shot.id)], ['code', 'sg_sequence', 'project', 'sg_status_list'], firstPage(1)) },
      { name: "a project's Shots (100)", params: read('Shot', [cond('project', 'is', p100)], ['code', 'sg_status_list', 'sg_sequence', 'description']) },
      { name: "a project's Shots (500)", params: read('Shot', [cond('project', 'is', p500)], ['code', 'sg_status_list', 'sg_sequence', 'description']) },
      { name: "a Shot's Tasks", params: read('Task', [cond('entity', 'is', shot)], ['content', 'step', 'sg_status_list', 'task_assignees', 'due_date']) },
      {
        name: "deep field: Tasks of a Sequence's Shots",
        params: read(
          'Task',
          [cond('project', 'is', seq.project), cond('entity.Shot.sg_sequence', 'is', seq.sg_sequence)],
          ['content', 'entity', 'entity.Shot.code', 'step'],
        ),
      },
    ];
    const rows: Array<Array<string | number>> = [];
    for (const s of shapes) {
      const probe = await engine.read(s.params);
      if (!probe.served) throw new Error(`${s.name} was not servable: ${probe.reason}`);
      const returned = probe.result.entities.length;
      const cache = await measure(() => engine.read(s.params), { iterations: 200, warmup: 10 });
      site.control.setLatency(SITE_LATENCY_MS);
      const direct = await measure(() => client.call('read', s.params), { iterations: 15, warmup: 1 });
      site.control.setLatency(0);
      rows.push([
        s.name,
        returned,
        probe.access,
        probe.stats.items,
        (probe.stats.items / Math.max(1, returned)).toFixed(2),
        probe.stats.rcu.toFixed(1),
        ms(cache.p50),
        ms(cache.p99),
        ms(direct.p50),
        ms(direct.p99),
        `${(direct.p50 / cache.p50).toFixed(0)}x`,
      ]);
    }
    return [
      '## Read engine vs the site (issue: cached reads)',
      '',
      `Engine: \`ReadEngine.read\` in-process against DynamoDB Local (full JIT) over the imported simulated site (~2,600 entities plus two bench projects). Site: the same \`read\` over HTTP to the simulated site with ${SITE_LATENCY_MS} ms latency. 200 timed engine calls and 15 site calls per shape, sequential, after warm-up. "items" is what the engine read from DynamoDB for one call (ReturnConsumedCapacity / items returned), "RCU" the consumed read capacity.`,
      '',
      table(
        ['shape', 'entities', 'access', 'items read', 'items/entity', 'RCU', 'engine p50 ms', 'engine p99 ms', 'site p50 ms', 'site p99 ms', 'p50 speed-up'],
        rows,
      ),
      '',
    ].join('\n');
  } finally {
    ddb.destroy();
    await site.close();
    await ddbLocal.stop();
  }
}
