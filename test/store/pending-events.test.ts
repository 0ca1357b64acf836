// Pending markers (shared/store/pending-events.ts): buckets of event ids marked and cleared idempotently, emptied buckets deleted, the earlier one-item-an-event layout still counted and migrated.
import { afterAll, describe, expect, it } from 'vitest';
import { PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { PENDING_BUCKET, PENDING_MARK_MS, PendingEvents } from '../../shared/store/index.js';
import { dynamo, freshTables } from './helpers.js';

const ddb = dynamo();
const tables = await freshTables(ddb, 'pending');
afterAll(() => ddb.destroy());
let clock = Date.now();
const pending = new PendingEvents(ddb, tables.state, () => clock);
const ev = (key: string, ...ids: number[]) => ids.map((id) => ({ key, id }));

/** The marker items of a key as stored: sk -> their ids (undefined when the item holds none). */
async function stored(key: string): Promise<Record<string, number[] | undefined>> {
  const r = await ddb.send(
    new QueryCommand({
      TableName: tables.state,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: `pending#${key}` } },
      ConsistentRead: true,
    }),
  );
  return Object.fromEntries((r.Items ?? []).map((it) => [it.sk.S!, it.ids?.NS?.map(Number).sort((a, b) => a - b)]));
}

describe('pending markers', () => {
  it('holds a bucket of ids in one item, so a page of events is a few writes', async () => {
    const ids = Array.from({ length: 200 }, (_, i) => 1000 + i);
    await pending.mark(ev('Task', ...ids));
    const items = await stored('Task');
    expect(Object.keys(items)).toHaveLength(Math.ceil(1200 / PENDING_BUCKET) - Math.floor(1000 / PENDING_BUCKET));
    expect(
      Object.values(items)
        .flat()
        .sort((a, b) => a! - b!),
    ).toEqual(ids);
    expect((await pending.list(['Task'])).map((m) => m.id)).toEqual(ids);
    expect(await pending.lowest('Task')).toBe(1000);
    expect(await pending.firstPending(['Shot', 'Task'])).toBe('Task');
    await pending.clearMany(ev('Task', ...ids));
    expect(await stored('Task')).toEqual({});
    expect(await pending.firstPending(['Task'])).toBeUndefined();
    expect(await pending.lowest('Task')).toBeUndefined();
  });

  it('clears only the applied ids; marking and clearing twice changes nothing', async () => {
    await pending.mark(ev('Shot', 5, 6, 70));
    await pending.mark(ev('Shot', 5, 6, 70)); // a poller re-sending after a crash
    await pending.clearMany(ev('Shot', 6));
    await pending.clearMany(ev('Shot', 6, 9999)); // redelivered, and one never marked
    expect(await stored('Shot')).toEqual({ [String(0).padStart(15, '0')]: [5], [String(64).padStart(15, '0')]: [70] });
    expect(await pending.lowest('Shot')).toBe(5);
    await pending.clearMany(ev('Shot', 5));
    expect(await pending.lowest('Shot')).toBe(70);
    await pending.clearMany(ev('Shot', 70, 5));
    expect(await pending.firstPending(['Shot'])).toBeUndefined();
    expect(await stored('Shot')).toEqual({});
  });

  it('loses no mark to concurrent clears of the same bucket', async () => {
    const ids = Array.from({ length: 60 }, (_, i) => 128 + i);
    await pending.mark(ev('Version', ...ids));
    // Ten batches clear their events at once while the poller marks one more in the bucket.
    await Promise.all([
      ...Array.from({ length: 10 }, (_, b) => pending.clearMany(ev('Version', ...ids.slice(b * 6, b * 6 + 6)))),
      pending.mark(ev('Version', 190)),
    ]);
    expect(await pending.list(['Version'])).toEqual([{ key: 'Version', id: 190 }]);
    expect(await pending.firstPending(['Version'])).toBe('Version');
  });

  it('stops counting a marker PENDING_MARK_MS after its last mark, and lists it still', async () => {
    await pending.mark(ev('Note', 300));
    clock += PENDING_MARK_MS + 1;
    expect(await pending.firstPending(['Note'])).toBeUndefined();
    expect(await pending.list(['Note'])).toEqual([{ key: 'Note', id: 300 }]);
    await pending.mark(ev('Note', 301)); // the same bucket marked again: it counts again
    expect(await pending.firstPending(['Note'])).toBe('Note');
  });

  it("counts the earlier layout's markers (one item an event) and migrates them into buckets", async () => {
    const put = (id: number) =>
      ddb.send(
        new PutItemCommand({
          TableName: tables.state,
          Item: { pk: { S: 'pending#Asset' }, sk: { S: String(id).padStart(15, '0') }, expiresAt: { N: String(clock + 60_000) }, ttl: { N: '1' } },
        }),
      );
    await put(640); // the key of the bucket starting at 640
    await put(700);
    expect(await pending.firstPending(['Asset'])).toBe('Asset');
    expect(await pending.lowest('Asset')).toBe(640);
    expect(await pending.migrateLegacy(['Asset', 'Shot'])).toBe(2);
    expect(await stored('Asset')).toEqual({ [String(640).padStart(15, '0')]: [640, 700] });
    expect(await pending.migrateLegacy(['Asset'])).toBe(0);
    await pending.clearMany(ev('Asset', 640, 700));
    expect(await pending.firstPending(['Asset'])).toBeUndefined();
  });
});
