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
    const { createApiHandler } = await import('../functions/api/app.js');
    return createApiHandler({ shotgun: shotgunConfigFromEnv(env), logger: localLogger('fpt-cache-api', env) });
  },
};

/** Functions EventBridge runs on a schedule (the poller, the reconciler, ...). */
export const SCHEDULED_FUNCTIONS: ScheduledFunctionSpec[] = [
  // e.g. { fn: { name: 'fpt-cache-poller', timeoutMs: 60_000 }, everyMs: () => 60_000, create: async (env) => (await import('../functions/poller/app.js')).createPollerHandler(env) },
];

/** The consumer of the event queue, through the SQS FIFO event source mapping (none until the consumer exists). */
export const QUEUE_CONSUMER: QueueConsumerSpec | undefined = undefined;
