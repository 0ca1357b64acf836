// Events queued but not yet applied, per type: the poller marks each before it queues it, the consumer clears it once applied; reads of a marked type are not provably fresh.
//
// Items: pk "pending#<key>" (a cached type, or `*` for events that change how every type reads: schema changes, renames
// and retirements of uncached link targets), sk the zero-padded first event id of a bucket of PENDING_BUCKET ids, `ids`
// the bucket's queued event ids (a number set), `expiresAt` (epoch ms) and `ttl`. An event's bucket follows from its id
// alone, so marking is an `ADD` to the set and clearing a `DELETE` from it, both idempotent (a redelivered event clears
// a marker already cleared; a poller that re-sends after a crash marks the same ids): the sets say exactly which queued
// events have not been applied yet. A bucket emptied by a clear is deleted (unless a mark refilled it meanwhile). One
// write a bucket, not one an event: a burst's poll page of 500 Task events is ~8 writes to mark, a consumer batch of 10
// one or two writes to clear (docs/sync.md "Pending markers"). A marker left behind by an event that went to the
// dead-letter queue stops counting after PENDING_MARK_MS from its bucket's last mark (the reconciliation scan, every
// minute by default, has long repaired what it changed by then); until then reads of its type pass through.
// Markers of the earlier layout (one item an event, sk its id, no `v`) still count, as their events, until they expire
// (PENDING_MARK_MS after an upgrade at most); the local stack rewrites them as buckets at its start (migrateLegacy).
import { ConditionalCheckFailedException, DeleteItemCommand, QueryCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { pool, TableIo } from './table-io.js';
import type { Item } from './item-layout.js';

export const PENDING_PK = 'pending';
/** The key of events that change how every type reads. */
export const ANY_TYPE = '*';
/** How long a marker counts at most. */
export const PENDING_MARK_MS = 10 * 60_000;
/** Event ids a marker item holds at most (ids 0..63, 64..127, ...): under 1 KB, one write unit. */
export const PENDING_BUCKET = 64;
const padId = (id: number) => String(Math.max(0, id)).padStart(15, '0');

export interface PendingEvent {
  key: string;
  id: number;
}

/** The events grouped by marker item: "<key>\n<bucket start>" -> ids. */
function byBucket(events: readonly PendingEvent[]): Map<string, { key: string; bucket: number; ids: Set<number> }> {
  const out = new Map<string, { key: string; bucket: number; ids: Set<number> }>();
  for (const e of events) {
    const bucket = Math.floor(Math.max(0, e.id) / PENDING_BUCKET) * PENDING_BUCKET;
    const k = `${e.key}\n${bucket}`;
    const b = out.get(k) ?? { key: e.key, bucket, ids: new Set<number>() };
    b.ids.add(e.id);
    out.set(k, b);
  }
  return out;
}
const markerKey = (key: string, bucket: number) => ({ pk: { S: `${PENDING_PK}#${key}` }, sk: { S: padId(bucket) } });
const idSet = (ids: Iterable<number>) => ({ NS: [...ids].map(String) });
/** Marker items of this layout carry `v`; one without it is an earlier layout's marker of the single event its sk names. */
const LAYOUT = { N: '2' };
const isLegacy = (it: Item) => !it.v;
const idsOf = (it: Item): number[] => (isLegacy(it) ? [Number(it.sk.S)] : (it.ids?.NS ?? []).map(Number));
/** A write whose condition failed did nothing, which is what it was for; anything else is thrown on. */
const unlessConditionFailed = (e: unknown): undefined => {
  if (!(e instanceof ConditionalCheckFailedException)) throw e;
  return undefined;
};
/** A live marker: queued ids not expired (an emptied bucket not deleted yet holds none). */
const LIVE = 'expiresAt > :now AND (attribute_exists(ids) OR attribute_not_exists(v))';

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
    await pool([...byBucket(events).values()], this.concurrency, async ({ key, bucket, ids }) => {
      await this.ddb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: markerKey(key, bucket),
          UpdateExpression: 'ADD ids :ids SET expiresAt = :e, #ttl = :ttl, v = :v',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':ids': idSet(ids),
            ':e': { N: String(expiresAt) },
            ':ttl': { N: String(Math.ceil(expiresAt / 1000) + 3600) },
            ':v': LAYOUT,
          },
        }),
      );
    });
  }

  /** Clears the markers of applied events (idempotent; a consumer batch clears its events' markers at once, after its writes). */
  async clearMany(events: readonly PendingEvent[]): Promise<void> {
    await pool([...byBucket(events).values()], this.concurrency, async ({ key, bucket, ids }) => {
      const r = await this.ddb
        .send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: markerKey(key, bucket),
            UpdateExpression: 'DELETE ids :ids',
            ConditionExpression: 'attribute_exists(v)',
            ExpressionAttributeValues: { ':ids': idSet(ids) },
            ReturnValues: 'ALL_NEW',
          }),
        )
        // No marker item of this layout: nothing to clear (already cleared and deleted, or never marked).
        .catch(unlessConditionFailed);
      if (r?.Attributes && !('ids' in r.Attributes)) await this.dropEmpty(key, bucket);
    });
  }

  /** Deletes an emptied bucket, unless a mark has added ids to it since. */
  private async dropEmpty(key: string, bucket: number): Promise<void> {
    await this.ddb
      .send(
        new DeleteItemCommand({ TableName: this.table, Key: markerKey(key, bucket), ConditionExpression: 'attribute_exists(v) AND attribute_not_exists(ids)' }),
      )
      // Refilled since: it stays.
      .catch(unlessConditionFailed);
  }

  /** Every marker of `keys`, expired or not (the local stack's restart re-queues the events they name). */
  async list(keys: readonly string[]): Promise<PendingEvent[]> {
    const out: PendingEvent[] = [];
    for (const key of keys) {
      const { items } = await this.queryAll(this.byKey(key));
      for (const it of items) for (const id of idsOf(it).sort((a, b) => a - b)) out.push({ key, id });
    }
    return out;
  }

  /** The lowest event id with a marker of `key` (expired or not), or undefined when none has one. */
  async lowest(key: string): Promise<number | undefined> {
    let start: Item | undefined;
    do {
      // Buckets in id order; one emptied and not deleted yet (a clear cut short) holds no ids and is passed over.
      const r = await this.ddb.send(new QueryCommand({ ...this.byKey(key), Limit: 10, ExclusiveStartKey: start }));
      for (const it of r.Items ?? []) {
        const ids = idsOf(it);
        if (ids.length) return Math.min(...ids);
      }
      start = r.LastEvaluatedKey;
    } while (start);
    return undefined;
  }

  /** The first of `keys` with a live marker (an event queued and not applied), or undefined when none has one. */
  async firstPending(keys: readonly string[]): Promise<string | undefined> {
    const now = this.now();
    const found = await Promise.all(
      keys.map(async (key) => {
        const r = await this.ddb.send(
          new QueryCommand({
            ...this.byKey(key),
            FilterExpression: LIVE,
            Limit: 25,
            ExpressionAttributeValues: { ':pk': { S: `${PENDING_PK}#${key}` }, ':now': { N: String(now) } },
          }),
        );
        // More buckets than one page looked at, none live so far: counted as pending (the safe side).
        return (r.Items?.length ?? 0) > 0 || r.LastEvaluatedKey !== undefined;
      }),
    );
    return keys.find((_, i) => found[i]);
  }

  /**
   * Rewrites the earlier layout's markers of `keys` (one item an event) as buckets, keeping their expiry: the local
   * stack's start, before it re-queues what they name (their events' clears only reach buckets).
   */
  async migrateLegacy(keys: readonly string[]): Promise<number> {
    let moved = 0;
    for (const key of keys) {
      const legacy = (await this.queryAll(this.byKey(key))).items.filter(isLegacy);
      if (!legacy.length) continue;
      await this.mark(legacy.map((it) => ({ key, id: Number(it.sk.S) })));
      // A marker of an id starting a bucket has the bucket's key: the mark made it that bucket.
      const apart = legacy.filter((it) => Number(it.sk.S) % PENDING_BUCKET !== 0);
      await this.deleteItems(
        this.table,
        apart.map((it) => ({ pk: it.pk, sk: it.sk })),
      );
      moved += legacy.length;
    }
    return moved;
  }

  private byKey(key: string) {
    return {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk',
      ConsistentRead: true,
      ExpressionAttributeValues: { ':pk': { S: `${PENDING_PK}#${key}` } } as Record<string, { S: string } | { N: string }>,
    };
  }
}
