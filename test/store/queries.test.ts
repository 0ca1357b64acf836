import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReadinessStore } from '../../shared/store/index.js';
import { makeStore } from './helpers.js';

// queryPageSize 3 makes every multi-item query page through LastEvaluatedKey.
const ctx = await makeStore('queries', { queryPageSize: 3 });
afterAll(() => ctx.ddb.destroy());
const { store } = ctx;
const P = (id: number) => ({ type: 'Project', id, name: `P${id}` });
const U = (id: number) => ({ type: 'HumanUser', id, name: `User ${id}` });

beforeAll(async () => {
  const puts = [];
  for (let i = 1; i <= 12; i++) {
    puts.push(
      store.putEntity(
        {
          type: 'Shot',
          id: i,
          retired: i === 12,
          values: {
            code: `sh${String(i).padStart(3, '0')}`,
            project: P(i % 2 ? 1 : 2),
            sg_sequence: i <= 8 ? { type: 'Sequence', id: 100 + (i % 3), name: `sq${i % 3}` } : null,
            updated_at: `2024-01-${String(i).padStart(2, '0')}T00:00:00Z`,
          },
        },
        1,
      ),
    );
  }
  for (let i = 1; i <= 10; i++) {
    puts.push(
      store.putEntity(
        {
          type: 'Task',
          id: 1000 - i,
          retired: false,
          values: {
            content: `t${i}`,
            project: P(1),
            entity: { type: 'Shot', id: (i % 4) + 1, name: `sh00${(i % 4) + 1}` },
            // Membership lists in a site order that is not id order.
            task_assignees: i % 3 === 0 ? [] : [U(40 + (i % 2)), U(42), ...(i > 5 ? [{ type: 'Group', id: 5, name: 'Comp' }] : [])].reverse(),
            updated_at: '2024-02-01T00:00:00Z',
          },
        },
        1,
      ),
    );
  }
  await Promise.all(puts);
});

const ids = (r: { entities: Array<{ record: { id: number } }> }) => r.entities.map((e) => e.record.id);

describe('query primitives', () => {
  it('byType: a type in id order, with id ranges, across pages', async () => {
    const all = await store.byType('Shot');
    expect(ids(all)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(all.entities[11].record.retired).toBe(true);
    expect(all.stats.items).toBe(12);
    expect(all.stats.calls).toBeGreaterThanOrEqual(4);
    expect(ids(await store.byType('Shot', { from: 4, to: 6 }))).toEqual([4, 5, 6]);
    expect(ids(await store.byType('Step'))).toEqual([]);
  });

  it('byProject: one project of one type', async () => {
    const r = await store.byProject('Shot', 2);
    expect(ids(r)).toEqual([2, 4, 6, 8, 10, 12]);
    expect(r.stats.items).toBe(6);
    expect(ids(await store.byProject('Task', 2))).toEqual([]);
    expect((await store.byProject('Task', 1)).entities).toHaveLength(10);
  });

  it('byLink: an indexed entity field, reading only the matching items', async () => {
    const r = await store.byLink('Shot', 'sg_sequence', { type: 'Sequence', id: 101 });
    expect(ids(r)).toEqual([1, 4, 7]);
    expect(r.stats.items).toBe(3);
    const t = await store.byLink('Task', 'entity', { type: 'Shot', id: 2 });
    expect(ids(t)).toEqual([991, 995, 999]);
    expect(() => store.byLink('Task', 'content', { type: 'Shot', id: 2 })).toThrow(/no link slot/);
  });

  it('byRef / members: multi-entity membership, id order, stored field order kept', async () => {
    const refs = await store.refs({ type: 'HumanUser', id: 42 }, { type: 'Task', field: 'task_assignees' });
    expect(refs.rows.map((r) => r.id)).toEqual([990, 992, 993, 995, 996, 998, 999]);
    expect(refs.stats.items).toBe(7);
    const m = await store.members('Task', 'task_assignees', { type: 'Group', id: 5 });
    expect(ids(m)).toEqual([990, 992, 993]);
    // byRef keys plus one entity item each.
    expect(m.stats.items).toBe(6);
    const t990 = m.entities[0].record;
    expect(t990.values.task_assignees).toEqual([
      { type: 'Group', id: 5 },
      { type: 'HumanUser', id: 42 },
      { type: 'HumanUser', id: 40 },
    ]);
    // Every referencing field of every type, e.g. for rename propagation.
    const all = await store.refs({ type: 'Project', id: 2 });
    expect(all.rows.map((r) => `${r.type}.${r.field}#${r.id}`)).toEqual([
      'Shot.project#2',
      'Shot.project#4',
      'Shot.project#6',
      'Shot.project#8',
      'Shot.project#10',
      'Shot.project#12',
    ]);
  });

  it('byUpdated: ids by updated_at range', async () => {
    const r = await store.byUpdated('Shot', { from: '2024-01-03T00:00:00Z', to: '2024-01-05T00:00:00Z' });
    expect(r.rows).toEqual([3, 4, 5].map((id) => ({ id, updatedAt: `2024-01-0${id}T00:00:00Z` })));
    expect((await store.byUpdated('Shot', { from: '2024-01-12T00:00:00Z' })).rows.map((x) => x.id)).toEqual([12]);
    expect((await store.byUpdated('Task')).rows).toHaveLength(10);
  });

  it('getMany: batches of 100, request order, missing ids left out, items counted', async () => {
    const want = [12, 3, 999, 7, 1];
    const r = await store.getMany('Shot', [...want, 5000]);
    expect(ids(r)).toEqual([12, 3, 7, 1]);
    expect(r.stats.items).toBe(4);
    const many = Array.from({ length: 250 }, (_, i) => i + 1);
    const b = await store.getMany('Shot', many);
    expect(ids(b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(b.stats.calls).toBe(3);
  });
});

describe('readiness', () => {
  it('serves a type only once marked ready, and fields only once imported', async () => {
    const rs = new ReadinessStore(ctx.ddb, ctx.tables);
    expect((await rs.load()).isTypeReady('Shot')).toBe(false);
    await rs.markTypeReady('Shot', ['code', 'project']);
    await rs.markFieldsReady('Shot', ['sg_sequence']);
    let r = await rs.load();
    expect(r.isTypeReady('Shot')).toBe(true);
    expect(r.isFieldReady('Shot', 'sg_sequence')).toBe(true);
    expect(r.isFieldReady('Shot', 'description')).toBe(false);
    expect(r.isFieldReady('Shot', 'id')).toBe(true);
    expect(r.isTypeReady('Task')).toBe(false);
    await rs.markTypeNotReady('Shot');
    r = await rs.load();
    expect(r.isTypeReady('Shot')).toBe(false);
    expect(r.isFieldReady('Shot', 'code')).toBe(false);
    expect(await rs.isTypeReady('Shot')).toBe(false);
  });

  it('snapshots reload after maxAgeMs, not before', async () => {
    const rs = new ReadinessStore(ctx.ddb, ctx.tables);
    let clock = 0;
    const snap = rs.snapshots(1000, () => clock);
    expect((await snap()).isTypeReady('Task')).toBe(false);
    await rs.markTypeReady('Task', ['content']);
    clock = 999;
    expect((await snap()).isTypeReady('Task')).toBe(false);
    clock = 1001;
    expect((await snap()).isTypeReady('Task')).toBe(true);
  });
});
