// Events queued but not yet applied, per type: the poller marks each before it queues it, the consumer clears it once applied; reads of a marked type are not provably fresh.
//
// Items: pk "pending#<key>" (a cached type, or `*` for events that change how every type reads: schema changes, renames
// and retirements of uncached link targets), sk the zero-padded event id, `expiresAt` (epoch ms) and `ttl`. Marking and
// clearing are idempotent (a redelivered event clears a marker already cleared; a poller that re-sends after a crash marks
// the same items), so the markers say exactly which queued events have not been applied yet. A marker left behind by an
// event that went to the dead-letter queue stops counting after PENDING_MARK_MS (the reconciliation scan, every minute
// by default, has long repaired what it changed by then); until then reads of its type pass through.
import { type AttributeValue, BatchWriteItemCommand, DeleteItemCommand, QueryCommand, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';

export const PENDING_PK = 'pending';
/** The key of events that change how every type reads. */
export const ANY_TYPE = '*';
/** How long a marker counts at most. */
export const PENDING_MARK_MS = 10 * 60_000;
const padId = (id: number) => String(Math.max(0, id)).padStart(15, '0');
const markerKey = (e: PendingEvent) => ({ pk: { S: `${PENDING_PK}#${e.key}` }, sk: { S: padId(e.id) } });

export interface PendingEvent {
  key: string;
  id: number;
}

export class PendingEvents {
  constructor(
    private readonly ddb: DynamoDBClient,
    private readonly table: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Marks events as queued (before they are sent); resolves once every marker is written. */
  async mark(events: readonly PendingEvent[]): Promise<void> {
    const expiresAt = this.now() + PENDING_MARK_MS;
    const ttl = { N: String(Math.ceil(expiresAt / 1000) + 3600) };
    await this.write(events, (e) => ({ PutRequest: { Item: { ...markerKey(e), expiresAt: { N: String(expiresAt) }, ttl } } }), 'written');
  }

  /** Clears the markers of applied events (idempotent; a consumer batch clears its events' markers at once, after its writes). */
  async clearMany(events: readonly PendingEvent[]): Promise<void> {
    await this.write(events, (e) => ({ DeleteRequest: { Key: markerKey(e) } }), 'cleared');
  }

  /** BatchWriteItem of one request per distinct marker, 25 a call, unprocessed ones retried with backoff. */
  private async write(events: readonly PendingEvent[], request: (e: PendingEvent) => WriteRequest, verb: string): Promise<void> {
    let requests = [...new Map(events.map((e) => [`${e.key}#${e.id}`, e])).values()].map(request);
    for (let round = 0; requests.length; round++) {
      const chunks: WriteRequest[][] = [];
      for (let i = 0; i < requests.length; i += 25) chunks.push(requests.slice(i, i + 25));
      const out = await Promise.all(chunks.map((c) => this.ddb.send(new BatchWriteItemCommand({ RequestItems: { [this.table]: c } }))));
      requests = out.flatMap((o) => o.UnprocessedItems?.[this.table] ?? []);
      if (requests.length && round >= 8) throw new Error(`pending-event markers not ${verb} (${requests.length} unprocessed)`);
      if (requests.length) await new Promise((r) => setTimeout(r, 50 * 2 ** round));
    }
  }

  /** Clears one event's marker once it is applied (idempotent). */
  async clear(event: PendingEvent): Promise<void> {
    await this.ddb.send(new DeleteItemCommand({ TableName: this.table, Key: markerKey(event) }));
  }

  /** Every marker of `keys`, expired or not (the local stack's restart re-queues the events they name). */
  async list(keys: readonly string[]): Promise<PendingEvent[]> {
    const out: PendingEvent[] = [];
    for (const key of keys) {
      let start: Record<string, AttributeValue> | undefined;
      do {
        const r = await this.ddb.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk',
            ConsistentRead: true,
            ExpressionAttributeValues: { ':pk': { S: `${PENDING_PK}#${key}` } },
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const it of r.Items ?? []) out.push({ key, id: Number(it.sk.S) });
        start = r.LastEvaluatedKey;
      } while (start);
    }
    return out;
  }

  /** The first of `keys` with a live marker (an event queued and not applied), or undefined when none has one. */
  async firstPending(keys: readonly string[]): Promise<string | undefined> {
    const now = this.now();
    const found = await Promise.all(
      keys.map(async (key) => {
        const r = await this.ddb.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk',
            FilterExpression: 'expiresAt > :now',
            Limit: 25,
            ConsistentRead: true,
            ExpressionAttributeValues: { ':pk': { S: `${PENDING_PK}#${key}` }, ':now': { N: String(now) } },
          }),
        );
        // More markers than one page looked at, all expired so far: counted as pending (the safe side).
        return (r.Items?.length ?? 0) > 0 || r.LastEvaluatedKey !== undefined;
      }),
    );
    return keys.find((_, i) => found[i]);
  }
}
