// The site's last `info` reply kept in the state table (pk "site", sk "info"): what an API container started during an outage answers `info` with.
import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { InfoKeeper } from '../site/index.js';

const KEY = { pk: { S: 'site' }, sk: { S: 'info' } };

export class KeptSiteInfo implements InfoKeeper {
  constructor(
    private readonly ddb: DynamoDBClient,
    private readonly table: string,
  ) {}

  async load(): Promise<{ at: number; body: Buffer } | undefined> {
    const it = (await this.ddb.send(new GetItemCommand({ TableName: this.table, Key: KEY }))).Item;
    if (!it?.body?.B || !it.at?.N) return undefined;
    return { at: Number(it.at.N), body: Buffer.from(it.body.B) };
  }

  async save(reply: { at: number; body: Buffer }): Promise<void> {
    await this.ddb
      .send(
        new PutItemCommand({
          TableName: this.table,
          Item: { ...KEY, at: { N: String(reply.at) }, body: { B: reply.body } },
          // A container that fetched earlier never replaces a newer reply.
          ConditionExpression: 'attribute_not_exists(pk) OR #at < :at',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: { ':at': { N: String(reply.at) } },
        }),
      )
      .catch((e: unknown) => {
        if (!(e instanceof ConditionalCheckFailedException)) throw e;
      });
  }
}
