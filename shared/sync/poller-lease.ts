// The poller's lease and its conditionally written cursor in the state table, so a second poller is harmless.
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { CursorStateSchema, type CursorState } from './event-log.js';

const KEY = { pk: 'poller', sk: 'eventlog' };

export interface LeaseHolder {
  owner: string;
  /** Cursor as of acquisition; updated on each successful save. */
  cursor: CursorState | null;
  /** Monotonic write counter of the cursor item; every save is conditional on it. */
  seq: number;
}

/** The lease item as last saved: the cursor and when it was saved, the owner's heartbeat, and what the last poll recorded. */
export interface LeaseRecord {
  cursor: CursorState | null;
  cursorAt: number | null;
  owner: string | null;
  leaseUntil: number;
  beatAt: number | null;
  /** False when the last poll read a full page (more events wait behind it). */
  caughtUp: boolean;
  /** When the poller found the site down (epoch ms), or null while it polls. */
  siteDownSince: number | null;
  /** When the cursor was last found older than the site's retention (the types were taken out of service then). */
  gapAt: number | null;
}

export class LeaseLostError extends Error {
  constructor(owner: string) {
    super(`poller lease lost by ${owner}`);
    this.name = 'LeaseLostError';
  }
}

/** What a save records beside the cursor: whether the poll read the log to its end, and since when the site is down (null: up). */
export interface PollMarks {
  caughtUp?: boolean;
  siteDownSince?: number | null;
  gapAt?: number;
}

/**
 * One item holds owner, leaseUntil, seq, the cursor and the owner's heartbeat (`beatAt`, every save). Acquire takes
 * the lease only when it is free or expired, or when the owner's heartbeat is older than `staleAfterMs` (it saves every
 * poll, so such an owner is dead or stalled: taking over is safe because it can no longer save anything);
 * every heartbeat and cursor save is conditional on `owner = me AND seq = expected`, so a poller that lost its
 * lease (paused past its lease, then resumed) can never move the cursor: it gets LeaseLostError and stops.
 */
export class PollerLease {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly leaseMs: number,
    private readonly staleAfterMs?: number,
  ) {}

  async acquire(owner: string, nowMs: number): Promise<LeaseHolder | null> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: KEY,
          UpdateExpression: 'SET #o = :me, leaseUntil = :until, beatAt = :now, seq = if_not_exists(seq, :zero) + :one',
          ConditionExpression: 'attribute_not_exists(#o) OR leaseUntil < :now OR #o = :me OR beatAt < :stale',
          ExpressionAttributeNames: { '#o': 'owner' },
          ExpressionAttributeValues: {
            ':me': owner,
            ':until': nowMs + this.leaseMs,
            ':now': nowMs,
            ':zero': 0,
            ':one': 1,
            ':stale': this.staleAfterMs === undefined ? 0 : nowMs - this.staleAfterMs,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const item = out.Attributes ?? {};
      const cursor = item.cursor ? CursorStateSchema.parse(item.cursor) : null;
      return { owner, cursor, seq: Number(item.seq) };
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return null;
      throw e;
    }
  }

  /** Extends the lease and, when given, saves the cursor; both only while this holder still owns the lease. */
  async save(holder: LeaseHolder, nowMs: number, cursor?: CursorState, marks: PollMarks = {}): Promise<void> {
    const names: Record<string, string> = { '#o': 'owner' };
    const values: Record<string, unknown> = {
      ':me': holder.owner,
      ':seq': holder.seq,
      ':next': holder.seq + 1,
      ':until': nowMs + this.leaseMs,
      ':beat': nowMs,
    };
    let set = 'leaseUntil = :until, seq = :next, beatAt = :beat';
    if (marks.caughtUp !== undefined) {
      set += ', caughtUp = :caught';
      values[':caught'] = marks.caughtUp;
    }
    if (marks.gapAt !== undefined) {
      set += ', gapAt = :gap';
      values[':gap'] = marks.gapAt;
    }
    if (marks.siteDownSince !== undefined) {
      set += ', siteDownSince = :down';
      values[':down'] = marks.siteDownSince;
    }
    if (cursor) {
      set += ', #c = :cursor, cursorAt = :now';
      names['#c'] = 'cursor';
      values[':cursor'] = cursor;
      values[':now'] = nowMs;
    }
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: KEY,
          UpdateExpression: `SET ${set}`,
          ConditionExpression: '#o = :me AND seq = :seq',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw new LeaseLostError(holder.owner);
      throw e;
    }
    holder.seq += 1;
    if (cursor) holder.cursor = cursor;
  }

  async release(holder: LeaseHolder): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: KEY,
          UpdateExpression: 'SET leaseUntil = :zero, seq = :next',
          ConditionExpression: '#o = :me AND seq = :seq',
          ExpressionAttributeNames: { '#o': 'owner' },
          ExpressionAttributeValues: { ':me': holder.owner, ':seq': holder.seq, ':next': holder.seq + 1, ':zero': 0 },
        }),
      );
      holder.seq += 1;
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
    }
  }

  /** The cursor as last saved, for /status and the import (which sets the starting point). */
  async read(): Promise<LeaseRecord> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: KEY, ConsistentRead: true }));
    const item = out.Item;
    return {
      caughtUp: item?.caughtUp !== false,
      siteDownSince: typeof item?.siteDownSince === 'number' ? item.siteDownSince : null,
      beatAt: typeof item?.beatAt === 'number' ? item.beatAt : null,
      gapAt: typeof item?.gapAt === 'number' ? item.gapAt : null,
      cursor: item?.cursor ? CursorStateSchema.parse(item.cursor) : null,
      cursorAt: typeof item?.cursorAt === 'number' ? item.cursorAt : null,
      owner: typeof item?.owner === 'string' ? item.owner : null,
      leaseUntil: Number(item?.leaseUntil ?? 0),
    };
  }

  /** Sets the cursor only if none exists yet (the import takes it before scanning, so nothing during the scan is lost). */
  async initialize(cursor: CursorState): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...KEY, cursor, seq: 0, leaseUntil: 0 },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }
}
