// The record of entities recently served with signed URLs (state table, pk "volatile-read", one item per entity with its earliest expiry, TTL): what the reconciler renews before they expire.
import { pool } from './table-io.js';
import { BatchWriteItemCommand, QueryCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

export const RECENT_VOLATILE_PK = 'volatile-read';
/** An entity stays "recently read" this long after its last served read (the item's TTL). */
export const DEFAULT_RECENT_TTL_S = 3600;
/** Entries of the per-container memory of what was recorded (cleared when full: it only saves writes). */
const MEMORY_ENTRIES = 10_000;

/** An entity served with signed URLs, and when the earliest of them expires (ms). */
export interface RecentVolatile {
  type: string;
  id: number;
  expiresMs: number;
}

export interface RecentVolatileOptions {
  ddb: DynamoDBClient;
  table: string;
  ttlS?: number;
  now?: () => number;
}

export class RecentVolatileReads {
  /** "Type#id" -> [recorded at, expiry recorded]: the same entity is written again only after a quarter of the TTL or with another expiry. */
  private readonly recorded = new Map<string, [number, number]>();
  private readonly now: () => number;
  private readonly ttlS: number;

  constructor(private readonly o: RecentVolatileOptions) {
    this.now = o.now ?? Date.now;
    this.ttlS = o.ttlS ?? DEFAULT_RECENT_TTL_S;
  }

  /** Records served entities (best effort: unprocessed items are dropped, the next read records them). */
  async record(refs: readonly RecentVolatile[]): Promise<number> {
    const at = this.now();
    const due = refs.filter((r) => {
      const seen = this.recorded.get(`${r.type}#${r.id}`);
      return !seen || at - seen[0] > (this.ttlS * 1000) / 4 || seen[1] !== r.expiresMs;
    });
    if (this.recorded.size + due.length > MEMORY_ENTRIES) this.recorded.clear();
    const ttl = String(Math.floor(at / 1000) + this.ttlS);
    const batches: RecentVolatile[][] = [];
    for (let i = 0; i < due.length; i += 25) batches.push(due.slice(i, i + 25));
    await pool(batches, 4, async (batch) => {
      await this.o.ddb.send(
        new BatchWriteItemCommand({
          RequestItems: {
            [this.o.table]: batch.map((r) => ({
              PutRequest: {
                Item: {
                  pk: { S: RECENT_VOLATILE_PK },
                  sk: { S: `${r.type}#${r.id}` },
                  xp: { N: String(Math.floor(r.expiresMs)) },
                  ttl: { N: ttl },
                },
              },
            })),
          },
        }),
      );
      for (const r of batch) this.recorded.set(`${r.type}#${r.id}`, [at, r.expiresMs]);
    });
    return due.length;
  }

  /** Recorded entities (not past their TTL) whose earliest signature expires before `beforeMs`, earliest first, at most `max` (reads at most `scanMax` items). */
  async expiringBefore(beforeMs: number, max: number, scanMax = 10_000): Promise<RecentVolatile[]> {
    const out: RecentVolatile[] = [];
    const nowS = Math.floor(this.now() / 1000);
    let start: Record<string, AttributeValue> | undefined;
    let read = 0;
    do {
      const page = await this.o.ddb.send(
        new QueryCommand({
          TableName: this.o.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: RECENT_VOLATILE_PK } },
          ExclusiveStartKey: start,
          Limit: Math.min(1000, scanMax - read),
        }),
      );
      for (const it of page.Items ?? []) {
        read++;
        const m = /^(.+)#(\d+)$/.exec(it.sk?.S ?? '');
        const exp = Number(it.xp?.N);
        if (!m || Number(it.ttl?.N ?? 0) <= nowS || !(exp < beforeMs)) continue;
        out.push({ type: m[1], id: Number(m[2]), expiresMs: exp });
      }
      start = page.LastEvaluatedKey;
    } while (start && read < scanMax);
    return out.sort((a, b) => a.expiresMs - b.expiresMs).slice(0, max);
  }

  /** After a renewal: the entity's new earliest expiry (its TTL unchanged; nothing when the record is gone). */
  async renewed(ref: RecentVolatile): Promise<void> {
    await this.o.ddb
      .send(
        new UpdateItemCommand({
          TableName: this.o.table,
          Key: { pk: { S: RECENT_VOLATILE_PK }, sk: { S: `${ref.type}#${ref.id}` } },
          UpdateExpression: 'SET xp = :e',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':e': { N: String(Math.floor(ref.expiresMs)) } },
        }),
      )
      .catch((e: unknown) => {
        if ((e as Error).name !== 'ConditionalCheckFailedException') throw e;
      });
  }
}
