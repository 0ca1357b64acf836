import { describe, expect, it, inject } from 'vitest';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

describe('test environment', () => {
  it('reaches the suite-wide DynamoDB Local', async () => {
    const client = new DynamoDBClient({ endpoint: inject('dynamodbEndpoint') });
    const out = await client.send(new ListTablesCommand({}));
    expect(Array.isArray(out.TableNames)).toBe(true);
    client.destroy();
  });
});
