// The one-machine stack behind `npm start`: DynamoDB Local, the local SQS, the simulated site, and the real Lambda handlers wired as in AWS.
import { join, resolve } from 'node:path';
import { prepareDataDir } from './data-dir.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ConfigError } from '../shared/config.js';
import { ensureTables, tableNames, type TableNames } from '../shared/store/index.js';
import { ensureVerdictKeyFile } from '../shared/site/index.js';
import { STATUS_KEY_HEADER } from '../functions/api/app.js';
import { fromLambdaResult, startLocalApiGateway, toApiGatewayEvent, type LocalApiGateway } from './api-gateway.js';
import { startDynamoDbLocal, type DynamoDbLocal } from './dynamodb-local.js';
import {
  API_FUNCTION,
  QUEUE_CONSUMER,
  SCHEDULED_FUNCTIONS,
  SHADOW_VERIFIER,
  type FunctionEnv,
  type QueueConsumerSpec,
  type ScheduledFunctionSpec,
} from './functions.js';
import { invokeLocal } from './lambda-invoke.js';
import { assertPortFree, freePort } from './ports.js';
import { startScheduler, type Scheduler } from './scheduler.js';
import { startSimSite, simOptionsFromEnv, type SimSite } from './sim/server.js';
import { startSimProcess, type SimHandle } from './sim-process.js';
import { startSqsEventSource, type SqsEventSource } from './sqs-event-source.js';
import { startLocalSqs, type LocalSqs } from './sqs-local.js';
import { statusProbe, type StackStatus } from './status.js';

export const DEFAULT_PORTS = { PORT: 8010, SIM_PORT: 8020, DYNAMODB_PORT: 8000, SQS_PORT: 9324 } as const;
export const DEFAULT_DATA_DIR = '.fpt-cache';
export const TABLE_PREFIX = 'fpt-cache-';
/** A clean stop waits at most this long for the consumer to apply what is queued (the local SQS lives in memory). */
const STOP_DRAIN_MS = 15_000;

export interface StackOptions {
  /** API port (PORT); 0 picks a free one. */
  port?: number;
  /** Simulated site port (SIM_PORT); 0 picks a free one. Unused with an upstream. */
  simPort?: number;
  dynamodbPort?: number;
  sqsPort?: number;
  /** DATA_DIR: DynamoDB Local's files and the simulated site's snapshot live here. */
  dataDir?: string;
  /** Wipe DATA_DIR first (`npm start -- --fresh`). */
  fresh?: boolean;
  /** SHOTGUN_URL: a real upstream site instead of the simulated one (then the script credentials are required). */
  shotgunUrl?: string;
  scriptName?: string;
  scriptKey?: string;
  /** Every other variable the functions and the simulated site read (SCHEMA, POLL_INTERVAL_MS, SIM_*...). */
  env?: FunctionEnv;
  /** Overrides of the function registry (tests: a consumer under test). */
  consumer?: QueueConsumerSpec | null;
  /** The shadow verifier (default SHADOW_VERIFIER; null: samples stay in the shadow queue). */
  verifier?: QueueConsumerSpec | null;
  scheduled?: ScheduledFunctionSpec[];
  /** Event source tuning (tests). */
  eventSource?: { maxReceiveCount?: number; retryDelayMs?: number; pollIntervalMs?: number };
  /** Where warnings and errors of the running stack go (default: stderr). */
  log?: (line: string) => void;
  /** Runs the simulated site in a process of its own (`npm start`: local/sim-process.ts); default in this process. */
  simProcess?: boolean;
}

export interface LocalStack {
  apiUrl: string;
  /** The simulated site's URL, when it runs. */
  simUrl?: string;
  /** The simulated site, when it runs (in this process unless `simProcess`). */
  sim?: SimSite | SimHandle;
  /** The site the API passes through to. */
  upstream: string;
  dataDir: string;
  dynamodb: { endpoint: string; port: number };
  sqs: { endpoint: string; port: number; queueUrl: string; dlqUrl: string; shadowQueueUrl: string; shadowDlqUrl: string };
  tables: TableNames;
  /** The environment the functions run with. */
  functionEnv: FunctionEnv;
  /** Milliseconds from startStack() to ready. */
  startupMs: number;
  /** Milliseconds each start phase took (dynamodb, sqs and site start in parallel). */
  phasesMs: Record<string, number>;
  eventSource?: SqsEventSource;
  status(): Promise<StackStatus>;
  stop(): Promise<void>;
}

function intVar(env: FunctionEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`${name} must be a port number (0-65535), not "${raw}"`);
  return n;
}

/** Stack options from the environment names the project documents (PORT, SIM_PORT, SHOTGUN_URL, DATA_DIR, ...). */
export function stackOptionsFromEnv(env: FunctionEnv): StackOptions {
  return {
    port: intVar(env, 'PORT', DEFAULT_PORTS.PORT),
    simPort: intVar(env, 'SIM_PORT', DEFAULT_PORTS.SIM_PORT),
    dynamodbPort: intVar(env, 'DYNAMODB_PORT', DEFAULT_PORTS.DYNAMODB_PORT),
    sqsPort: intVar(env, 'SQS_PORT', DEFAULT_PORTS.SQS_PORT),
    dataDir: env.DATA_DIR || DEFAULT_DATA_DIR,
    shotgunUrl: env.SHOTGUN_URL || undefined,
    scriptName: env.SHOTGUN_SCRIPT_NAME || undefined,
    scriptKey: env.SHOTGUN_SCRIPT_KEY || undefined,
    env,
  };
}

/**
 * Starts everything and resolves once the API answers. On failure, whatever started is stopped again before
 * the error propagates (a PortInUseError or ConfigError carries a one-line message for the operator).
 */
export async function startStack(options: StackOptions = {}): Promise<LocalStack> {
  const started = Date.now();
  const env: FunctionEnv = { ...options.env };
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const upstreamUrl = options.shotgunUrl;
  if (upstreamUrl && (!options.scriptName || !options.scriptKey)) {
    throw new ConfigError('SHOTGUN_URL names a real site: set SHOTGUN_SCRIPT_NAME and SHOTGUN_SCRIPT_KEY to its script credentials too');
  }
  if (upstreamUrl) {
    try {
      new URL(upstreamUrl);
    } catch {
      throw new ConfigError(`SHOTGUN_URL is not a URL: ${upstreamUrl}`);
    }
  }

  const port = options.port ?? DEFAULT_PORTS.PORT;
  const simPort = options.simPort ?? DEFAULT_PORTS.SIM_PORT;
  const sqsPort = options.sqsPort ?? DEFAULT_PORTS.SQS_PORT;
  const checks: Array<[number, string]> = [
    [port, 'PORT'],
    [options.dynamodbPort ?? DEFAULT_PORTS.DYNAMODB_PORT, 'DYNAMODB_PORT'],
    [sqsPort, 'SQS_PORT'],
  ];
  if (!upstreamUrl) checks.push([simPort, 'SIM_PORT']);
  for (const [p, name] of checks) if (p !== 0) await assertPortFree(p, name);
  const dynamodbPort = options.dynamodbPort === 0 ? await freePort() : (options.dynamodbPort ?? DEFAULT_PORTS.DYNAMODB_PORT);

  const dataDir = resolve(options.dataDir ?? DEFAULT_DATA_DIR);
  const releaseLock = prepareDataDir(dataDir, options.fresh ?? false);
  const stops: Array<() => Promise<void> | void> = [releaseLock];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) {
      try {
        await stop();
      } catch (e) {
        log(`fpt-cache: error while stopping: ${(e as Error).message}`);
      }
    }
  };
  const phasesMs: Record<string, number> = {};
  const timed = <T>(name: string, p: Promise<T>): Promise<T> => {
    const t0 = Date.now();
    return p.finally(() => {
      phasesMs[name] = Date.now() - t0;
    });
  };
  try {
    const startDdb = timed('dynamodb', startDynamoDbLocal({ port: dynamodbPort, dataDir: join(dataDir, 'dynamodb') }));
    startDdb.then(
      (d) => stops.push(() => d.stop()),
      () => {},
    );
    const startSqs = timed('sqs', startLocalSqs({ port: sqsPort }));
    startSqs.then(
      (s) => stops.push(() => s.close()),
      () => {},
    );
    const startSim = upstreamUrl
      ? Promise.resolve(undefined)
      : timed(
          'site',
          options.simProcess
            ? startSimProcess({ ...process.env, ...env, SIM_PORT: String(simPort), DATA_DIR: dataDir })
            : startSimSite({
                ...simOptionsFromEnv(env),
                port: simPort,
                dataDir: join(dataDir, 'sim'),
              }),
        );
    startSim.then(
      (s) => {
        if (s) stops.push(() => s.close());
      },
      () => {},
    );
    const settled = await Promise.allSettled([startDdb, startSqs, startSim]);
    for (const r of settled) if (r.status === 'rejected') throw r.reason;
    const [ddb, sqs, sim] = settled.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [DynamoDbLocal, LocalSqs, SimSite | SimHandle | undefined];

    const tables = tableNames(TABLE_PREFIX);
    const ddbClient = new DynamoDBClient({ endpoint: ddb.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    try {
      await timed('tables', ensureTables(ddbClient, tables));
    } finally {
      ddbClient.destroy();
    }

    const upstream = upstreamUrl ?? sim!.url;
    const functionEnv: FunctionEnv = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      POWERTOOLS_LOG_LEVEL: 'WARN',
      // One machine's CPU is the bound here (docs/benchmarks.md "Scale"): entity writes go grouped (shared/store/grouped-writes.ts).
      STORE_WRITE_GROUPING: 'transact',
      ...env,
      SHOTGUN_URL: upstream,
      SHOTGUN_SCRIPT_NAME: options.scriptName ?? sim?.credentials.scriptName,
      SHOTGUN_SCRIPT_KEY: options.scriptKey ?? sim?.credentials.scriptKey,
      // The auth verdicts' own HMAC key, generated once into DATA_DIR (AWS: a generated Secrets Manager secret).
      VERDICT_KEY_FILE: env.VERDICT_KEY_FILE || ensureVerdictKeyFile(join(dataDir, 'verdict-key')),
      ENTITIES_TABLE: tables.entities,
      STATE_TABLE: tables.state,
      REFS_TABLE: tables.refs,
      EVENTS_QUEUE_URL: sqs.queueUrl,
      EVENTS_DLQ_URL: sqs.dlqUrl,
      // Shadow checks of hits: 1 % as in AWS unless SHADOW_SAMPLE_RATE says otherwise.
      SHADOW_QUEUE_URL: sqs.shadowQueueUrl,
      AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    };
    const onError = (message: string, error?: unknown) => log(`fpt-cache: ${message}${error ? `: ${(error as Error)?.message ?? String(error)}` : ''}`);

    // The local SQS is in memory: what the last stop (or kill) of the stack left queued and unapplied is queued again
    // from the pending markers before the poller resumes, so nothing is lost (docs/operations.md).
    const { requeueLostEvents } = await import('./sync-local.js');
    await timed('requeue', requeueLostEvents(functionEnv, log));
    const consumer = options.consumer === undefined ? QUEUE_CONSUMER : (options.consumer ?? undefined);
    let eventSource: SqsEventSource | undefined;
    if (consumer) {
      eventSource = startSqsEventSource({
        endpoint: sqs.endpoint,
        queueUrl: sqs.queueUrl,
        dlqUrl: sqs.dlqUrl,
        fn: consumer.fn,
        handler: await consumer.create(functionEnv),
        batchSize: consumer.batchSize,
        maxConcurrency: consumer.maxConcurrency,
        ...options.eventSource,
        onError,
      });
      const es = eventSource;
      // Stopped after the poller (stops run in reverse): what it queued is applied before the in-memory SQS goes.
      stops.push(() => es.stop({ drainMs: STOP_DRAIN_MS }));
    }
    const verifier = options.verifier === undefined ? SHADOW_VERIFIER : (options.verifier ?? undefined);
    let shadowSource: SqsEventSource | undefined;
    if (verifier) {
      shadowSource = startSqsEventSource({
        endpoint: sqs.endpoint,
        queueUrl: sqs.shadowQueueUrl,
        dlqUrl: sqs.shadowDlqUrl,
        fn: verifier.fn,
        handler: await verifier.create(functionEnv),
        batchSize: verifier.batchSize,
        maxConcurrency: verifier.maxConcurrency,
        onError,
      });
      const ss = shadowSource;
      stops.push(() => ss.stop());
    }
    const scheduledSpecs = options.scheduled ?? SCHEDULED_FUNCTIONS;
    let scheduler: Scheduler | undefined;
    if (scheduledSpecs.length) {
      const scheduled = await Promise.all(
        scheduledSpecs.map(async (s) => ({ fn: s.fn, everyMs: s.everyMs(functionEnv), runAtStart: s.runAtStart, handler: await s.create(functionEnv) })),
      );
      scheduler = startScheduler(scheduled, onError);
      const sch = scheduler;
      stops.push(() => sch.stop());
    }

    let ready = false;
    let api: LocalApiGateway | undefined;
    const apiHandler = await API_FUNCTION.create(functionEnv);
    const probe = statusProbe({
      upstream,
      started: () => ready,
      dynamodb: { endpoint: ddb.endpoint },
      sqs: { endpoint: sqs.endpoint, queueUrl: sqs.queueUrl, dlqUrl: sqs.dlqUrl },
      site: { url: upstream },
      api: () => api,
      // The API function's own GET /status (what AWS answers), with the details its script key unlocks: the cache's readiness per type.
      cache: async () => {
        const key = functionEnv.SHOTGUN_SCRIPT_KEY;
        const event = toApiGatewayEvent(
          { method: 'GET', url: '/status', httpVersion: '1.1', rawHeaders: key ? [STATUS_KEY_HEADER, key] : [], sourceIp: '127.0.0.1', localPort: 0 },
          Buffer.alloc(0),
        );
        return JSON.parse(fromLambdaResult(await invokeLocal(API_FUNCTION.fn, apiHandler, event)).body.toString('utf8')) as Record<string, unknown>;
      },
      // The sync pipeline, when the poller is among the scheduled functions: ready once imported and following the log.
      ...(scheduledSpecs.some((f) => f.fn.name === 'fpt-cache-poller')
        ? {
            sync: async () => {
              const { syncStatus } = await import('./sync-local.js');
              return { ...(await syncStatus(functionEnv)) };
            },
          }
        : {}),
      extra: () => ({
        ...(eventSource ? { eventSource: { ok: true, ...eventSource.stats() } } : {}),
        ...(shadowSource ? { shadowVerifier: { ok: true, ...shadowSource.stats() } } : {}),
        ...(scheduler ? { scheduler: { ok: true, functions: scheduler.stats() } } : {}),
      }),
    });
    stops.push(() => probe.close());
    stops.push(async () => {
      const { releaseStackSync } = await import('./sync-local.js');
      await releaseStackSync(functionEnv);
    });
    const apiStarted = Date.now();
    api = await startLocalApiGateway({
      port,
      fn: API_FUNCTION.fn,
      handler: apiHandler,
      status: () => probe.status(),
      onError: (e) => onError(`${API_FUNCTION.fn.name} failed`, e),
    });
    const apiServer = api;
    stops.push(() => apiServer.close());
    phasesMs.api = Date.now() - apiStarted;
    ready = true;

    return {
      apiUrl: api.url,
      simUrl: sim?.url,
      sim,
      upstream,
      dataDir,
      dynamodb: { endpoint: ddb.endpoint, port: ddb.port },
      sqs: {
        endpoint: sqs.endpoint,
        port: sqs.port,
        queueUrl: sqs.queueUrl,
        dlqUrl: sqs.dlqUrl,
        shadowQueueUrl: sqs.shadowQueueUrl,
        shadowDlqUrl: sqs.shadowDlqUrl,
      },
      tables,
      functionEnv,
      startupMs: Date.now() - started,
      phasesMs,
      eventSource,
      status: () => probe.status(),
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
