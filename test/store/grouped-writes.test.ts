// Grouped writes (shared/store/grouped-writes.ts): concurrent entities' writes share calls, each entity's writes land all or nothing, outcomes stay per entity.
import { afterAll, describe, expect, it } from 'vitest';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { edgeKey, GroupedWrites } from '../../shared/store/index.js';
import { makeStore } from './helpers.js';

const grouped = await makeStore('grouped', { groupWrites: true });
const plain = await makeStore('grouped-plain');
afterAll(() => {
  grouped.ddb.destroy();
  plain.ddb.destroy();
});
const users = (ids: number[]) => ids.map((id) => ({ type: 'HumanUser', id, name: `u${id}` }));

describe('grouped writes', () => {
  it('sends concurrent entities’ writes in few calls and ends exactly as step-by-step writes do', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => 100 + i);
    const write = (s: typeof grouped.store, v: number) =>
      Promise.all(
        ids.map((id) => s.putEntity({ type: 'Task', id, retired: false, values: { content: `t${id}@${v}`, task_assignees: users([id % 4, 10 + v]) } }, v)),
      );
    for (const s of [grouped.store, plain.store]) {
      await write(s, 1);
      // Edges move: assignee 11 is replaced by 12 on every Task.
      await write(s, 2);
    }
    const stats = grouped.store.grouped!.stats;
    expect(stats.sets).toBe(60);
    expect(stats.calls).toBeLessThanOrEqual(stats.sets / 4);
    for (const id of ids) expect((await grouped.store.get('Task', id))!.record).toEqual((await plain.store.get('Task', id))!.record);
    for (const u of [0, 1, 2, 3, 11, 12]) {
      const of = async (s: typeof grouped.store) => (await s.refs({ type: 'HumanUser', id: u })).rows.map((r) => r.id).sort();
      expect(await of(grouped.store)).toEqual(await of(plain.store));
    }
    expect((await grouped.store.refs({ type: 'HumanUser', id: 11 })).rows).toEqual([]);
  });

  it('decides each set alone: the lock lost, written, a condition on another item failed; nothing of a failed set is written', async () => {
    const { ddb, tables } = grouped;
    const gw = new GroupedWrites(ddb);
    await ddb.send(new PutItemCommand({ TableName: tables.entities, Item: { pk: { S: 'X#1' }, sk: { S: 'E' }, w: { N: '5' } } }));
    await ddb.send(new PutItemCommand({ TableName: tables.refs, Item: { pk: { S: 'R#3' }, sk: { S: 's' }, ev: { N: '9' } } }));
    const put = (pk: string, w: number, cond?: string) => ({
      Put: { TableName: tables.entities, Item: { pk: { S: pk }, sk: { S: 'E' }, w: { N: String(w) } }, ...(cond ? { ConditionExpression: cond } : {}) },
    });
    const side = (pk: string) => ({ Put: { TableName: tables.refs, Item: { pk: { S: pk }, sk: { S: 's' }, ev: { N: '2' } } } });
    const [lost, written, fallback] = await Promise.all([
      gw.commit({ ops: [side('R#1'), put('X#1', 2, 'attribute_not_exists(pk)')], decisive: 1 }),
      gw.commit({ ops: [side('R#2'), put('X#2', 1, 'attribute_not_exists(pk)')], decisive: 1 }),
      gw.commit({
        ops: [{ Put: { ...side('R#3').Put, ConditionExpression: 'ev < :w', ExpressionAttributeValues: { ':w': { N: '2' } } } }, put('X#3', 1)],
        decisive: 1,
      }),
    ]);
    expect([lost, written, fallback]).toEqual(['lost', 'written', 'fallback']);
    const get = async (table: string, pk: string) =>
      (await ddb.send(new GetItemCommand({ TableName: table, Key: { pk: { S: pk }, sk: { S: pk.startsWith('X') ? 'E' : 's' } } }))).Item;
    expect(await get(tables.refs, 'R#2')).toBeDefined();
    expect(await get(tables.entities, 'X#2')).toBeDefined();
    expect(await get(tables.refs, 'R#1')).toBeUndefined();
    expect((await get(tables.entities, 'X#1'))!.w.N).toBe('5');
    expect(await get(tables.entities, 'X#3')).toBeUndefined();
    expect((await get(tables.refs, 'R#3'))!.ev.N).toBe('9');
    // The three went in one call; the written one was cancelled with the others and sent again.
    expect(gw.stats).toMatchObject({ sets: 4, calls: 2, resent: 1, fallbacks: 1 });
  });

  it('an edge a newer writer left makes its entity fall back to step-by-step writes, which keep that edge', async () => {
    const { ddb, tables, store } = grouped;
    await store.putEntity({ type: 'Task', id: 300, retired: false, values: { content: 'x', task_assignees: [] } }, 1);
    const edge = edgeKey('Task', 300, 'task_assignees', { type: 'HumanUser', id: 7 });
    await ddb.send(new PutItemCommand({ TableName: tables.refs, Item: { ...edge, ev: { N: '100' } } }));
    const before = store.grouped!.stats.fallbacks;
    expect((await store.putEntity({ type: 'Task', id: 300, retired: false, values: { content: 'y', task_assignees: users([7]) } }, 2)).status).toBe('applied');
    expect(store.grouped!.stats.fallbacks).toBe(before + 1);
    expect((await ddb.send(new GetItemCommand({ TableName: tables.refs, Key: edge }))).Item!.ev.N).toBe('100');
    expect((await store.get('Task', 300))!.record.values.content).toBe('y');
  });

  it('a set beyond one transaction’s 100 items is written step by step', async () => {
    const { store } = grouped;
    const before = store.grouped!.stats.fallbacks;
    const many = users(Array.from({ length: 120 }, (_, i) => 1000 + i));
    expect((await store.putEntity({ type: 'Task', id: 301, retired: false, values: { content: 'wide', task_assignees: many } }, 1)).status).toBe('applied');
    expect(store.grouped!.stats.fallbacks).toBe(before + 1);
    expect((await store.refs({ type: 'HumanUser', id: 1119 })).rows).toEqual([{ type: 'Task', field: 'task_assignees', id: 301 }]);
  });
});
