// The store's DynamoDB client: a call to an endpoint that accepts it and never answers fails within its bound instead of hanging.
import { createServer, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { dynamoDbClient } from '../../shared/store/index.js';

const sockets: Socket[] = [];
const silent = createServer((s) => {
  sockets.push(s);
  s.on('data', () => {
    /* read, never answered */
  });
});
await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
afterAll(() => {
  for (const s of sockets) s.destroy();
  silent.close();
});

describe('the store’s DynamoDB client', () => {
  it('abandons a call that gets no answer (DYNAMODB_TIMEOUT_MS) and fails, retries included, instead of waiting forever', async () => {
    const { port } = silent.address() as { port: number };
    const ddb = dynamoDbClient({
      AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${port}`,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      DYNAMODB_TIMEOUT_MS: '300',
    });
    const call = ddb.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'a' }, sk: { S: 'b' } } }));
    const outcome = await Promise.race([
      call.then(
        () => 'answered',
        (e: Error) => e.name,
      ),
      new Promise((r) => setTimeout(() => r('still waiting'), 10_000)),
    ]);
    expect(outcome).toMatch(/Timeout/i);
    // The SDK's attempts each reached the endpoint (a retried call, not one dropped).
    expect(sockets.length).toBeGreaterThanOrEqual(2);
    ddb.destroy();
  });
});
