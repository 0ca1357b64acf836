// DynamoDB I/O loops under the entity store: batched gets and writes with retries of unprocessed keys, bounded parallelism, and paged queries with a size cap.
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  QueryCommand,
  type ConsumedCapacity,
  type DynamoDBClient,
  type QueryCommandInput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { addStats, emptyStats, type Item, type ReadStats } from './item-layout.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const backoff = (attempt: number) => sleep(Math.min(1000, 20 * 2 ** attempt) * (0.5 + Math.random() / 2));

export async function pool<T>(items: readonly T[], limit: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i]);
    }
  });
  await Promise.all(workers);
}

export function capacity(c: ConsumedCapacity | ConsumedCapacity[] | undefined): number {
  if (!c) return 0;
  return (Array.isArray(c) ? c : [c]).reduce((n, x) => n + (x.CapacityUnits ?? 0), 0);
}

export interface QueryPage {
  items: Item[];
  stats: ReadStats;
}

/** A query that would read more items than its caller allows (a whole type or project too large to answer quickly). */
export class ScanTooLarge extends Error {
  constructor(readonly maxItems: number) {
    super(`more than ${maxItems} items`);
    this.name = 'ScanTooLarge';
  }
}

/** The batch and query loops the entity store's reads and writes are built on. */
export class TableIo {
  protected readonly concurrency: number;
  protected readonly queryPageSize: number | undefined;

  constructor(
    readonly ddb: DynamoDBClient,
    opts: { concurrency?: number; queryPageSize?: number } = {},
  ) {
    this.concurrency = opts.concurrency ?? 16;
    this.queryPageSize = opts.queryPageSize;
  }

  protected async batchWrite(table: string, requests: WriteRequest[]): Promise<void> {
    const batches: WriteRequest[][] = [];
    for (let i = 0; i < requests.length; i += 25) batches.push(requests.slice(i, i + 25));
    await pool(batches, this.concurrency, async (batch) => {
      let pending = batch;
      for (let attempt = 0; pending.length; attempt++) {
        if (attempt > 10) throw new Error(`BatchWriteItem: ${pending.length} items still unprocessed after ${attempt} attempts`);
        if (attempt) await backoff(attempt);
        const r = await this.ddb.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } }));
        pending = r.UnprocessedItems?.[table] ?? [];
      }
    });
  }

  protected writeItems(table: string, items: Item[]): Promise<void> {
    return this.batchWrite(
      table,
      items.map((Item) => ({ PutRequest: { Item } })),
    );
  }

  protected deleteItems(table: string, keys: Item[]): Promise<void> {
    return this.batchWrite(
      table,
      keys.map((Key) => ({ DeleteRequest: { Key } })),
    );
  }

  /** Which of `keys` exist in `table` (consistent BatchGetItem of the keys only), as "pk|sk". */
  protected async presentKeys(table: string, keys: Item[]): Promise<Set<string>> {
    const items = await this.batchGet(table, keys, { projection: 'pk, sk', consistent: true });
    return new Set(items.map((it) => `${it.pk.S}|${it.sk.S}`));
  }

  /**
   * BatchGetItem of any number of keys: 100 per request, `concurrency` requests at once, unprocessed keys retried
   * with backoff. Items come back in no particular order; `stats` (when given) counts what was read.
   */
  protected async batchGet(table: string, keys: readonly Item[], opts: { projection?: string; consistent?: boolean; stats?: ReadStats } = {}): Promise<Item[]> {
    const out: Item[] = [];
    const batches: Item[][] = [];
    for (let i = 0; i < keys.length; i += 100) batches.push(keys.slice(i, i + 100));
    await pool(batches, this.concurrency, async (batch) => {
      let pending = batch;
      for (let attempt = 0; pending.length; attempt++) {
        if (attempt > 10) throw new Error(`BatchGetItem: ${pending.length} keys still unprocessed after ${attempt} attempts`);
        if (attempt) await backoff(attempt);
        const r = await this.ddb.send(
          new BatchGetItemCommand({
            RequestItems: {
              [table]: {
                Keys: pending,
                ...(opts.projection ? { ProjectionExpression: opts.projection } : {}),
                ...(opts.consistent ? { ConsistentRead: true } : {}),
              },
            },
            ...(opts.stats ? { ReturnConsumedCapacity: 'TOTAL' as const } : {}),
          }),
        );
        const got = r.Responses?.[table] ?? [];
        if (opts.stats) addStats(opts.stats, { items: got.length, rcu: capacity(r.ConsumedCapacity), calls: 1 });
        out.push(...got);
        pending = (r.UnprocessedKeys?.[table]?.Keys ?? []) as Item[];
      }
    });
    return out;
  }

  /** Every item of a query; with `maxItems`, throws ScanTooLarge as soon as more than that many have come back. */
  protected async queryAll(input: QueryCommandInput, stats: ReadStats = emptyStats(), maxItems = Infinity): Promise<QueryPage> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const limit = Number.isFinite(maxItems) ? Math.min(this.queryPageSize ?? Infinity, maxItems + 1 - items.length) : this.queryPageSize;
      const r = await this.ddb.send(
        new QueryCommand({ ...input, ExclusiveStartKey: start, ReturnConsumedCapacity: 'TOTAL', Limit: Number.isFinite(limit) ? limit : undefined }),
      );
      items.push(...(r.Items ?? []));
      addStats(stats, { items: r.ScannedCount ?? r.Count ?? 0, rcu: capacity(r.ConsumedCapacity), calls: 1 });
      if (items.length > maxItems) throw new ScanTooLarge(maxItems);
      start = r.LastEvaluatedKey;
    } while (start);
    return { items, stats };
  }
}
