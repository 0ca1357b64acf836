import { afterAll, describe, expect, it } from 'vitest';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { makeStore } from './helpers.js';

const ctx = await makeStore('codec');
afterAll(() => ctx.ddb.destroy());

/** One value of every data type, in the site's wire form (links with name). */
const THING = {
  code: 'thing_001',
  f_text: 'héllo ✓ "quoted" \n multi-line \u0000 nul',
  f_number: -42,
  f_float: 0.1,
  f_checkbox: false,
  f_date: '2024-02-29',
  f_date_time: '2024-02-29T23:59:59Z',
  f_duration: 480,
  f_percent: 55,
  f_currency: 1234.56,
  f_timecode: 86400,
  f_footage: 1204,
  f_list: 'b',
  f_status_list: 'ip',
  f_entity: { type: 'CustomEntity05', id: 7, name: 'ce_7' },
  f_multi_entity: [
    { type: 'HumanUser', id: 3, name: 'Zoë' },
    { type: 'Group', id: 1, name: 'Comp' },
    { type: 'HumanUser', id: 1, name: null },
  ],
  f_entity_type: 'Shot',
  f_url: { url: 'https://x.example/a?b=1', name: 'a.mov', content_type: 'video/quicktime', link_type: 'upload', type: 'Attachment', id: 12, local_path: null },
  f_color: '255,0,10',
  f_tag_list: ['hero', 'wip', ''],
  f_image: 'https://sg-media.example/thumb.jpg?sig=abc',
  f_serializable: { z: 1, a: [1, 2.5, { y: null, b: 'x' }], nested: { k: true } },
  f_uuid: '5b6f2f1e-0c1a-4f8b-9a43-0a1b2c3d4e5f',
  f_password: '*******',
  f_pivot_column: null,
  f_summary: 17,
  f_calculated: 'x',
  f_addressing: [{ type: 'HumanUser', id: 3, name: 'Zoë' }],
  f_url_template: 'https://x/{id}',
  project: { type: 'Project', id: 70, name: 'Demo' },
  updated_at: '2024-03-01T10:00:00Z',
};

describe('entity codec round trip', () => {
  it('stores and reads back a value of every data type exactly', async () => {
    expect(await ctx.store.putEntity({ type: 'Thing', id: 1, retired: false, values: THING }, 1)).toEqual({ status: 'applied' });
    const { entities } = await ctx.store.getMany('Thing', [1]);
    expect(entities).toHaveLength(1);
    const { record, links, version } = entities[0];
    expect(version).toBe(1);
    expect(record.type).toBe('Thing');
    expect(record.id).toBe(1);
    expect(record.retired).toBe(false);
    const expected: Record<string, unknown> = { ...THING };
    // Links read back as {type, id}; their names travel separately.
    expected.f_entity = { type: 'CustomEntity05', id: 7 };
    expected.f_multi_entity = THING.f_multi_entity.map(({ type, id }) => ({ type, id }));
    expected.project = { type: 'Project', id: 70 };
    expect(record.values).toEqual(expected);
    // Key order of dict values and element order of lists survive byte for byte.
    for (const f of ['f_url', 'f_serializable', 'f_tag_list', 'f_addressing', 'f_multi_entity', 'f_text', 'f_float', 'f_currency'] as const) {
      expect(JSON.stringify(record.values[f])).toBe(JSON.stringify(expected[f]));
    }
    const key = (l: { type: string; id: number }) => `${l.type}#${l.id}`;
    expect([...links].sort((x, y) => key(x).localeCompare(key(y)))).toEqual([
      { type: 'CustomEntity05', id: 7, name: 'ce_7', retired: false },
      { type: 'Group', id: 1, name: 'Comp', retired: false },
      { type: 'HumanUser', id: 1, name: null, retired: false },
      { type: 'HumanUser', id: 3, name: 'Zoë', retired: false },
      { type: 'Project', id: 70, name: 'Demo', retired: false },
    ]);
    expect(links).toHaveLength(5);
  });

  it('keeps null values and empty lists distinct from unset fields', async () => {
    await ctx.store.putEntity(
      { type: 'Thing', id: 2, retired: true, values: { code: 'x', f_text: null, f_multi_entity: [], f_tag_list: [], f_entity: null } },
      5,
    );
    const { record } = (await ctx.store.getMany('Thing', [2])).entities[0];
    expect(record.retired).toBe(true);
    expect(record.values).toEqual({ code: 'x', f_text: null, f_multi_entity: [], f_tag_list: [], f_entity: null });
    expect('f_number' in record.values).toBe(false);
  });

  it('drops fields that are not in the cached schema and never stores id as a value', async () => {
    await ctx.store.putEntity({ type: 'Thing', id: 3, retired: false, values: { id: 3, code: 'y', sg_not_cached: 'z' } }, 1);
    const { record } = (await ctx.store.getMany('Thing', [3])).entities[0];
    expect(record.values).toEqual({ code: 'y' });
  });

  it('writes the index attributes: project, updated_at, link slots, and one edge per link value', async () => {
    await ctx.store.putEntity(
      {
        type: 'Task',
        id: 9,
        retired: false,
        values: {
          content: 'anim',
          project: { type: 'Project', id: 70, name: 'Demo' },
          entity: { type: 'Shot', id: 5, name: 'sh005' },
          step: { type: 'Step', id: 2, name: 'Anim' },
          updated_at: '2024-01-02T03:04:05Z',
          task_assignees: [
            { type: 'HumanUser', id: 3, name: 'Zoë' },
            { type: 'Group', id: 1, name: 'Comp' },
          ],
        },
      },
      1,
    );
    const r = await ctx.ddb.send(
      new QueryCommand({
        TableName: ctx.tables.entities,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: 'Task#9' } },
      }),
    );
    const bySk = new Map(r.Items!.map((it) => [it.sk.S!, it]));
    const e = bySk.get('E')!;
    expect(e.t.S).toBe('Task');
    expect(e.tp.S).toBe('Task#70');
    expect(e.u.S).toBe('2024-01-02T03:04:05Z#0000000009');
    // Slots in field-name order: entity -> l1, step -> l2.
    expect(e.l1.S).toBe('Task.entity#Shot#5');
    expect(e.l2.S).toBe('Task.step#Step#2');
    expect(e.l3).toBeUndefined();
    // Nothing but the entity item in the entities table; edge items in the refs table, keyed by target, and only for
    // links no other index covers: project (byProject) and the slot fields (byLinkN) have none.
    expect([...bySk.keys()]).toEqual(['E']);
    expect(e.eg.SS).toEqual(['task_assignees']);
    for (const [target, other] of [
      ['HumanUser#3', 'Group#1'],
      ['Group#1', 'HumanUser#3'],
    ]) {
      const edges = await ctx.ddb.send(
        new QueryCommand({
          TableName: ctx.tables.refs,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :src)',
          ExpressionAttributeValues: { ':pk': { S: target }, ':src': { S: 'Task.' } },
        }),
      );
      expect(edges.Items, other).toEqual([{ pk: { S: target }, sk: { S: 'Task.task_assignees#0000000009' }, ev: { N: '1' } }]);
    }
    for (const target of ['Project#70', 'Shot#5', 'Step#2']) {
      const none = await ctx.ddb.send(
        new QueryCommand({
          TableName: ctx.tables.refs,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :src)',
          ExpressionAttributeValues: { ':pk': { S: target }, ':src': { S: 'Task.' } },
        }),
      );
      expect(none.Items, target).toEqual([]);
    }
  });
});
