import { afterAll, describe, expect, it } from 'vitest';
import { makeStore, prng } from './helpers.js';

const ctx = await makeStore('writes', { concurrency: 8 });
afterAll(() => ctx.ddb.destroy());
const { store } = ctx;

const shuffle = <T>(xs: T[], rnd: () => number): T[] => {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
};

describe('versioned writes', () => {
  it('rejects an older whole-entity write after a newer one', async () => {
    expect((await store.putEntity({ type: 'Shot', id: 1, retired: false, values: { code: 'new' } }, 20)).status).toBe('applied');
    expect((await store.putEntity({ type: 'Shot', id: 1, retired: false, values: { code: 'old' } }, 10)).status).toBe('stale');
    expect((await store.putEntity({ type: 'Shot', id: 1, retired: false, values: { code: 'same' } }, 20)).status).toBe('stale');
    expect((await store.get('Shot', 1))!.record.values.code).toBe('new');
  });

  it('never lets an older version overwrite a newer one under concurrency', async () => {
    const rnd = prng(42);
    const versions = shuffle(Array.from({ length: 24 }, (_, i) => i + 1), rnd);
    const users = [1, 2, 3, 4, 5, 6];
    const assignees = (v: number) => users.filter((u) => (v >> (u % 5)) & 1).map((id) => ({ type: 'HumanUser', id, name: `u${id}` }));
    const results = await Promise.all(versions.map((v) => store.putEntity({
      type: 'Task', id: 7, retired: false,
      values: { content: `v${v}`, task_assignees: assignees(v), entity: { type: 'Shot', id: 100 + v, name: `sh${v}` } },
    }, v)));
    expect(results.map((r) => r.status)).toContain('applied');
    const got = (await store.get('Task', 7))!;
    expect(got.version).toBe(24);
    expect(got.record.values.content).toBe('v24');
    expect(got.record.values.task_assignees).toEqual(assignees(24).map(({ type, id }) => ({ type, id })));
    // Edge items agree with the stored links: every current assignee is found through byRef, no former one is.
    for (const u of users) {
      const { rows } = await store.refs({ type: 'HumanUser', id: u }, { type: 'Task', field: 'task_assignees' });
      expect(rows.map((r) => r.id)).toEqual(assignees(24).some((a) => a.id === u) ? [7] : []);
    }
    const slot = await store.byLink('Task', 'entity', { type: 'Shot', id: 124 });
    expect(slot.entities.map((e) => e.record.id)).toEqual([7]);
    expect((await store.byLink('Task', 'entity', { type: 'Shot', id: 110 })).entities).toEqual([]);
  });

  it('keeps a newer field-level change when an older whole-entity fetch lands after it', async () => {
    await store.putEntity({ type: 'Shot', id: 2, retired: false, values: { code: 'a', description: 'd1' } }, 10);
    expect((await store.applyChange('Shot', 2, { code: 'b' }, 12)).status).toBe('applied');
    // A fetch that reflects events up to 11: newer than the last whole write, older than the code change.
    expect((await store.putEntity({ type: 'Shot', id: 2, retired: false, values: { code: 'stale', description: 'd2' } }, 11)).status).toBe('applied');
    let rec = (await store.get('Shot', 2))!.record;
    expect(rec.values).toEqual({ code: 'b', description: 'd2' });
    // An older event for the same field is stale; one for another field still applies.
    expect((await store.applyChange('Shot', 2, { code: 'c' }, 11)).status).toBe('stale');
    expect((await store.applyChange('Shot', 2, { description: 'd3' }, 12)).status).toBe('applied');
    // A fetch newer than every field version wins everywhere.
    expect((await store.putEntity({ type: 'Shot', id: 2, retired: false, values: { code: 'z' } }, 13)).status).toBe('applied');
    rec = (await store.get('Shot', 2))!.record;
    expect(rec.values).toEqual({ code: 'z' });
    expect((await store.applyChange('Shot', 3, { code: 'x' }, 99)).status).toBe('missing');
  });

  it('orders concurrent field changes per field', async () => {
    await store.putEntity({ type: 'Shot', id: 4, retired: false, values: { code: 'c0', description: 'd0' } }, 1);
    const rnd = prng(9);
    const changes = shuffle([
      ...Array.from({ length: 10 }, (_, i) => ({ f: 'code', v: 2 + 2 * i })),
      ...Array.from({ length: 10 }, (_, i) => ({ f: 'description', v: 3 + 2 * i })),
    ], rnd);
    await Promise.all(changes.map((c) => store.applyChange('Shot', 4, { [c.f]: `${c.f}@${c.v}` }, c.v)));
    const got = (await store.get('Shot', 4))!;
    expect(got.record.values).toEqual({ code: 'code@20', description: 'description@21' });
    expect(got.version).toBe(21);
  });

  it('applies multi-entity deltas in version order and retires/revives with versions', async () => {
    await store.putEntity({ type: 'Task', id: 8, retired: false, values: { content: 't', task_assignees: [{ type: 'HumanUser', id: 1, name: 'A' }] } }, 5);
    expect((await store.applyLinkDelta('Task', 8, 'task_assignees', { added: [{ type: 'HumanUser', id: 2, name: 'B' }] }, 6)).status).toBe('applied');
    expect((await store.applyLinkDelta('Task', 8, 'task_assignees', { removed: [{ type: 'HumanUser', id: 1 }] }, 6)).status).toBe('stale');
    expect((await store.applyLinkDelta('Task', 8, 'task_assignees', { removed: [{ type: 'HumanUser', id: 1 }], added: [{ type: 'Group', id: 3, name: 'G' }] }, 7)).status).toBe('applied');
    const t = (await store.get('Task', 8))!;
    expect(t.record.values.task_assignees).toEqual([{ type: 'HumanUser', id: 2 }, { type: 'Group', id: 3 }]);
    expect((await store.refs({ type: 'HumanUser', id: 1 })).rows).toEqual([]);
    expect((await store.refs({ type: 'Group', id: 3 })).rows).toEqual([{ type: 'Task', field: 'task_assignees', id: 8 }]);

    expect(await store.setRetired('Task', 8, true, 9)).toEqual({ status: 'applied', propagate: { retired: true } });
    expect((await store.setRetired('Task', 8, false, 8)).status).toBe('stale');
    expect((await store.get('Task', 8))!.record.retired).toBe(true);
    // A whole fetch older than the retirement keeps it retired.
    await store.putEntity({ type: 'Task', id: 8, retired: false, values: { content: 't2' } }, 8);
    expect((await store.get('Task', 8))!.record).toMatchObject({ retired: true, values: { content: 't2' } });
    expect((await store.setRetired('Task', 8, false, 10)).status).toBe('applied');
    expect((await store.get('Task', 8))!.record.retired).toBe(false);
  });
});

describe('link facts: names and retired targets', () => {
  it('reports identifier changes and propagates the new name to every referencing link', async () => {
    await store.putEntity({ type: 'HumanUser', id: 50, retired: false, values: { name: 'Old Name' } }, 1);
    await store.putEntity({ type: 'Task', id: 51, retired: false, values: { content: 'a', task_assignees: [{ type: 'HumanUser', id: 49, name: 'X' }, { type: 'HumanUser', id: 50, name: 'Old Name' }] } }, 1);
    await store.putEntity({ type: 'Task', id: 52, retired: false, values: { content: 'b', task_assignees: [{ type: 'HumanUser', id: 50, name: 'Old Name' }] } }, 1);
    const r = await store.applyChange('HumanUser', 50, { name: 'New Name' }, 2);
    expect(r).toEqual({ status: 'applied', propagate: { name: 'New Name' } });
    const p = await store.propagateLinkFacts({ type: 'HumanUser', id: 50 }, r.propagate!);
    expect(p.entities).toBe(2);
    const { entities } = await store.getMany('Task', [51, 52]);
    expect(entities.map((e) => e.links)).toEqual([
      [{ type: 'HumanUser', id: 49, name: 'X', retired: false }, { type: 'HumanUser', id: 50, name: 'New Name', retired: false }],
      [{ type: 'HumanUser', id: 50, name: 'New Name', retired: false }],
    ]);
    // Running it again changes nothing (the reconciliation pass repeats it).
    expect((await store.propagateLinkFacts({ type: 'HumanUser', id: 50 }, { name: 'New Name' })).entities).toBe(0);
    // Retirement of the target flags the stored links; revival clears the flag.
    await store.propagateLinkFacts({ type: 'HumanUser', id: 50 }, { retired: true });
    expect((await store.get('Task', 52))!.links).toEqual([{ type: 'HumanUser', id: 50, name: 'New Name', retired: true }]);
    // A later whole fetch of the source keeps the flag (the site does not show links to retired targets' state).
    await store.putEntity({ type: 'Task', id: 52, retired: false, values: { content: 'b2', task_assignees: [{ type: 'HumanUser', id: 50, name: 'New Name' }] } }, 5);
    expect((await store.get('Task', 52))!.links[0].retired).toBe(true);
    await store.propagateLinkFacts({ type: 'HumanUser', id: 50 }, { retired: false });
    expect((await store.get('Task', 52))!.links[0].retired).toBe(false);
  });

  it('repairEdges restores missing edge items and removes orphans', async () => {
    await store.putEntity({ type: 'Task', id: 60, retired: false, values: { content: 'r', step: { type: 'Step', id: 3, name: 'Comp' } } }, 1);
    const { DeleteItemCommand, PutItemCommand } = await import('@aws-sdk/client-dynamodb');
    await ctx.ddb.send(new DeleteItemCommand({ TableName: ctx.tables.entities, Key: { pk: { S: 'Task#60' }, sk: { S: 'L#step#Step#3' } } }));
    await ctx.ddb.send(new PutItemCommand({ TableName: ctx.tables.entities, Item: {
      pk: { S: 'Task#60' }, sk: { S: 'L#step#Step#4' }, ref: { S: 'Step#4' }, src: { S: 'Task.step#0000000060' }, ev: { N: '0' },
    } }));
    expect((await store.refs({ type: 'Step', id: 3 })).rows).toEqual([]);
    expect(await store.repairEdges('Task', 60)).toEqual({ added: 1, removed: 1 });
    expect((await store.refs({ type: 'Step', id: 3 })).rows).toEqual([{ type: 'Task', field: 'step', id: 60 }]);
    expect((await store.refs({ type: 'Step', id: 4 })).rows).toEqual([]);
  });
});
