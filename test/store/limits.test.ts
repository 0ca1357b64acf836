import { afterAll, describe, expect, it } from 'vitest';
import { QueryCommand, ScanCommand, type AttributeValue, type QueryCommandOutput, type ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import { itemSize } from '../../shared/store/index.js';
import { makeStore, prng } from './helpers.js';

// Its own file: writing 20,000 edge items takes DynamoDB Local about 20 s, so it runs beside the other store tests.
const ctx = await makeStore('limits');
afterAll(() => ctx.ddb.destroy());

describe('the 400 KB item limit', () => {
  it('spills a 1 MB text field and a 20,000-element multi-entity list into chunks and reads them back', async () => {
    const rnd = prng(7);
    const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 éü✓';
    let big = '';
    while (big.length < 1_000_000) big += alphabet[Math.floor(rnd() * alphabet.length)];
    const many = Array.from({ length: 20_000 }, (_, i) => ({ type: i % 7 === 0 ? 'Group' : 'HumanUser', id: i + 1, name: `User Name ${i + 1}` }));
    const values = { code: 'big', f_text: big, f_multi_entity: many, f_serializable: { blob: big.slice(0, 200_000) } };
    expect((await ctx.store.putEntity({ type: 'Thing', id: 100, retired: false, values }, 1)).status).toBe('applied');

    const items: Array<Record<string, AttributeValue>> = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const r: QueryCommandOutput = await ctx.ddb.send(
        new QueryCommand({
          TableName: ctx.tables.entities,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: 'Thing#100' } },
          ExclusiveStartKey: start,
        }),
      );
      items.push(...r.Items!);
      start = r.LastEvaluatedKey;
    } while (start);
    const chunks = items.filter((it) => it.sk.S!.startsWith('X#'));
    expect(chunks.length).toBeGreaterThan(1);
    // One edge item per link value, in the refs table (keyed by target), none in the entities table.
    expect(items.filter((it) => it.sk.S !== 'E' && !it.sk.S!.startsWith('X#'))).toEqual([]);
    let edges = 0;
    let from: Record<string, AttributeValue> | undefined;
    do {
      const r: ScanCommandOutput = await ctx.ddb.send(new ScanCommand({ TableName: ctx.tables.refs, Select: 'COUNT', ExclusiveStartKey: from }));
      edges += r.Count ?? 0;
      from = r.LastEvaluatedKey;
    } while (from);
    expect(edges).toBe(20_000);
    for (const it of items) expect(itemSize(it)).toBeLessThan(400 * 1024);
    expect(itemSize(items.find((it) => it.sk.S === 'E')!)).toBeLessThan(300_001);

    const { record, links } = (await ctx.store.getMany('Thing', [100])).entities[0];
    expect(record.values.f_text).toBe(big);
    expect(record.values.f_multi_entity).toEqual(many.map(({ type, id }) => ({ type, id })));
    expect(record.values.f_serializable).toEqual({ blob: big.slice(0, 200_000) });
    expect(links).toHaveLength(20_000);
    expect(links[19_999]).toEqual({ ...many[19_999], retired: false });

    // Membership through byRef works for an element of the huge list.
    const m = await ctx.store.refs({ type: 'HumanUser', id: 12_345 }, { type: 'Thing' });
    expect(m.rows).toEqual([{ type: 'Thing', field: 'f_multi_entity', id: 100 }]);

    // A field-level change to the spilled text rewrites its chunks under a new generation and drops the old ones.
    expect((await ctx.store.applyChange('Thing', 100, { f_text: 'short now' }, 2)).status).toBe('applied');
    const after = (await ctx.store.getMany('Thing', [100])).entities[0];
    expect(after.record.values.f_text).toBe('short now');
    expect(after.record.values.f_multi_entity).toHaveLength(20_000);
    const left = await ctx.ddb.send(
      new QueryCommand({
        TableName: ctx.tables.entities,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :x)',
        ExpressionAttributeValues: { ':pk': { S: 'Thing#100' }, ':x': { S: 'X#f_text#' } },
      }),
    );
    expect(left.Count).toBe(0);
  });
});
