// Benchmark of the shadow verifier: verdicts per second through the local SQS and the verifier's own handler, against the simulated site at a realistic latency.
//
//   node --import tsx bench/shadow.ts   (or npm run bench -- shadow)
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createVerifierHandler } from '../functions/verifier/app.js';
import { startDynamoDbLocal } from '../local/dynamodb-local.js';
import { SHADOW_VERIFIER } from '../local/functions.js';
import { freePort } from '../local/ports.js';
import { DEFAULT_SCRIPT } from '../local/sim/credentials.js';
import { startSimSite } from '../local/sim/server.js';
import { startSqsEventSource } from '../local/sqs-event-source.js';
import { startLocalSqs } from '../local/sqs-local.js';
import { firstPage, readParams as read, wireCondition as cond, ShotgunClient } from '../shared/site/index.js';
import { loadCachedSchema } from '../shared/schema/index.js';
import { EntityStore, ReadinessStore, ensureTables, tableNames } from '../shared/store/index.js';
import { ReadEngine } from '../shared/query/index.js';
import { shadowSample, type ShadowSample, type ShadowVerdict, MemoryShadowMetrics } from '../shared/shadow/index.js';
import { importReadyCache } from '../test/reads/importer.js';
import { ms, percentile, table } from './measure.js';

const SAMPLES = 200;
const SITE_LATENCY_MS = 150;

export async function benchShadow(): Promise<string> {
  const ddbLocal = await startDynamoDbLocal({ port: await freePort() });
  const site = await startSimSite({ port: 0, entities: 300, seed: 13 });
  const sqs = await startLocalSqs({ port: 0 });
  const ddb = new DynamoDBClient({ endpoint: ddbLocal.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const sqsClient = new SQSClient({ endpoint: sqs.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    const schema = loadCachedSchema('schema/default.yml');
    const tables = tableNames('bench-shadow-');
    await ensureTables(ddb, tables);
    const client = new ShotgunClient({ url: site.url, scriptName: DEFAULT_SCRIPT.name, scriptKey: DEFAULT_SCRIPT.key });
    await importReadyCache(client, ddb, tables, schema);
    const store = new EntityStore(ddb, tables, schema);
    const readiness = new ReadinessStore(ddb, tables, schema);

    // What the API would have sampled: a Shot by id and a Shot's Tasks, answered by the read engine.
    const engine = new ReadEngine(store, schema, { readiness: () => readiness.load() });
    const shots = (await client.call<{ entities: Array<{ id: number }> }>('read', read('Shot', [], ['id'], firstPage(100)))).entities.map((e) => e.id);
    const samples: ShadowSample[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const shot = { type: 'Shot', id: shots[i % shots.length] };
      const params =
        i % 2 === 0
          ? read('Shot', [cond('id', 'is', shot.id)], ['code', 'sg_status_list', 'sg_sequence', 'description'])
          : read('Task', [cond('entity', 'is', shot)], ['content', 'sg_status_list', 'task_assignees', 'step']);
      const out = await engine.read(params);
      if (!out.served) throw new Error(`bench sample not served: ${out.reason}`);
      samples.push(shadowSample('read', params, out.result, out.access, Date.now(), 'script:bench'));
    }

    const env = {
      SHOTGUN_URL: site.url,
      SHOTGUN_SCRIPT_NAME: DEFAULT_SCRIPT.name,
      SHOTGUN_SCRIPT_KEY: DEFAULT_SCRIPT.key,
      ENTITIES_TABLE: tables.entities,
      STATE_TABLE: tables.state,
      REFS_TABLE: tables.refs,
      AWS_ENDPOINT_URL_DYNAMODB: ddbLocal.endpoint,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    };
    site.control.setLatency(SITE_LATENCY_MS);
    const rows: Array<Array<string | number>> = [];
    const rates: number[] = [];
    for (const concurrency of [2, 5]) {
      const verdicts: Array<ShadowVerdict & { at: number }> = [];
      const metrics = new MemoryShadowMetrics();
      const handler = await createVerifierHandler(env, {
        metrics,
        logger: new Logger({ serviceName: 'bench', logLevel: 'CRITICAL' }),
        onVerdict: (v) => {
          verdicts.push({ ...v, at: performance.now() });
        },
      });
      const t0 = performance.now();
      for (let i = 0; i < samples.length; i += 10) {
        await sqsClient.send(
          new SendMessageBatchCommand({
            QueueUrl: sqs.shadowQueueUrl,
            Entries: samples.slice(i, i + 10).map((s, j) => ({ Id: String(j), MessageBody: JSON.stringify(s) })),
          }),
        );
      }
      const source = startSqsEventSource({
        endpoint: sqs.endpoint,
        queueUrl: sqs.shadowQueueUrl,
        dlqUrl: sqs.shadowDlqUrl,
        fn: SHADOW_VERIFIER.fn,
        handler,
        batchSize: 10,
        maxConcurrency: concurrency,
      });
      while (verdicts.length < samples.length) await new Promise((r) => setTimeout(r, 20));
      const wall = performance.now() - t0;
      await source.stop();
      const gaps = verdicts.map((v) => v.at - t0).sort((a, b) => a - b);
      const matched = verdicts.filter((v) => v.outcome === 'matched').length;
      rates.push(samples.length / (wall / 1000));
      rows.push([
        concurrency,
        samples.length,
        `${(wall / 1000).toFixed(1)} s`,
        (samples.length / (wall / 1000)).toFixed(1),
        `${matched}/${samples.length}`,
        ms(percentile(gaps, 50)),
      ]);
    }
    return [
      '## Shadow verifier (issue: trust but verify)',
      '',
      `${SAMPLES} sampled hits (half a Shot by id, half a Shot's Tasks; digests of the read engine's answers over ${schema.site.typeNames.length} imported types) queued on the local shadow queue, then verified by the verifier's own handler behind the event-source emulation (batches of 10, records of a batch in parallel), replaying each against the simulated site at ${SITE_LATENCY_MS} ms with the cache's script. Every verdict here is \`matched\` (one site call each); a difference costs re-check rounds for up to SHADOW_SETTLE_MS.`,
      '',
      table(['batches in flight', 'samples', 'wall', 'verdicts/s', 'matched', 'half verified after (ms)'], rows),
      '',
      `At the AWS default of 1 % sampling and 2 batches in flight (the deployed setting), the verifier keeps up with about ${Math.round(rates[0] * 100).toLocaleString('en-US')} cache hits per second; the queue absorbs bursts above that (samples keep for a day).`,
      '',
    ].join('\n');
  } finally {
    sqsClient.destroy();
    ddb.destroy();
    await sqs.close();
    await site.close();
    await ddbLocal.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  console.log(await benchShadow());
}
