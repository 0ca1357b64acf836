// The initial import: completeness (counts, retired rows, byte-identical reads), readiness, resume from a checkpoint, the cursor taken first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { applyEventsAfter, both, cond, engine, importAll, readParams, schema, startRig, type Rig } from './helpers.js';
import { parseCachedSchema } from '../../shared/schema/index.js';
import { EntityStore, ITEM_LAYOUT } from '../../shared/store/index.js';
import { Importer, importPending, cachedFields } from '../../shared/sync/index.js';
import { createParams, updateParams } from '../../shared/site/index.js';

describe('initial import', () => {
  let rig: Rig;
  let latestBefore: number;
  beforeAll(async () => {
    rig = await startRig('import', { entities: 250, seed: 5 });
    latestBefore = await rig.ctx.events.latestId();
  });
  afterAll(() => rig?.close());

  it('imports every cached type, active and retired, and marks each ready only when complete', async () => {
    expect((await rig.ctx.readiness.load()).readyTypes).toEqual([]);
    const out = await importAll(rig);
    expect(out.complete).toBe(true);
    const ready = await rig.ctx.readiness.load();
    expect(ready.readyTypes.sort()).toEqual([...schema.site.typeNames].sort());
    for (const t of schema.site.typeNames) for (const f of cachedFields(schema, t)) expect(ready.isFieldReady(t, f)).toBe(true);
    // The cursor was taken at the site's latest event before the scan.
    expect((await rig.ctx.lease.read()).cursor?.maxSeen).toBe(latestBefore);

    let retiredSeen = 0;
    for (const type of schema.site.typeNames) {
      const [active, retired] = await Promise.all([rig.ctx.fetcher.count(type, false), rig.ctx.fetcher.count(type, true)]);
      const stored = (await rig.ctx.store.byType(type)).entities;
      expect({ type, n: stored.length }).toEqual({ type, n: active + retired });
      expect({ type, retired: stored.filter((e) => e.record.retired).length }).toEqual({ type, retired });
      retiredSeen += retired;
    }
    expect(retiredSeen).toBeGreaterThan(0);
    expect(rig.metrics.total('ImportedEntities')).toBe(out.written);

    // Nothing left: a second run is a no-op.
    expect(await importAll(rig)).toMatchObject({ complete: true, written: 0 });
  });

  it('serves byte-identical reads afterwards, retired rows included', async () => {
    const task = (
      await rig.sg.call<{ entities: Array<Record<string, any>> }>('read', readParams('Task', [cond('entity', 'is_not', null)], ['entity', 'project']))
    ).entities[0];
    const shapes = [
      readParams('Shot', [], ['code', 'sg_sequence', 'sg_status_list', 'tasks', 'assets', 'project', 'sg_cut_in', 'description', 'updated_at']),
      readParams('Shot', [], ['code', 'sg_status_list', 'updated_at'], { return_only: 'retired' }),
      readParams('Task', [cond('entity', 'is', task.entity)], ['content', 'step', 'task_assignees', 'sg_status_list', 'start_date', 'color']),
      readParams('Version', [cond('project', 'is', task.project)], ['code', 'entity', 'sg_task', 'user', 'playlists'], {
        sorts: [{ field_name: 'code', direction: 'desc' }],
      }),
      readParams('HumanUser', [], ['name', 'login', 'groups', 'projects']),
    ];
    for (const p of shapes) {
      const { site, cache } = await both(rig, p);
      expect(JSON.stringify(cache)).toBe(JSON.stringify(site));
    }
  });

  it('re-imports everything when the stored entities predate the item layout (edges moved to the refs table)', async () => {
    // Tables written before ITEM_LAYOUT 2: no layout record, entity items without `eg`, no edge items in the refs table.
    const { DeleteItemCommand, UpdateItemCommand } = await import('@aws-sdk/client-dynamodb');
    const task = (await rig.ctx.store.byType('Task')).entities.find((e) => (e.record.values.task_assignees as unknown[]).length > 0)!;
    const assignee = (task.record.values.task_assignees as Array<{ type: string; id: number }>)[0];
    await rig.ctx.ddb.send(new DeleteItemCommand({ TableName: rig.ctx.tables.state, Key: { pk: { S: 'layout' }, sk: { S: 'items' } } }));
    await rig.ctx.ddb.send(
      new UpdateItemCommand({
        TableName: rig.ctx.tables.entities,
        Key: { pk: { S: `Task#${task.record.id}` }, sk: { S: 'E' } },
        UpdateExpression: 'REMOVE eg',
      }),
    );
    await rig.ctx.ddb.send(
      new DeleteItemCommand({
        TableName: rig.ctx.tables.refs,
        Key: { pk: { S: `${assignee.type}#${assignee.id}` }, sk: { S: `Task.task_assignees#${String(task.record.id).padStart(10, '0')}` } },
      }),
    );
    expect((await rig.ctx.store.refs(assignee, { type: 'Task' })).rows.map((r) => r.id)).not.toContain(task.record.id);

    const pending = () => importPending({ schema, readiness: rig.ctx.readiness, state: rig.ctx.importState, store: rig.ctx.store });
    expect(await pending()).toBe(true);
    const total = (await importAll(rig)).written;
    expect(total).toBe((await Promise.all(schema.site.typeNames.map((t) => rig.ctx.store.typeSummary(t)))).reduce((n, x) => n + x.ids.length, 0));
    expect(await rig.ctx.store.itemLayout()).toBe(ITEM_LAYOUT);
    expect(await pending()).toBe(false);
    expect((await rig.ctx.readiness.load()).readyTypes.sort()).toEqual([...schema.site.typeNames].sort());
    expect((await rig.ctx.store.refs(assignee, { type: 'Task', field: 'task_assignees' })).rows.map((r) => r.id)).toContain(task.record.id);
  });
});

describe('import resume and cursor', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig('resume', { entities: 150, seed: 9 });
    // Some history, so the cursor has something to be taken at (seeding logs no events).
    const shot = (await rig.sg.call<{ entities: Array<{ id: number }> }>('read', readParams('Shot', [], ['code']))).entities[0];
    await rig.sg.call('update', updateParams('Shot', shot.id, { description: 'before the import' }));
  });
  afterAll(() => rig?.close());

  it('resumes an interrupted import from its checkpoints with the same stamp, and applies writes made during the scan afterwards', async () => {
    const cursorAt = await rig.ctx.events.latestId();
    expect(cursorAt).toBeGreaterThan(0);
    // Interrupted after 5 pages of 10: a run and checkpoints exist, nothing incomplete is ready.
    const first = await importAll(rig, { pageSize: 10, maxPages: 5, typeConcurrency: 1 });
    expect(first.complete).toBe(false);
    const run = await rig.ctx.importState.run();
    expect(run?.stamp).toBe(cursorAt);
    const cps = await rig.ctx.importState.checkpoints();
    const partial = [...cps.values()].find((c) => c.pass === 'active' && c.active > 0);
    expect(partial?.lastId).toBeGreaterThan(0);
    expect((await rig.ctx.readiness.load()).isTypeReady(partial!.type)).toBe(false);
    expect((await rig.ctx.lease.read()).cursor?.maxSeen).toBe(cursorAt);

    // Writes while the import is suspended: to a type already scanned (Project) and a new Shot.
    const project = (await rig.sg.call<{ entities: Array<{ id: number }> }>('read', readParams('Project', [], ['name']))).entities[0];
    await rig.sg.call('update', updateParams('Project', project.id, { name: 'Renamed during the scan' }));
    const shot = await rig.sg.call<{ id: number }>('create', createParams('Shot', { code: 'SH_DURING', project: { type: 'Project', id: project.id } }));

    // Resume: the same run (same stamp) continues where the checkpoint says.
    const second = await importAll(rig, { pageSize: 10 });
    expect(second).toMatchObject({ complete: true, stamp: cursorAt });
    expect(await rig.ctx.importState.run()).toBeUndefined();
    const done = await rig.ctx.importState.checkpoints();
    expect(done.get(partial!.type)?.active).toBeGreaterThan(partial!.active);
    for (const type of schema.site.typeNames) {
      const n = (await rig.ctx.fetcher.count(type, false)) + (await rig.ctx.fetcher.count(type, true));
      expect({ type, n: (await rig.ctx.store.byType(type)).entities.length }).toEqual({ type, n });
    }

    // The events after the cursor bring the writes in (whether or not the scan saw them) and rename the links.
    await applyEventsAfter(rig, cursorAt);
    expect((await rig.ctx.store.get('Project', project.id))?.record.values.name).toBe('Renamed during the scan');
    const storedShot = await rig.ctx.store.get('Shot', shot.id);
    expect(storedShot?.record.values.code).toBe('SH_DURING');
    expect(storedShot?.links.find((l) => l.type === 'Project')?.name).toBe('Renamed during the scan');
    const { site, cache } = await both(rig, readParams('Shot', [cond('project', 'is', { type: 'Project', id: project.id })], ['code', 'project']));
    expect(JSON.stringify(cache)).toBe(JSON.stringify(site));
  });
});

describe('a field added to the schema later', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig('backfill', { entities: 60, seed: 13 });
  });
  afterAll(() => rig?.close());

  it('is backfilled into the stored entities and only then marked ready', async () => {
    // The schema before: Shot without `description`.
    const raw = structuredClone(schema.site.file);
    delete raw.types.Shot.fields.description;
    const older = parseCachedSchema(stringify(raw), 'older schema');
    const olderStore = new EntityStore(rig.ctx.ddb, rig.ctx.tables, older);
    const before = new Importer({ ...deps(rig), schema: older, store: olderStore });
    expect((await before.run()).complete).toBe(true);
    expect((await rig.ctx.readiness.load()).isFieldReady('Shot', 'description')).toBe(false);

    // The current schema has it: the plan is a backfill of that one field, reads of it pass through until it is done.
    const now = new Importer(deps(rig));
    expect(await now.plan()).toEqual([{ type: 'Shot', mode: 'backfill', fields: ['description'] }]);
    expect(await engine(rig).read(readParams('Shot', [], ['code', 'description']))).toMatchObject({
      served: false,
      reason: 'field-not-ready:Shot.description',
    });
    expect((await now.run()).complete).toBe(true);
    expect((await rig.ctx.readiness.load()).isFieldReady('Shot', 'description')).toBe(true);
    const { site, cache } = await both(rig, readParams('Shot', [], ['code', 'description', 'sg_cut_in']));
    expect(JSON.stringify(cache)).toBe(JSON.stringify(site));
    expect(JSON.stringify(site)).toContain('"description":"');
  });
});

function deps(rig: Rig) {
  return {
    schema,
    store: rig.ctx.store,
    readiness: rig.ctx.readiness,
    state: rig.ctx.importState,
    lease: rig.ctx.lease,
    events: rig.ctx.events,
    fetcher: rig.ctx.fetcher,
  };
}

describe('an entity created while the import writes blind', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig('race', { entities: 60, seed: 17 });
  });
  afterAll(() => rig?.close());

  it('ends with the newer state: the creation journal sends it back to the site for a re-fetch', async () => {
    let raced: { id: number; code: string } | undefined;
    // Between the page's existence check and its blind write, a Shot changes on the site and the consumer, applying the
    // event, creates it in the cache (newer than the import's page).
    const store = new EntityStore(rig.ctx.ddb, rig.ctx.tables, schema, {
      onImportChecked: async (fresh) => {
        const shot = fresh.find((f) => f.type === 'Shot');
        if (raced || !shot) return;
        raced = { id: shot.id, code: 'SH_RACED' };
        await rig.sg.call('update', updateParams('Shot', shot.id, { code: raced.code }));
        const record = await rig.ctx.fetcher.one('Shot', shot.id);
        expect((await rig.ctx.store.putEntity(record!, await rig.ctx.events.latestId())).status).toBe('applied');
        expect((await rig.ctx.store.get('Shot', shot.id))?.record.values.code).toBe(raced.code);
      },
    });
    const out = await new Importer({ ...deps(rig), store }).run();
    expect(out.complete).toBe(true);
    expect(raced).toBeDefined();
    expect(out.repaired).toBe(1);
    // Without the repair the blind write would have left the page's older code.
    expect((await rig.ctx.store.get('Shot', raced!.id))?.record.values.code).toBe(raced!.code);
    const { site, cache } = await both(rig, readParams('Shot', [cond('id', 'is', raced!.id)], ['code', 'project', 'sg_sequence', 'updated_at']));
    expect(JSON.stringify(cache)).toBe(JSON.stringify(site));
    expect(JSON.stringify(site)).toContain('SH_RACED');
  });
});
