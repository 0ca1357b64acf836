import { describe, expect, it, inject } from 'vitest';
import { DynamoDBClient, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { ensureTables, tableNames, ENTITIES_TABLE } from '../shared/store/index.js';

describe('table design', () => {
  it('creates the tables with every GSI, idempotently', async () => {
    const ddb = new DynamoDBClient({ endpoint: inject('dynamodbEndpoint') });
    const names = tableNames(`td${Date.now()}-`);
    await ensureTables(ddb, names);
    await ensureTables(ddb, names);
    const d = await ddb.send(new DescribeTableCommand({ TableName: names.entities }));
    expect(d.Table?.GlobalSecondaryIndexes?.map((g) => g.IndexName).sort()).toEqual(ENTITIES_TABLE.indexes.map((i) => i.name).sort());
    const s = await ddb.send(new DescribeTableCommand({ TableName: names.state }));
    expect(s.Table?.KeySchema?.map((k) => k.AttributeName)).toEqual(['pk', 'sk']);
    ddb.destroy();
  });
});
