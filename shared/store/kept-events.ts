// The kept event log: EventLogEntry rows of the kept types in the state table, one partition per (project, event type), sorted by id, with a TTL.
import { GetItemCommand, QueryCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { emptyStats, type ReadStats } from './item-layout.js';
import { ScanTooLarge, TableIo } from './table-io.js';

/** A row as the poller read it from the site (at least id and event_type; project a Project link or null). */
export interface KeptRow {
  id: number;
  event_type: string;
  project?: unknown;
  [field: string]: unknown;
}

export const KEPT_PK = 'evlog';
/** The item holding the highest event id created through the cache. */
const WRITTEN_KEY = { pk: { S: KEPT_PK }, sk: { S: 'written' } };
/** Ids are zero-padded in the sort key so string order is id order (event ids stay far below 10^15). */
const ID_DIGITS = 15;
const padId = (id: number) => String(Math.max(0, Math.min(id, 10 ** ID_DIGITS - 1))).padStart(ID_DIGITS, '0');

/** The project id of a row's `project` link, or null (events outside any project). */
export function keptProjectId(row: { project?: unknown }): number | null {
  const p = row.project as { type?: unknown; id?: unknown } | null | undefined;
  return p && p.type === 'Project' && typeof p.id === 'number' ? p.id : null;
}

/** pk "evlog#<project id or ->#<event_type>". */
export function keptPartition(project: number | null, eventType: string): string {
  return `${KEPT_PK}#${project ?? '-'}#${eventType}`;
}

/** A row whose JSON is larger than this is not kept (DynamoDB items are at most 400 KB): the window moves past it. */
export const MAX_KEPT_ROW_BYTES = 380_000;

export interface KeptRange {
  project: number | null;
  eventType: string;
  fromId: number;
  toId: number;
  /** Only the first `take` rows of the range from its low (`asc`) or high (`desc`) end: one Query with a Limit. */
  end?: { direction: 'asc' | 'desc'; take: number };
}

/**
 * Items: pk keptPartition(...), sk the padded id, `row` the row as JSON text (the site's key order inside `meta`
 * survives; a DynamoDB map would not keep it), `ttl` when DynamoDB may delete it. Writes are idempotent puts (a
 * redelivered poll writes the same item again). Reads are consistent queries of one partition's id range.
 */
export class KeptEvents extends TableIo {
  constructor(
    ddb: DynamoDBClient,
    private readonly table: string,
  ) {
    super(ddb);
  }

  /**
   * Records that an EventLogEntry with id `id` was created through the cache (a pass-through write): until the poller
   * has read past it, reads whose range holds it pass (read-your-writes). Keeps the highest such id.
   */
  async noteWritten(id: number): Promise<void> {
    await this.ddb
      .send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: WRITTEN_KEY,
          UpdateExpression: 'SET n = :id',
          ConditionExpression: 'attribute_not_exists(n) OR n < :id',
          ExpressionAttributeValues: { ':id': { N: String(id) } },
        }),
      )
      .catch((e: Error) => {
        if (e.name !== 'ConditionalCheckFailedException') throw e;
      });
  }

  /** The highest EventLogEntry id created through the cache (0: none). */
  async written(): Promise<number> {
    const r = await this.ddb.send(new GetItemCommand({ TableName: this.table, Key: WRITTEN_KEY, ConsistentRead: true }));
    return Number(r.Item?.n?.N ?? 0);
  }

  /** Writes the rows; returns the ids of those too large to keep (never written: the caller must not claim them). */
  async write(rows: readonly KeptRow[], ttlS: number): Promise<number[]> {
    const tooLarge: number[] = [];
    const items = [];
    for (const r of rows) {
      const text = JSON.stringify(r);
      if (Buffer.byteLength(text, 'utf8') > MAX_KEPT_ROW_BYTES) {
        tooLarge.push(r.id);
        continue;
      }
      items.push({ pk: { S: keptPartition(keptProjectId(r), r.event_type) }, sk: { S: padId(r.id) }, row: { S: text }, ttl: { N: String(ttlS) } });
    }
    if (items.length) await this.writeItems(this.table, items);
    return tooLarge;
  }

  /**
   * Rows of the ranges (ids inclusive, one Query each, all at once), at most `maxRows` in all (else ScanTooLarge), in
   * no particular order across ranges. A row that does not parse is left out and reported: it never fails the read (the caller then passes).
   */
  async read(ranges: readonly KeptRange[], maxRows: number, stats: ReadStats = emptyStats()): Promise<{ rows: KeptRow[]; unreadable: number }> {
    const pages = await Promise.all(
      ranges
        .filter((r) => r.fromId <= r.toId)
        .map((r) => {
          const input = {
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :a AND :b',
            ExpressionAttributeValues: { ':pk': { S: keptPartition(r.project, r.eventType) }, ':a': { S: padId(r.fromId) }, ':b': { S: padId(r.toId) } },
            ProjectionExpression: '#row',
            ExpressionAttributeNames: { '#row': 'row' },
            ConsistentRead: true,
          };
          if (!r.end) return this.queryAll(input, stats, maxRows);
          return this.ddb
            .send(new QueryCommand({ ...input, ScanIndexForward: r.end.direction === 'asc', Limit: Math.min(r.end.take, maxRows + 1) }))
            .then((out) => ({ items: out.Items ?? [] }));
        }),
    );
    const items = pages.flatMap((p) => p.items);
    if (items.length > maxRows) throw new ScanTooLarge(maxRows);
    const rows: KeptRow[] = [];
    let unreadable = 0;
    for (const it of items) {
      try {
        const row = JSON.parse(it.row?.S ?? '') as KeptRow;
        if (typeof row?.id === 'number' && typeof row.event_type === 'string') rows.push(row);
        else unreadable++;
      } catch {
        unreadable++;
      }
    }
    return { rows, unreadable };
  }
}
