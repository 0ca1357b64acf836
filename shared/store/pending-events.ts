// Events queued but not yet applied, per type: the poller marks each before it queues it, the consumer clears it once applied; reads of a marked type are not provably fresh.
//
// Items: pk "pending#<key>" (a cached type, or `*` for events that change how every type reads: schema changes, renames
// and retirements of uncached link targets), sk the zero-padded event id, `expiresAt` (epoch ms) and `ttl`. Marking and
// clearing are idempotent (a redelivered event clears a marker already cleared; a poller that re-sends after a crash marks
// the same items), so the markers say exactly which queued events have not been applied yet. A marker left behind by an
// event that went to the dead-letter queue stops counting after PENDING_MARK_MS (the reconciliation scan, every minute
// by default, has long repaired what it changed by then); until then reads of its type pass through.
import { QueryCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TableIo } from './table-io.js';

export const PENDING_PK = 'pending';
/** The key of events that change how every type reads. */
export const ANY_TYPE = '*';
/** How long a marker counts at most. */
export const PENDING_MARK_MS = 10 * 60_000;
const padId = (id: number) => String(Math.max(0, id)).padStart(15, '0');
/** One request per marker: BatchWriteItem refuses a key twice in a call. */
const distinct = (events: readonly PendingEvent[]) => [...new Map(events.map((e) => [`${e.key}#${e.id}`, e])).values()];
const markerKey = (e: PendingEvent) => ({ pk: { S: `${PENDING_PK}#${e.key}` }, sk: { S: padId(e.id) } });

export interface PendingEvent {
  key: string;
  id: number;
}

export class PendingEvents extends TableIo {
  constructor(
    ddb: DynamoDBClient,
    private readonly table: string,
    private readonly now: () => number = Date.now,
  ) {
    super(ddb);
  }

  /** Marks events as queued (before they are sent); resolves once every marker is written. */
  async mark(events: readonly PendingEvent[]): Promise<void> {
    const expiresAt = this.now() + PENDING_MARK_MS;
    const ttl = { N: String(Math.ceil(expiresAt / 1000) + 3600) };
    await this.writeItems(
      this.table,
      distinct(events).map((e) => ({ ...markerKey(e), expiresAt: { N: String(expiresAt) }, ttl })),
    );
  }

  /** Clears the markers of applied events (idempotent; a consumer batch clears its events' markers at once, after its writes). */
  async clearMany(events: readonly PendingEvent[]): Promise<void> {
    await this.deleteItems(this.table, distinct(events).map(markerKey));
  }

  /** Every marker of `keys`, expired or not (the local stack's restart re-queues the events they name). */
  async list(keys: readonly string[]): Promise<PendingEvent[]> {
    const out: PendingEvent[] = [];
    for (const key of keys) {
      const { items } = await this.queryAll({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        ConsistentRead: true,
        ExpressionAttributeValues: { ':pk': { S: `${PENDING_PK}#${key}` } },
      });
      for (const it of items) out.push({ key, id: Number(it.sk.S) });
    }
    return out;
  }

  /** The lowest event id with a marker of `key` (expired or not), or undefined when none has one. */
  async lowest(key: string): Promise<number | undefined> {
    const r = await this.ddb.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        Limit: 1,
        ConsistentRead: true,
        ExpressionAttributeValues: { ':pk': { S: `${PENDING_PK}#${key}` } },
      }),
    );
    const sk = r.Items?.[0]?.sk?.S;
    return sk === undefined ? undefined : Number(sk);
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
