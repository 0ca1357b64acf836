// The clients and stores a sync function works with, built once per container (per stack locally) from its environment.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { loadCachedSchema, schemaFileFromEnv, type CachedSchema } from '../schema/index.js';
import { systemClock, type Clock } from '../clock.js';
import { ConfigError, awsClientConfig, shotgunConfigFromEnv } from '../config.js';
import { dynamoDbClient, EntityStore, ImportState, ReadinessStore, type TableNames } from '../store/index.js';
import { ShotgunEventSource } from './event-source.js';
import { PollerLease } from './poller-lease.js';
import { ShotgunClient, getSiteCredentials } from '../site/index.js';
import { SiteFetcher } from './site-fetch.js';

type Env = Record<string, string | undefined>;

/** How long a poller's lease lasts without a heartbeat (POLLER_LEASE_MS): a crashed poller is replaced after this. */
export const DEFAULT_POLLER_LEASE_MS = 30_000;

export interface SyncContext {
  env: Env;
  schema: CachedSchema;
  tables: TableNames;
  ddb: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  sqs: SQSClient;
  client: ShotgunClient;
  store: EntityStore;
  readiness: ReadinessStore;
  lease: PollerLease;
  importState: ImportState;
  fetcher: SiteFetcher;
  events: ShotgunEventSource;
  queueUrl?: string;
  dlqUrl?: string;
  /** The time source of the site's health, the poller's lease and loop, and backoff waits. */
  clock: Clock;
  destroy(): void;
}

export interface SyncContextOptions {
  /** A schema already loaded (tests); default: the file SCHEMA names, else schema/default.yml. */
  schema?: CachedSchema;
  onRetry?: ConstructorParameters<typeof ShotgunClient>[0]['onRetry'];
  log?: (message: string, details?: Record<string, unknown>) => void;
  /** Whether the function works on the entities table (the poller only needs the state table). Default true. */
  entities?: boolean;
  /** The time source (default the real clock; tests: a virtual one). */
  clock?: Clock;
}

/** A poller heartbeat older than this proves its owner dead or stalled (it saves after every poll, about every second). */
export const DEFAULT_POLLER_STALE_MS = 10_000;

export async function syncContextFromEnv(env: Env, opts: SyncContextOptions = {}): Promise<SyncContext> {
  const stateTable = env.STATE_TABLE?.trim();
  const entitiesTable = env.ENTITIES_TABLE?.trim();
  if (!stateTable) throw new ConfigError('STATE_TABLE must name the state table');
  const refsTable = env.REFS_TABLE?.trim();
  if ((opts.entities ?? true) && !entitiesTable) throw new ConfigError('ENTITIES_TABLE must name the entities table');
  if ((opts.entities ?? true) && !refsTable) throw new ConfigError('REFS_TABLE must name the refs (edge) table');
  const site = shotgunConfigFromEnv(env);
  const creds = await getSiteCredentials({ env });
  const schema = opts.schema ?? loadCachedSchema(schemaFileFromEnv(env as NodeJS.ProcessEnv));
  const tables: TableNames = { entities: entitiesTable ?? '', state: stateTable, refs: refsTable ?? '' };
  const ddb = dynamoDbClient(env);
  const doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
  const sqs = new SQSClient(awsClientConfig(env, 'SQS'));
  const client = new ShotgunClient({
    url: site.url,
    scriptName: creds.scriptName,
    scriptKey: creds.scriptKey,
    timeoutMs: site.timeoutMs,
    retry: { maxAttempts: Math.max(site.maxAttempts, 4) },
    userAgent: 'fpt-cache-sync',
    onRetry: opts.onRetry,
    clock: opts.clock,
  });
  const leaseMs = Number(env.POLLER_LEASE_MS) > 0 ? Number(env.POLLER_LEASE_MS) : DEFAULT_POLLER_LEASE_MS;
  return {
    env,
    schema,
    tables,
    ddb,
    doc,
    sqs,
    client,
    // STORE_WRITE_GROUPING=transact: concurrent entity writes sent together as transactions (shared/store/grouped-writes.ts).
    store: new EntityStore(ddb, tables, schema, { groupWrites: env.STORE_WRITE_GROUPING === 'transact' }),
    readiness: new ReadinessStore(ddb, tables, schema),
    // A heartbeat older than POLLER_STALE_MS (default 10 s; the owner saves every poll) is a dead owner's: taken over at once.
    lease: new PollerLease(
      doc,
      tables.state,
      leaseMs,
      Number(env.POLLER_STALE_MS) > 0 ? Number(env.POLLER_STALE_MS) : Math.min(leaseMs, DEFAULT_POLLER_STALE_MS),
    ),
    importState: new ImportState(doc, tables.state),
    fetcher: new SiteFetcher(client, schema),
    events: new ShotgunEventSource(client, (row, error) => opts.log?.('unreadable EventLogEntry row skipped', { row, error })),
    queueUrl: env.EVENTS_QUEUE_URL || undefined,
    dlqUrl: env.EVENTS_DLQ_URL || undefined,
    clock: opts.clock ?? systemClock,
    destroy() {
      ddb.destroy();
      sqs.destroy();
    },
  };
}
