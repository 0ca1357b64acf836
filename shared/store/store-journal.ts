// The store's own records in the state table: the item layout version the stored entities follow, and the creation journal that bulk imports consult.
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { EdgeItems } from './edge-items.js';
import { ITEM_LAYOUT, JOURNAL_TTL_S, journalPk, LAYOUT_KEY, padId } from './item-layout.js';

/** The layout record and the creation journal, on top of the edge maintenance (EntityStore adds the versioned writes). */
export class StoreJournal extends EdgeItems {
  /** The item layout version the stored entities follow (1 when none is recorded: tables written before versioning). */
  async itemLayout(): Promise<number> {
    const r = await this.ddb.send(new GetItemCommand({ TableName: this.tables.state, Key: LAYOUT_KEY, ConsistentRead: true }));
    return r.Item?.v?.N ? Number(r.Item.v.N) : 1;
  }

  /** Records that every served entity follows ITEM_LAYOUT (the importer, once no type imported under an older one is ready). */
  async recordItemLayout(): Promise<void> {
    await this.ddb.send(new PutItemCommand({ TableName: this.tables.state, Item: { ...LAYOUT_KEY, v: { N: String(ITEM_LAYOUT) } } }));
  }

  /** Journal entry "entity type#id is being created" (state table, pk "born#<Type>", sk the padded id, expires after a day). */
  protected async journalCreation(type: string, id: number): Promise<void> {
    await this.ddb.send(
      new PutItemCommand({
        TableName: this.tables.state,
        Item: { pk: { S: journalPk(type) }, sk: { S: padId(id) }, ttl: { N: String(Math.floor(Date.now() / 1000) + JOURNAL_TTL_S) } },
      }),
    );
  }

  /** Ids of `type` in [from, to] the creation journal holds (read consistently). */
  async journaled(type: string, from: number, to: number): Promise<Set<number>> {
    const { items } = await this.queryAll({
      TableName: this.tables.state,
      ConsistentRead: true,
      ProjectionExpression: 'sk',
      KeyConditionExpression: 'pk = :p AND sk BETWEEN :a AND :b',
      ExpressionAttributeValues: { ':p': { S: journalPk(type) }, ':a': { S: padId(from) }, ':b': { S: padId(to) } },
    });
    return new Set(items.map((it) => Number(it.sk.S)));
  }
}
