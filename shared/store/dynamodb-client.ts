// The DynamoDB client a function's store uses: endpoint and credentials from the environment, a bound on every call, without the SDK's per-call log filtering.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { awsClientConfig } from '../config.js';

type Env = Record<string, string | undefined>;

/** How long one DynamoDB call may take before it is abandoned and retried (DYNAMODB_TIMEOUT_MS). */
export const DEFAULT_DYNAMODB_TIMEOUT_MS = 15_000;

/**
 * One client per container. The SDK's logger middleware walks every request and reply through its sensitive-data
 * filter even though no logger is configured (its no-op logger still has `info`): for a grouped transaction of 100
 * items that walk was the largest single cost of the call in the Node process (docs/benchmarks.md). Nothing here
 * logs SDK calls (errors reach the caller as values), so it is removed.
 */
export function dynamoDbClient(env: Env): DynamoDBClient {
  // The SDK waits forever for an answer by default: a request a stalled endpoint accepted and never answered hung a
  // 200k import for good (DynamoDB Local under memory pressure). Bounded, the call fails and the SDK's retry sends it
  // again: writes are conditional or idempotent (transactions carry a client token), so a repeat is harmless.
  const timeout = Number(env.DYNAMODB_TIMEOUT_MS) > 0 ? Number(env.DYNAMODB_TIMEOUT_MS) : DEFAULT_DYNAMODB_TIMEOUT_MS;
  const ddb = new DynamoDBClient({
    ...awsClientConfig(env, 'DYNAMODB'),
    requestHandler: { requestTimeout: timeout, throwOnRequestTimeout: true, connectionTimeout: Math.min(timeout, 5_000) },
  });
  ddb.middlewareStack.remove('loggerMiddleware');
  return ddb;
}
