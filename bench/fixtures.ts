// Benchmark fixtures: data of known sizes created on the simulated site, and an imported, ready cache over DynamoDB Local.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynamoDbLocal } from '../local/dynamodb-local.js';
import { freePort } from '../local/ports.js';
import { DEFAULT_SCRIPT } from '../local/sim/credentials.js';
import { startSimSite, type SimSite } from '../local/sim/server.js';
import { loadCachedSchema, type CachedSchema } from '../shared/schema/index.js';
import { ShotgunClient } from '../shared/site/index.js';
import { ensureTables, tableNames, type TableNames } from '../shared/store/index.js';
import { importReadyCache } from '../test/reads/importer.js';
import type { Context } from 'aws-lambda';
import type { Logger } from '@aws-lambda-powertools/logger';
import { createPollerHandler } from '../functions/poller/app.js';
import { startLocalSqs, type LocalSqs } from '../local/sqs-local.js';
import { Importer, MemorySyncMetrics, type SyncContext } from '../shared/sync/index.js';

export interface ImportedCache {
  site: SimSite;
  ddb: DynamoDBClient;
  client: ShotgunClient;
  schema: CachedSchema;
  tables: TableNames;
  endpoint: string;
}

/** Runs `fn` over a fresh DynamoDB Local and simulated site, imported and ready; tears both down after. */
export async function withImportedCache<T>(
  opts: { entities: number; seed: number; latencyMs: number; tablePrefix: string },
  fn: (c: ImportedCache) => Promise<T>,
): Promise<T> {
  const ddbLocal = await startDynamoDbLocal({ port: await freePort() });
  const site = await startSimSite({ port: 0, entities: opts.entities, seed: opts.seed, latencyMs: opts.latencyMs });
  const ddb = new DynamoDBClient({ endpoint: ddbLocal.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  try {
    const client = new ShotgunClient({ url: site.url, scriptName: DEFAULT_SCRIPT.name, scriptKey: DEFAULT_SCRIPT.key });
    const schema = loadCachedSchema('schema/default.yml');
    const tables = tableNames(opts.tablePrefix);
    await ensureTables(ddb, tables);
    await importReadyCache(client, ddb, tables, schema);
    return await fn({ site, ddb, client, schema, tables, endpoint: ddbLocal.endpoint });
  } finally {
    ddb.destroy();
    await site.close();
    await ddbLocal.stop();
  }
}

/** A project holding exactly `n` Shots (batches of 100 on the site), so the shapes have known sizes. */
export async function projectWithShots(client: ShotgunClient, name: string, n: number): Promise<{ type: string; id: number }> {
  const p = await client.call<{ id: number }>('create', { type: 'Project', fields: [{ field_name: 'name', value: name }], return_fields: ['id'] });
  const project = { type: 'Project', id: p.id };
  for (let i = 0; i < n; i += 100) {
    await client.call(
      'batch',
      Array.from({ length: Math.min(100, n - i) }, (_, j) => ({
        request_type: 'create',
        type: 'Shot',
        return_fields: ['id'],
        fields: [
          { field_name: 'code', value: `${name}_${String(i + j).padStart(4, '0')}` },
          { field_name: 'project', value: project },
          { field_name: 'sg_status_list', value: 'ip' },
          { field_name: 'description', value: `Shot ${i + j} of ${name}: layout, anim, lighting & comp` },
        ],
      })),
    );
  }
  return project;
}

/** The real poller over an imported cache and a local SQS: one call is one scheduled invocation (a few polls). */
export async function benchPoller({ site, tables, endpoint }: ImportedCache, sqs: LocalSqs, logger: Logger): Promise<() => Promise<unknown>> {
  const poller = await createPollerHandler(
    {
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
      EVENTS_QUEUE_URL: sqs.queueUrl,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      POLL_INTERVAL_MS: '50',
      POLL_LOOP_MS: '300',
    },
    { metrics: new MemorySyncMetrics(), logger },
  );
  return () => poller({}, { getRemainingTimeInMillis: () => 30_000 } as Context);
}

/** The environment of the sync functions (poller, consumer, importer) over the bench's site, tables, local SQS and DynamoDB Local. */
export function syncEnv(
  o: { siteUrl: string; tables: TableNames; sqs: Pick<LocalSqs, 'queueUrl' | 'dlqUrl' | 'endpoint'>; dynamodbEndpoint: string },
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    SHOTGUN_URL: o.siteUrl,
    SHOTGUN_SCRIPT_NAME: DEFAULT_SCRIPT.name,
    SHOTGUN_SCRIPT_KEY: DEFAULT_SCRIPT.key,
    ENTITIES_TABLE: o.tables.entities,
    STATE_TABLE: o.tables.state,
    REFS_TABLE: o.tables.refs,
    EVENTS_QUEUE_URL: o.sqs.queueUrl,
    EVENTS_DLQ_URL: o.sqs.dlqUrl,
    AWS_ENDPOINT_URL_DYNAMODB: o.dynamodbEndpoint,
    AWS_ENDPOINT_URL_SQS: o.sqs.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    POLL_INTERVAL_MS: '1000',
    POLL_LOOP_MS: '55000',
    // As npm start runs (local/stack.ts).
    STORE_WRITE_GROUPING: 'transact',
    ...extra,
  };
}

/**
 * The importer over a sync context, alone: no calibration and no shadow ledger (`importerFor` in shared/sync adds both),
 * so an import figure is the import's own.
 */
export function importAlone(ctx: SyncContext): Importer {
  return new Importer({
    schema: ctx.schema,
    store: ctx.store,
    readiness: ctx.readiness,
    state: ctx.importState,
    lease: ctx.lease,
    events: ctx.events,
    fetcher: ctx.fetcher,
  });
}

/** What a sync benchmark runs against besides the site: the local SQS, fresh tables in DynamoDB Local, and the functions' environment over both. */
export interface BenchStores {
  sqs: LocalSqs;
  tables: TableNames;
  ddb: DynamoDBClient;
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Starts the local SQS and creates `prefix`'s tables in DynamoDB Local at `dynamodbEndpoint`, for the site at `siteUrl`. */
export async function benchStores(siteUrl: string, dynamodbEndpoint: string, prefix: string): Promise<BenchStores> {
  const sqs = await startLocalSqs({ port: 0 });
  const tables = tableNames(prefix);
  const ddb = new DynamoDBClient({ endpoint: dynamodbEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const close = async () => {
    ddb.destroy();
    await sqs.close();
  };
  try {
    await ensureTables(ddb, tables);
  } catch (e) {
    await close();
    throw e;
  }
  return { sqs, tables, ddb, env: syncEnv({ siteUrl, tables, sqs, dynamodbEndpoint }), close };
}
