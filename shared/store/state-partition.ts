// One partition (pk) of the state table through the document client: consistent get, put, delete (optionally only while not newer), and every item under an sk prefix.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export class StatePartition {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly pk: string,
  ) {}

  async get(sk: string): Promise<Record<string, unknown> | undefined> {
    return (await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: this.pk, sk }, ConsistentRead: true }))).Item;
  }

  async put(sk: string, item: Record<string, unknown>): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { ...item, pk: this.pk, sk } }));
  }

  /** Deletes the item; with `atMost`, only while its `at` is not newer (a request that came in meanwhile is kept). */
  async delete(sk: string, atMost?: number): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: this.pk, sk },
          ...(atMost === undefined
            ? {}
            : { ConditionExpression: '#at <= :at', ExpressionAttributeNames: { '#at': 'at' }, ExpressionAttributeValues: { ':at': atMost } }),
        }),
      );
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
    }
  }

  /** Every item whose sk starts with `prefix` (consistent, all pages). */
  async under(prefix: string): Promise<Array<Record<string, unknown>>> {
    const out: Array<Record<string, unknown>> = [];
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :p AND begins_with(sk, :t)',
          ExpressionAttributeValues: { ':p': this.pk, ':t': prefix },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      out.push(...(r.Items ?? []));
      start = r.LastEvaluatedKey;
    } while (start);
    return out;
  }
}
