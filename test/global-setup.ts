// Vitest global setup: one DynamoDB Local for the whole suite (tests create their own uniquely named tables);
// on teardown, asserts that no process this suite started is left behind.
import { execSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal, type DynamoDbLocal } from '../local/dynamodb-local.js';
import { freePort } from '../local/ports.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
  }
}

let ddb: DynamoDbLocal | undefined;

export async function setup(project: TestProject): Promise<void> {
  ddb = await startDynamoDbLocal({ port: await freePort(), fastStart: true });
  project.provide('dynamodbEndpoint', ddb.endpoint);
}

export async function teardown(): Promise<void> {
  if (!ddb) return;
  const port = ddb.port;
  await ddb.stop();
  const left = execSync('ps -eo pid=,args=')
    .toString()
    .split('\n')
    .filter((l) => l.includes('DynamoDBLocal.jar') && l.includes(`-port ${port} `))
    .join('\n');
  if (left) throw new Error(`processes left behind after the suite: ${left}`);
}
