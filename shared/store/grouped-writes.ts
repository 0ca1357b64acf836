// Grouped writes: the final writes of concurrent read-merge-writes (an entity's item, its chunks and edges) sent together, each entity's atomically, many entities per TransactWriteItems call.
//
// Why: the consumer applies a batch's message groups at once, and each entity's write was up to three calls (edges put,
// the entity put under its lock, edges deleted). On one machine every call costs far more CPU than the item it
// carries (docs/benchmarks.md "Scale": the event burst is CPU bound), so the writes that are ready together are sent
// together. The price in AWS is a transactional write's double write units, hence a setting (STORE_WRITE_GROUPING).
//
// What it keeps: one write set is one entity's writes, sent all or nothing, under the same conditions the step-by-step
// path uses. Its outcome is per set: `written`; `lost` when the entity's own condition failed (the read-merge-write
// reads again, nothing of it was written); `fallback` when a condition on one of its other items failed or the set is
// too large for a transaction (the caller writes it step by step, as without grouping). Sets that were cancelled only
// because another set in the same call failed are sent again.
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type DynamoDBClient,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { EDGE_DELETE_CONDITION, EDGE_PUT_CONDITION } from './edge-items.js';
import { itemSize } from './item-codec.js';
import { backoff } from './table-io.js';
import type { Item } from './item-layout.js';
import type { TableNames } from './table-design.js';

/** One entity's writes: `ops[decisive]` is the entity item's conditional put, the lock every other op rides on. */
export interface WriteSet {
  ops: TransactWriteItem[];
  decisive: number;
}

/**
 * One read-merge-write's writes as a set, under the step-by-step path's conditions: new chunks, added edges (over
 * older writers' only), the entity put under its lock, removed edges (unless a newer writer's), the old chunks.
 */
export function entityWriteSet(
  tables: TableNames,
  w: { entityPut: NonNullable<TransactWriteItem['Put']>; chunks: Item[]; added: Item[]; removed: Item[]; oldChunks: Item[]; w: number },
): WriteSet {
  const ev = { ':w': { N: String(w.w) } };
  const ops: TransactWriteItem[] = [
    ...w.chunks.map((Item) => ({ Put: { TableName: tables.entities, Item } })),
    ...w.added.map((Item) => ({ Put: { TableName: tables.refs, Item, ConditionExpression: EDGE_PUT_CONDITION, ExpressionAttributeValues: ev } })),
    { Put: w.entityPut },
    ...w.removed.map((Key) => ({ Delete: { TableName: tables.refs, Key, ConditionExpression: EDGE_DELETE_CONDITION, ExpressionAttributeValues: ev } })),
    ...w.oldChunks.map((Key) => ({ Delete: { TableName: tables.entities, Key } })),
  ];
  return { ops, decisive: w.chunks.length + w.added.length };
}

export type WriteOutcome = 'written' | 'lost' | 'fallback';

/** DynamoDB's limits on one TransactWriteItems call (items; bytes, kept well under its 4 MB). */
export const MAX_TRANSACT_ITEMS = 100;
const MAX_TRANSACT_BYTES = 3_500_000;
/** Calls out at once; further sets wait for one of them. */
const MAX_IN_FLIGHT = 2;
/** Resends of a set cancelled for others or by a conflicting transaction before it fails. */
const MAX_RESENDS = 12;

interface Waiting {
  set: WriteSet;
  keys: string[];
  bytes: number;
  resends: number;
  resolve: (o: WriteOutcome) => void;
  reject: (e: unknown) => void;
}

const keyOf = (op: TransactWriteItem): string => {
  const table = op.Put?.TableName ?? op.Delete?.TableName ?? '';
  const it: Item = op.Put?.Item ?? op.Delete?.Key ?? {};
  return `${table}|${it.pk?.S}|${it.sk?.S}`;
};

/** Counters for tests and benchmarks: calls made and the sets they carried. */
export interface GroupedWriteStats {
  calls: number;
  sets: number;
  resent: number;
  fallbacks: number;
}

export class GroupedWrites {
  private queue: Waiting[] = [];
  private scheduled = false;
  private inFlight = 0;
  readonly stats: GroupedWriteStats = { calls: 0, sets: 0, resent: 0, fallbacks: 0 };

  constructor(private readonly ddb: DynamoDBClient) {}

  /** Sends `set` with whatever other sets are ready in the same turn of the event loop. */
  commit(set: WriteSet): Promise<WriteOutcome> {
    const bytes = set.ops.reduce((n, op) => n + (op.Put?.Item ? itemSize(op.Put.Item) : 100), 0);
    if (set.ops.length > MAX_TRANSACT_ITEMS || bytes > MAX_TRANSACT_BYTES) {
      this.stats.fallbacks++;
      return Promise.resolve('fallback');
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ set, keys: set.ops.map(keyOf), bytes, resends: 0, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Sends what waits at the end of this turn, unless MAX_IN_FLIGHT calls are out: then the sets wait for one to come
   * back and go together (no added latency when idle, larger calls under load).
   */
  private schedule(): void {
    if (this.scheduled || this.inFlight >= MAX_IN_FLIGHT || !this.queue.length) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      for (const group of this.pack(this.queue.splice(0))) {
        this.inFlight++;
        void this.send(group).finally(() => {
          this.inFlight--;
          this.schedule();
        });
      }
    });
  }

  /** Packs waiting sets into calls within DynamoDB's limits, no item twice in one call (a second write of it waits for the next). */
  private pack(waiting: Waiting[]): Waiting[][] {
    const groups: Array<{ sets: Waiting[]; items: number; bytes: number; keys: Set<string> }> = [];
    for (const w of waiting) {
      let g = groups.find(
        (c) => c.items + w.set.ops.length <= MAX_TRANSACT_ITEMS && c.bytes + w.bytes <= MAX_TRANSACT_BYTES && !w.keys.some((k) => c.keys.has(k)),
      );
      if (!g) groups.push((g = { sets: [], items: 0, bytes: 0, keys: new Set() }));
      g.sets.push(w);
      g.items += w.set.ops.length;
      g.bytes += w.bytes;
      for (const k of w.keys) g.keys.add(k);
    }
    return groups.map((g) => g.sets);
  }

  private async send(group: Waiting[]): Promise<void> {
    this.stats.calls++;
    this.stats.sets += group.length;
    if (group.length === 1 && group[0].set.ops.length === 1) return this.sendAlone(group[0]);
    try {
      await this.ddb.send(new TransactWriteItemsCommand({ TransactItems: group.flatMap((w) => w.set.ops) }));
      for (const w of group) w.resolve('written');
    } catch (e) {
      if (e instanceof TransactionCanceledException && e.CancellationReasons) return this.cancelled(group, e.CancellationReasons);
      // Anything else (a validation error of one set, a network failure): each set alone, so one cannot fail the others.
      if (group.length > 1) for (const w of group) void this.send([w]);
      else group[0].reject(e);
    }
  }

  /** A single put or delete needs no transaction (nor its double write units). */
  private async sendAlone(w: Waiting): Promise<void> {
    const op = w.set.ops[0];
    try {
      if (op.Put) await this.ddb.send(new PutItemCommand(op.Put));
      else await this.ddb.send(new DeleteItemCommand(op.Delete!));
      w.resolve('written');
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) w.resolve(w.set.decisive === 0 ? 'lost' : 'fallback');
      else w.reject(e);
    }
  }

  /** Maps a cancelled call's reasons (one per item, in order) back to its sets. */
  private cancelled(group: Waiting[], reasons: ReadonlyArray<{ Code?: string }>): void {
    let at = 0;
    const again: Waiting[] = [];
    let conflict = false;
    for (const w of group) {
      const mine = reasons.slice(at, at + w.set.ops.length).map((r) => r.Code ?? 'None');
      at += w.set.ops.length;
      if (mine[w.set.decisive] === 'ConditionalCheckFailed') w.resolve('lost');
      else if (mine.includes('ConditionalCheckFailed')) {
        this.stats.fallbacks++;
        w.resolve('fallback');
      } else if (w.resends >= MAX_RESENDS)
        w.reject(new Error(`grouped write cancelled ${w.resends} times: ${mine.filter((c) => c !== 'None').join(', ') || 'for others'}`));
      else {
        conflict ||= mine.some((c) => c !== 'None');
        w.resends++;
        again.push(w);
      }
    }
    if (!again.length) return;
    this.stats.resent += again.length;
    const requeue = () => {
      this.queue.push(...again);
      this.schedule();
    };
    // Cancelled only because of another set: at once. A conflicting transaction or throttling: after a backoff.
    if (conflict) void backoff(Math.min(again[0].resends, 6)).then(requeue);
    else requeue();
  }
}
