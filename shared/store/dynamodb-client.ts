// The DynamoDB client a function's store uses: endpoint, credentials and the bound on every call from the environment (shared/config.ts), without the SDK's per-call log filtering.
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { awsClientConfig } from '../config.js';

type Env = Record<string, string | undefined>;

/**
 * One client per container. The SDK's logger middleware walks every request and reply through its sensitive-data
 * filter even though no logger is configured (its no-op logger still has `info`): for a grouped transaction of 100
 * items that walk was the largest single cost of the call in the Node process (docs/benchmarks.md). Nothing here
 * logs SDK calls (errors reach the caller as values), so it is removed.
 */
export function dynamoDbClient(env: Env): DynamoDBClient {
  const ddb = new DynamoDBClient(awsClientConfig(env, 'DYNAMODB'));
  ddb.middlewareStack.remove('loggerMiddleware');
  return ddb;
}
