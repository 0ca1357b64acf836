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

export class LeaseLostError extends Error {
  constructor(owner: string) {
    super(`poller lease lost by ${owner}`);
    this.name = 'LeaseLostError';
  }
}

/**
 * One item holds owner, leaseUntil, seq and the cursor. Acquire takes the lease only when it is free or expired;
 * every heartbeat and cursor save is conditional on `owner = me AND seq = expected`, so a poller that lost its
 * lease (paused past its lease, then resumed) can never move the cursor: it gets LeaseLostError and stops.
 */
export class PollerLease {
  constructor(private readonly doc: DynamoDBDocumentClient, private readonly table: string, private readonly leaseMs: number) {}

  async acquire(owner: string, nowMs: number): Promise<LeaseHolder | null> {
    try {
      const out = await this.doc.send(new UpdateCommand({
        TableName: this.table,
        Key: KEY,
        UpdateExpression: 'SET #o = :me, leaseUntil = :until, seq = if_not_exists(seq, :zero) + :one',
        ConditionExpression: 'attribute_not_exists(#o) OR leaseUntil < :now OR #o = :me',
        ExpressionAttributeNames: { '#o': 'owner' },
        ExpressionAttributeValues: { ':me': owner, ':until': nowMs + this.leaseMs, ':now': nowMs, ':zero': 0, ':one': 1 },
        ReturnValues: 'ALL_NEW',
      }));
      const item = out.Attributes ?? {};
      const cursor = item.cursor ? CursorStateSchema.parse(item.cursor) : null;
      return { owner, cursor, seq: Number(item.seq) };
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return null;
      throw e;
    }
  }

  /** Extends the lease and, when given, saves the cursor; both only while this holder still owns the lease. */
  async save(holder: LeaseHolder, nowMs: number, cursor?: CursorState): Promise<void> {
    const names: Record<string, string> = { '#o': 'owner' };
    const values: Record<string, unknown> = { ':me': holder.owner, ':seq': holder.seq, ':next': holder.seq + 1, ':until': nowMs + this.leaseMs };
    let set = 'leaseUntil = :until, seq = :next';
    if (cursor) {
      set += ', #c = :cursor, cursorAt = :now';
      names['#c'] = 'cursor';
      values[':cursor'] = cursor;
      values[':now'] = nowMs;
    }
    try {
      await this.doc.send(new UpdateCommand({
        TableName: this.table,
        Key: KEY,
        UpdateExpression: `SET ${set}`,
        ConditionExpression: '#o = :me AND seq = :seq',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }));
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw new LeaseLostError(holder.owner);
      throw e;
    }
    holder.seq += 1;
    if (cursor) holder.cursor = cursor;
  }

  async release(holder: LeaseHolder): Promise<void> {
    try {
      await this.doc.send(new UpdateCommand({
        TableName: this.table,
        Key: KEY,
        UpdateExpression: 'SET leaseUntil = :zero, seq = :next',
        ConditionExpression: '#o = :me AND seq = :seq',
        ExpressionAttributeNames: { '#o': 'owner' },
        ExpressionAttributeValues: { ':me': holder.owner, ':seq': holder.seq, ':next': holder.seq + 1, ':zero': 0 },
      }));
      holder.seq += 1;
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
    }
  }

  /** The cursor as last saved, for /status and the import (which sets the starting point). */
  async read(): Promise<{ cursor: CursorState | null; cursorAt: number | null; owner: string | null; leaseUntil: number }> {
    const out = await this.doc.send(new GetCommand({ TableName: this.table, Key: KEY, ConsistentRead: true }));
    const item = out.Item;
    return {
      cursor: item?.cursor ? CursorStateSchema.parse(item.cursor) : null,
      cursorAt: typeof item?.cursorAt === 'number' ? item.cursorAt : null,
      owner: typeof item?.owner === 'string' ? item.owner : null,
      leaseUntil: Number(item?.leaseUntil ?? 0),
    };
  }

  /** Sets the cursor only if none exists yet (the import takes it before scanning, so nothing during the scan is lost). */
  async initialize(cursor: CursorState): Promise<boolean> {
    try {
      await this.doc.send(new PutCommand({
        TableName: this.table,
        Item: { ...KEY, cursor, seq: 0, leaseUntil: 0 },
        ConditionExpression: 'attribute_not_exists(pk)',
      }));
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }
}
