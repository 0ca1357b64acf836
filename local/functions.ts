// The Lambda functions the one-machine stack runs, mirroring the CDK app: adding a function is one entry here.
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { shotgunConfigFromEnv } from '../shared/config.js';
import type { LambdaHandler, LocalFunction } from './lambda-invoke.js';
import type { ScheduledHandler } from './scheduler.js';
import type { SqsHandler } from './sqs-event-source.js';

/**
 * The environment a function gets, as the CDK app sets it (plus AWS_ENDPOINT_URL_* locally). Functions build
 * their clients from this record, not from process.env, so two stacks can run side by side in one process.
 */
export type FunctionEnv = Record<string, string | undefined>;

export interface ApiFunctionSpec {
  fn: LocalFunction;
  create(env: FunctionEnv): Promise<LambdaHandler<APIGatewayProxyEventV2, APIGatewayProxyResultV2>>;
}

export interface ScheduledFunctionSpec {
  fn: LocalFunction;
  /** The schedule's rate for this environment (e.g. from POLL_INTERVAL_MS). */
  everyMs(env: FunctionEnv): number;
  /** Invoke once at start (default true); false waits a full period, as an EventBridge rate rule does. */
  runAtStart?: boolean;
  create(env: FunctionEnv): Promise<ScheduledHandler>;
}

export interface QueueConsumerSpec {
  fn: LocalFunction;
  batchSize?: number;
  maxConcurrency?: number;
  create(env: FunctionEnv): Promise<SqsHandler>;
}

/** Local log level for the functions' Powertools loggers (POWERTOOLS_LOG_LEVEL, default WARN to keep `npm start` quiet). */
export function localLogger(serviceName: string, env: FunctionEnv): Logger {
  return new Logger({ serviceName, logLevel: (env.POWERTOOLS_LOG_LEVEL ?? 'WARN') as 'WARN' });
}

export const API_FUNCTION: ApiFunctionSpec = {
  fn: { name: 'fpt-cache-api', timeoutMs: 29_000, memoryMb: 1024 },
  async create(env) {
    const { apiDepsFromEnv, createApiHandler } = await import('../functions/api/app.js');
    const { MemoryApiMetrics } = await import('../shared/reads/index.js');
    return createApiHandler(apiDepsFromEnv(env, localLogger('fpt-cache-api', env), new MemoryApiMetrics()));
  },
};

/** Functions EventBridge runs on a schedule (the poller, the reconciler, ...). */
export const SCHEDULED_FUNCTIONS: ScheduledFunctionSpec[] = [
  // The poller loops inside each invocation (POLL_INTERVAL_MS, default 1 s) and is started again as soon as one ends.
  {
    fn: { name: 'fpt-cache-poller', timeoutMs: 70_000 },
    everyMs: (env) => (Number(env.POLL_INTERVAL_MS) > 0 ? Number(env.POLL_INTERVAL_MS) : 1_000),
    async create(env) {
      const { createPollerHandler } = await import('../functions/poller/app.js');
      const { stackSync, syncLogger } = await import('./sync-local.js');
      return createPollerHandler(env, { metrics: stackSync(env).metrics, logger: syncLogger('fpt-cache-poller', env) });
    },
  },
  // In AWS the poller invokes the importer while import work is pending; locally the importer's own schedule does
  // (a check costs three state-table reads when there is nothing to import).
  {
    fn: { name: 'fpt-cache-importer', timeoutMs: 6 * 3_600_000 },
    everyMs: () => 5_000,
    async create(env) {
      const { createImporterHandler } = await import('../functions/importer/app.js');
      const { stackSync, syncLogger } = await import('./sync-local.js');
      // Pages of 100 locally: DynamoDB Local writes slowly, so progress and a clean stop come sooner.
      return createImporterHandler({ IMPORT_PAGE_SIZE: '100', ...env }, { metrics: stackSync(env).metrics, logger: syncLogger('fpt-cache-importer', env) });
    },
  },
  // Invoked at the floor's rate; each type is scanned when its adaptive interval (RECONCILE_INTERVAL_MS down to
  // RECONCILE_FLOOR_MS while writes without events are found) is due, as in AWS (docs/sync.md).
  {
    fn: { name: 'fpt-cache-reconciler', timeoutMs: 300_000 },
    everyMs: (env) => reconcileRates(env).floorMs,
    async create(env) {
      const { createReconcilerHandler } = await import('../functions/reconciler/app.js');
      const { stackSync, syncLogger } = await import('./sync-local.js');
      const { baseMs, floorMs } = reconcileRates(env);
      const s = stackSync(env);
      return createReconcilerHandler(
        { ...env, RECONCILE_INTERVAL_MS: String(baseMs), RECONCILE_FLOOR_MS: String(floorMs) },
        {
          metrics: s.metrics,
          shadowMetrics: s.shadowMetrics,
          logger: syncLogger('fpt-cache-reconciler', env),
        },
      );
    },
  },
  // The scheduled validation, on the AWS default schedule (validateIntervalMinutes, 60): a rate rule first fires one period after it is created.
  {
    fn: { name: 'fpt-cache-validator', timeoutMs: 900_000 },
    everyMs: (env) => (Number(env.VALIDATE_INTERVAL_MS) > 0 ? Number(env.VALIDATE_INTERVAL_MS) : 60 * 60_000),
    runAtStart: false,
    async create(env) {
      const { createValidatorHandler } = await import('../functions/validator/app.js');
      const { stackSync, syncLogger } = await import('./sync-local.js');
      return createValidatorHandler(env, { metrics: stackSync(env).metrics, logger: syncLogger('fpt-cache-validator', env) });
    },
  },
];

/** Local reconcile rates: RECONCILE_INTERVAL_MS (base, default 60 s) and RECONCILE_FLOOR_MS (default 10 s, never above the base). */
export function reconcileRates(env: FunctionEnv): { baseMs: number; floorMs: number } {
  const baseMs = Number(env.RECONCILE_INTERVAL_MS) > 0 ? Number(env.RECONCILE_INTERVAL_MS) : 60_000;
  const floorMs = Number(env.RECONCILE_FLOOR_MS) > 0 ? Number(env.RECONCILE_FLOOR_MS) : 10_000;
  return { baseMs, floorMs: Math.min(baseMs, floorMs) };
}

/** The consumer of the event queue, through the SQS FIFO event source mapping. */
export const QUEUE_CONSUMER: QueueConsumerSpec | undefined = {
  fn: { name: 'fpt-cache-consumer', timeoutMs: 30_000 },
  batchSize: 10,
  maxConcurrency: 5,
  async create(env) {
    const { createConsumerHandler } = await import('../functions/consumer/app.js');
    const { stackSync, syncLogger } = await import('./sync-local.js');
    return createConsumerHandler(env, { metrics: stackSync(env).metrics, logger: syncLogger('fpt-cache-consumer', env) });
  },
};

/** The shadow verifier, behind the shadow queue (standard SQS): replays sampled hits against the site. */
export const SHADOW_VERIFIER: QueueConsumerSpec = {
  fn: { name: 'fpt-cache-verifier', timeoutMs: 120_000 },
  batchSize: 10,
  maxConcurrency: 2,
  async create(env) {
    const { createVerifierHandler } = await import('../functions/verifier/app.js');
    const { stackSync, syncLogger } = await import('./sync-local.js');
    return createVerifierHandler(env, { metrics: stackSync(env).shadowMetrics, logger: syncLogger('fpt-cache-verifier', env) });
  },
};
