import { afterAll, describe, expect, it } from 'vitest';
import { EntityStore } from '../../shared/store/index.js';
import { makeStore, prng } from './helpers.js';

const ctx = await makeStore('writes', { concurrency: 8 });
// The same writes with each read-merge-write's final writes grouped into transactions (shared/store/grouped-writes.ts).
const grouped = await makeStore('writes-grouped', { concurrency: 8, groupWrites: true });
afterAll(() => {
  ctx.ddb.destroy();
  grouped.ddb.destroy();
});
const { store } = ctx;

const shuffle = <T>(xs: T[], rnd: () => number): T[] => {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
};

describe.each([
  { mode: 'step by step', store },
  { mode: 'grouped', store: grouped.store },
])('versioned writes ($mode)', ({ store }) => {
  it('rejects an older whole-entity write after a newer one', async () => {
    expect((await store.putEntity({ type: 'Shot', id: 1, retired: false, values: { code: 'new' } }, 20)).status).toBe('applied');
    expect((await store.putEntity({ type: 'Shot', id: 1, retired: false, values: { code: 'old' } }, 10)).status).toBe('stale');
    expect((await store.putEntity({ type: 'Shot', id: 1, retired: false, values: { code: 'same' } }, 20)).status).toBe('stale');
    expect((await store.get('Shot', 1))!.record.values.code).toBe('new');
  });

  it('never lets an older version overwrite a newer one under concurrency', async () => {
    const rnd = prng(42);
    const versions = shuffle(
      Array.from({ length: 24 }, (_, i) => i + 1),
      rnd,
    );
    const users = [1, 2, 3, 4, 5, 6];
    const assignees = (v: number) => users.filter((u) => (v >> (u % 5)) & 1).map((id) => ({ type: 'HumanUser', id, name: `u${id}` }));
    const results = await Promise.all(
      versions.map((v) =>
        store.putEntity(
          {
            type: 'Task',
            id: 7,
            retired: false,
            values: { content: `v${v}`, task_assignees: assignees(v), entity: { type: 'Shot', id: 100 + v, name: `sh${v}` } },
          },
          v,
        ),
      ),
    );
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
    const changes = shuffle(
      [...Array.from({ length: 10 }, (_, i) => ({ f: 'code', v: 2 + 2 * i })), ...Array.from({ length: 10 }, (_, i) => ({ f: 'description', v: 3 + 2 * i }))],
      rnd,
    );
    await Promise.all(changes.map((c) => store.applyChange('Shot', 4, { [c.f]: `${c.f}@${c.v}` }, c.v)));
    const got = (await store.get('Shot', 4))!;
    expect(got.record.values).toEqual({ code: 'code@20', description: 'description@21' });
    expect(got.version).toBe(21);
  });

  it('applies multi-entity deltas in version order and retires/revives with versions', async () => {
    await store.putEntity({ type: 'Task', id: 8, retired: false, values: { content: 't', task_assignees: [{ type: 'HumanUser', id: 1, name: 'A' }] } }, 5);
    expect((await store.applyLinkDelta('Task', 8, 'task_assignees', { added: [{ type: 'HumanUser', id: 2, name: 'B' }] }, 6)).status).toBe('applied');
    expect((await store.applyLinkDelta('Task', 8, 'task_assignees', { removed: [{ type: 'HumanUser', id: 1 }] }, 6)).status).toBe('stale');
    expect(
      (await store.applyLinkDelta('Task', 8, 'task_assignees', { removed: [{ type: 'HumanUser', id: 1 }], added: [{ type: 'Group', id: 3, name: 'G' }] }, 7))
        .status,
    ).toBe('applied');
    const t = (await store.get('Task', 8))!;
    expect(t.record.values.task_assignees).toEqual([
      { type: 'HumanUser', id: 2 },
      { type: 'Group', id: 3 },
    ]);
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
    await store.putEntity(
      {
        type: 'Task',
        id: 51,
        retired: false,
        values: {
          content: 'a',
          task_assignees: [
            { type: 'HumanUser', id: 49, name: 'X' },
            { type: 'HumanUser', id: 50, name: 'Old Name' },
          ],
        },
      },
      1,
    );
    await store.putEntity(
      { type: 'Task', id: 52, retired: false, values: { content: 'b', task_assignees: [{ type: 'HumanUser', id: 50, name: 'Old Name' }] } },
      1,
    );
    const r = await store.applyChange('HumanUser', 50, { name: 'New Name' }, 2);
    expect(r).toEqual({ status: 'applied', propagate: { name: 'New Name' } });
    const p = await store.propagateLinkFacts({ type: 'HumanUser', id: 50 }, r.propagate!);
    expect(p.entities).toBe(2);
    const { entities } = await store.getMany('Task', [51, 52]);
    expect(entities.map((e) => e.links)).toEqual([
      [
        { type: 'HumanUser', id: 49, name: 'X', retired: false },
        { type: 'HumanUser', id: 50, name: 'New Name', retired: false },
      ],
      [{ type: 'HumanUser', id: 50, name: 'New Name', retired: false }],
    ]);
    // Running it again changes nothing (the reconciliation pass repeats it).
    expect((await store.propagateLinkFacts({ type: 'HumanUser', id: 50 }, { name: 'New Name' })).entities).toBe(0);
    // Retirement of the target flags the stored links; revival clears the flag.
    await store.propagateLinkFacts({ type: 'HumanUser', id: 50 }, { retired: true });
    expect((await store.get('Task', 52))!.links).toEqual([{ type: 'HumanUser', id: 50, name: 'New Name', retired: true }]);
    // A later whole fetch of the source keeps the flag (the site does not show links to retired targets' state).
    await store.putEntity(
      { type: 'Task', id: 52, retired: false, values: { content: 'b2', task_assignees: [{ type: 'HumanUser', id: 50, name: 'New Name' }] } },
      5,
    );
    expect((await store.get('Task', 52))!.links[0].retired).toBe(true);
    await store.propagateLinkFacts({ type: 'HumanUser', id: 50 }, { retired: false });
    expect((await store.get('Task', 52))!.links[0].retired).toBe(false);
  });

  it('repairEdges restores missing edge items; propagation removes the orphans it meets', async () => {
    await store.putEntity({ type: 'Thing', id: 60, retired: false, values: { code: 'r', f_entity: { type: 'Shot', id: 3, name: 'sh3' } } }, 1);
    const { DeleteItemCommand, PutItemCommand } = await import('@aws-sdk/client-dynamodb');
    await ctx.ddb.send(new DeleteItemCommand({ TableName: ctx.tables.refs, Key: { pk: { S: 'Shot#3' }, sk: { S: 'Thing.f_entity#0000000060' } } }));
    await ctx.ddb.send(
      new PutItemCommand({
        TableName: ctx.tables.refs,
        Item: {
          pk: { S: 'Shot#4' },
          sk: { S: 'Thing.f_entity#0000000060' },
          ev: { N: '0' },
        },
      }),
    );
    expect((await store.refs({ type: 'Shot', id: 3 })).rows).toEqual([]);
    expect(await store.repairEdges('Thing', 60)).toEqual({ added: 1, removed: 0 });
    expect(await store.repairEdges('Thing', 60)).toEqual({ added: 0, removed: 0 });
    expect((await store.refs({ type: 'Shot', id: 3 })).rows).toEqual([{ type: 'Thing', field: 'f_entity', id: 60 }]);
    // The orphan edge to Shot 4 is found, changes nothing in the entity, and is deleted.
    expect((await store.refs({ type: 'Shot', id: 4 })).rows).toEqual([{ type: 'Thing', field: 'f_entity', id: 60 }]);
    expect((await store.propagateLinkFacts({ type: 'Shot', id: 4 }, { name: 'sh4' })).entities).toBe(0);
    expect((await store.refs({ type: 'Shot', id: 4 })).rows).toEqual([]);
    expect((await store.get('Thing', 60))!.links).toEqual([{ type: 'Shot', id: 3, name: 'sh3', retired: false }]);
  });

  it('a renamed Project reaches every entity linking it through `project` (byProject, no edge items)', async () => {
    const project = { type: 'Project', id: 900, name: 'Old Show' };
    await store.putEntity({ type: 'Project', id: 900, retired: false, values: { name: 'Old Show' } }, 1);
    await store.putEntity({ type: 'Sequence', id: 901, retired: false, values: { code: 'sq1', project } }, 1);
    for (const id of [902, 903]) await store.putEntity({ type: 'Shot', id, retired: false, values: { code: `sh${id}`, project } }, 1);
    await store.putEntity({ type: 'Task', id: 904, retired: false, values: { content: 't', project } }, 1);
    await store.putEntity({ type: 'Thing', id: 905, retired: false, values: { code: 'x', project } }, 1);
    // Another project's entity is left alone.
    await store.putEntity({ type: 'Shot', id: 906, retired: false, values: { code: 'other', project: { type: 'Project', id: 999, name: 'Other' } } }, 1);
    const r = await store.applyChange('Project', 900, { name: 'New Show' }, 2);
    expect(r.propagate).toEqual({ name: 'New Show' });
    expect((await store.propagateLinkFacts({ type: 'Project', id: 900 }, r.propagate!)).entities).toBe(5);
    const linking = [
      ['Sequence', 901],
      ['Shot', 902],
      ['Shot', 903],
      ['Task', 904],
      ['Thing', 905],
    ] as const;
    for (const [type, id] of linking)
      expect({ type, id, links: (await store.get(type, id))!.links }).toEqual({
        type,
        id,
        links: [{ type: 'Project', id: 900, name: 'New Show', retired: false }],
      });
    expect((await store.get('Shot', 906))!.links).toEqual([{ type: 'Project', id: 999, name: 'Other', retired: false }]);
    // Retirement propagates the same way.
    await store.propagateLinkFacts({ type: 'Project', id: 900 }, { retired: true });
    for (const [type, id] of linking) expect((await store.get(type, id))!.links[0].retired).toBe(true);
  });

  it('a renamed Sequence reaches every entity linking it through a link slot field (byLinkN, no edge items)', async () => {
    const seq = { type: 'Sequence', id: 910, name: 'sq_old' };
    await store.putEntity({ type: 'Sequence', id: 910, retired: false, values: { code: 'sq_old' } }, 1);
    for (const id of [911, 912]) await store.putEntity({ type: 'Shot', id, retired: false, values: { code: `sh${id}`, sg_sequence: seq } }, 1);
    // Task.entity (slot) holds Shots or Sequences; a Thing links it through a field with edge items.
    await store.putEntity({ type: 'Task', id: 913, retired: false, values: { content: 't', entity: seq } }, 1);
    await store.putEntity({ type: 'Thing', id: 914, retired: false, values: { code: 'x', f_entity: { type: 'Shot', id: 911, name: 'sh911' } } }, 1);
    expect((await store.refs({ type: 'Sequence', id: 910 })).rows).toEqual([
      { type: 'Shot', field: 'sg_sequence', id: 911 },
      { type: 'Shot', field: 'sg_sequence', id: 912 },
      { type: 'Task', field: 'entity', id: 913 },
    ]);
    const r = await store.applyChange('Sequence', 910, { code: 'sq_new' }, 2);
    expect((await store.propagateLinkFacts({ type: 'Sequence', id: 910 }, r.propagate!)).entities).toBe(3);
    for (const [type, id] of [
      ['Shot', 911],
      ['Shot', 912],
      ['Task', 913],
    ] as const) {
      expect((await store.get(type, id))!.links).toEqual([{ type: 'Sequence', id: 910, name: 'sq_new', retired: false }]);
    }
    // A renamed Shot reaches the Thing through its edge item.
    const s = await store.applyChange('Shot', 911, { code: 'sh911b' }, 3);
    expect((await store.propagateLinkFacts({ type: 'Shot', id: 911 }, s.propagate!)).entities).toBe(1);
    expect((await store.get('Thing', 914))!.links).toEqual([{ type: 'Shot', id: 911, name: 'sh911b', retired: false }]);
  });
});

describe('import writes and the creation journal', () => {
  const shots = (ids: number[], code: string) =>
    ids.map((id) => ({ type: 'Shot', id, retired: false, values: { code, sg_sequence: { type: 'Sequence', id: 1, name: 'sq' } } }));

  it('blind: an entity created between the existence check and the blind write comes back as a suspect', async () => {
    const seen: number[][] = [];
    const importing = new EntityStore(ctx.ddb, ctx.tables, ctx.schema, {
      onImportChecked: async (fresh) => {
        seen.push(fresh.map((f) => f.id));
        // The consumer creates Shot 701 from a newer event meanwhile (journaled, then created).
        expect((await store.putEntity({ type: 'Shot', id: 701, retired: false, values: { code: 'newer' } }, 50)).status).toBe('applied');
      },
    });
    const r = await importing.importEntities(shots([700, 701, 702], 'imported'), 40, { refresh: true, blind: true });
    expect(seen).toEqual([[700, 701, 702]]);
    expect(r).toEqual({ created: 3, merged: 0, stale: 0, suspects: [{ type: 'Shot', id: 701 }] });
    // Blind-written entities are indexed like any other (here through their link slot).
    expect((await store.refs({ type: 'Sequence', id: 1 }, { type: 'Shot' })).rows.map((x) => x.id)).toEqual([700, 701, 702]);
    // The blind write replaced the creator's newer state: that is exactly what the caller repairs (re-fetch, fresh stamp).
    expect((await store.get('Shot', 701))!.record.values.code).toBe('imported');
    expect((await store.putEntity({ type: 'Shot', id: 701, retired: false, values: { code: 'refetched' } }, 51, { refresh: true })).status).toBe('applied');
    expect((await store.get('Shot', 701))!.record.values.code).toBe('refetched');
    // A creator that comes after the blind write finds the item and merges on top by version.
    expect((await store.putEntity({ type: 'Shot', id: 702, retired: false, values: { code: 'later' } }, 45)).status).toBe('applied');
    expect((await store.putEntity({ type: 'Shot', id: 700, retired: false, values: { code: 'older' } }, 30)).status).toBe('stale');
    expect((await store.getMany('Shot', [700, 702])).entities.map((e) => e.record.values.code)).toEqual(['imported', 'later']);
    expect(await store.journaled('Shot', 700, 702)).toEqual(new Set([701]));
  });

  it('conditional (default): a concurrent creator is never overwritten; its entity is merged by version instead', async () => {
    const importing = new EntityStore(ctx.ddb, ctx.tables, ctx.schema, {
      onImportChecked: async () => {
        await store.putEntity({ type: 'Shot', id: 711, retired: false, values: { code: 'newer' } }, 50);
      },
    });
    const r = await importing.importEntities(shots([710, 711], 'imported'), 40, { refresh: true });
    expect(r).toEqual({ created: 1, merged: 0, stale: 1, suspects: [] });
    expect((await store.getMany('Shot', [710, 711])).entities.map((e) => e.record.values.code)).toEqual(['imported', 'newer']);
  });
});
