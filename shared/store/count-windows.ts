// Where each type's rotating count window of validation stands (state table, pk `validate`, sk `window#<Type>`): the last id the previous window covered.
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const PK = 'validate';

/** The cursor of validation's count windows per type (shared/sync/validator.ts). */
export class CountWindows {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  /** The id the type's next window starts after (0: the start). */
  async after(type: string): Promise<number> {
    const it = (await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: PK, sk: `window#${type}` }, ConsistentRead: true }))).Item;
    return typeof it?.after === 'number' ? it.after : 0;
  }

  async set(type: string, after: number): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: PK, sk: `window#${type}`, after } }));
  }
}
