// Writes on the simulated site: each method's result and the exact EventLogEntry rows it appends (protocol.md §5, §6).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SimSite } from '../../local/sim/server.js';
import { RpcFault, type TestShotgun } from '../support/api3-client.js';
import { eventsAfter, lastEventId, noEventsClient, scriptClient, startTestSite } from '../support/sim-site.js';

let clock = new Date('2025-07-01T10:00:00Z');
let site: SimSite;
let sg: TestShotgun;
let me: { type: string; id: number; name: string };
let project: { type: string; id: number; name: string };
let mark: number;

const tick = () => { clock = new Date(clock.getTime() + 60_000); };
const link = (e: Record<string, unknown>, name: string) => ({ type: e.type as string, id: e.id as number, name });
const brief = (rows: Array<Record<string, any>>) => rows.map((r) => [r.event_type, r.attribute_name]);

beforeAll(async () => {
  site = await startTestSite({ now: () => clock });
  sg = await scriptClient(site);
  const api = await sg.findOne('ApiUser', [['firstname', 'is', 'fpt-cache']], ['firstname']);
  me = { type: 'ApiUser', id: api!.id as number, name: 'fpt-cache' };
  const p = await sg.create('Project', { name: 'Event Test' });
  project = link(p, 'Event Test');
});
afterAll(async () => { await site.close(); });
beforeEach(async () => { tick(); mark = await lastEventId(sg); });

async function shot(code: string, extra: Record<string, unknown> = {}): Promise<{ type: string; id: number; name: string }> {
  const s = await sg.create('Shot', { code, project, ...extra });
  return link(s, code);
}

describe('create', () => {
  it('returns type, id, every field sent and the return_fields, links with names', async () => {
    const s = await shot('EV_010');
    const t = await sg.create('Task', { content: 'Comp', entity: { ...s, name: 'ignored' }, project }, ['sg_status_list', 'entity.Shot.code', 'step', 'created_by', 'sg_nope']);
    expect(t).toEqual({
      type: 'Task', id: t.id, content: 'Comp', entity: s, project, sg_status_list: 'wtg', 'entity.Shot.code': 'EV_010', step: null, created_by: me,
    });
  });

  it('logs New, then an in_create Change per non-empty field (defaults included), with the back-reference after its cause', async () => {
    const s = await shot('EV_020');
    const after = await lastEventId(sg);
    const t = await sg.create('Task', { content: 'Paint', entity: s, project });
    const rows = await eventsAfter(sg, after);
    expect(brief(rows)).toEqual([
      ['Shotgun_Task_New', null], ['Shotgun_Task_Change', 'content'], ['Shotgun_Task_Change', 'entity'], ['Shotgun_Shot_Change', 'tasks'],
      ['Shotgun_Task_Change', 'project'], ['Shotgun_Task_Change', 'sg_status_list'], ['Shotgun_Task_Change', 'color'], ['Shotgun_Task_Change', 'milestone'],
    ]);
    const task = link(t, 'Paint');
    const common = { type: 'EventLogEntry', user: me, project, session_uuid: null, created_at: clock.toISOString().replace('.000', '') };
    expect(rows[0]).toEqual({ ...common, id: after + 1, event_type: 'Shotgun_Task_New', attribute_name: null, entity: task,
      meta: { type: 'new_entity', entity_type: 'Task', entity_id: t.id }, description: 'fpt-cache created new Task Paint' });
    expect(rows[2]).toMatchObject({ ...common, id: after + 3, entity: task,
      meta: { type: 'attribute_change', attribute_name: 'entity', entity_type: 'Task', entity_id: t.id, field_data_type: 'entity', old_value: null, new_value: s, in_create: true } });
    expect(rows[3]).toEqual({ ...common, id: after + 4, event_type: 'Shotgun_Shot_Change', attribute_name: 'tasks', entity: s,
      description: expect.any(String),
      meta: { type: 'attribute_change', attribute_name: 'tasks', entity_type: 'Task', entity_id: t.id, field_data_type: 'entity',
        actual_attribute_changed: 'Task.entity', original_event_log_entry_id: after + 3, in_create: true,
        added: [{ type: 'Task', id: t.id, name: 'Paint', status: 'wtg', valid: 'valid' }], removed: [] } });
    expect(rows[7].meta).toEqual({ type: 'attribute_change', attribute_name: 'milestone', entity_type: 'Task', entity_id: t.id, field_data_type: 'checkbox', old_value: null, new_value: false, in_create: true });
    expect(rows.map((r) => r.id)).toEqual(rows.map((_, i) => after + 1 + i));
    // The other side reads back too.
    expect((await sg.findOne('Shot', [['id', 'is', s.id]], ['tasks']))!.tasks).toEqual([task]);
  });

  it('stamps created_at/created_by/updated_at/updated_by without logging them', async () => {
    const s = await sg.create('Shot', { code: 'EV_030', project }, ['created_at', 'created_by', 'updated_at', 'updated_by']);
    const at = clock.toISOString().replace('.000', '');
    expect(s).toMatchObject({ created_at: at, updated_at: at, created_by: me, updated_by: me });
    const rows = await eventsAfter(sg, mark);
    expect(rows.some((r) => ['created_at', 'updated_at', 'created_by', 'updated_by'].includes(r.attribute_name))).toBe(false);
  });
});

describe('update', () => {
  it('returns the fields sent plus type and id, logs old/new, and stamps updated_at', async () => {
    const s = await shot('EV_100', { sg_cut_in: 1001 });
    tick();
    const after = await lastEventId(sg);
    const r = await sg.update('Shot', s.id, { sg_cut_in: 1009, sg_submitted: '2025-01-01' }).catch((e: unknown) => e);
    expect(r).toBeInstanceOf(RpcFault); // sg_submitted does not exist: nothing is applied
    expect((await sg.findOne('Shot', [['id', 'is', s.id]], ['sg_cut_in']))!.sg_cut_in).toBe(1001);
    expect(await eventsAfter(sg, after)).toEqual([]);
    const ok = await sg.update('Shot', s.id, { sg_cut_in: 1009, description: 'Crash & <debris>' });
    expect(ok).toEqual({ type: 'Shot', id: s.id, sg_cut_in: 1009, description: 'Crash & <debris>' });
    const rows = await eventsAfter(sg, after);
    expect(brief(rows)).toEqual([['Shotgun_Shot_Change', 'sg_cut_in'], ['Shotgun_Shot_Change', 'description']]);
    expect(rows[0].meta).toEqual({ type: 'attribute_change', attribute_name: 'sg_cut_in', entity_type: 'Shot', entity_id: s.id, field_data_type: 'number', old_value: 1001, new_value: 1009 });
    expect((await sg.findOne('Shot', [['id', 'is', s.id]], ['updated_at']))!.updated_at).toBe(clock.toISOString().replace('.000', ''));
  });

  it('logs nothing and stamps nothing for a no-op update, but still answers with the fields', async () => {
    const s = await shot('EV_110', { sg_cut_in: 5 });
    const before = (await sg.findOne('Shot', [['id', 'is', s.id]], ['updated_at']))!.updated_at;
    tick();
    const after = await lastEventId(sg);
    expect(await sg.update('Shot', s.id, { sg_cut_in: 5, code: 'EV_110' })).toEqual({ type: 'Shot', id: s.id, sg_cut_in: 5, code: 'EV_110' });
    expect(await eventsAfter(sg, after)).toEqual([]);
    expect((await sg.findOne('Shot', [['id', 'is', s.id]], ['updated_at']))!.updated_at).toBe(before);
    // The same links in another order change nothing either.
    const a = link(await sg.create('Asset', { code: 'noopA', project }), 'noopA');
    const b = link(await sg.create('Asset', { code: 'noopB', project }), 'noopB');
    await sg.update('Shot', s.id, { assets: [a, b] });
    const mid = await lastEventId(sg);
    await sg.update('Shot', s.id, { assets: [b, a] });
    expect(await eventsAfter(sg, mid)).toEqual([]);
  });

  it('moves a Task between Shots: entity old/new, and back-references removing and adding on each Shot', async () => {
    const a = await shot('EV_120');
    const b = await shot('EV_121');
    const t = link(await sg.create('Task', { content: 'Roto', entity: a, project }), 'Roto');
    const after = await lastEventId(sg);
    await sg.update('Task', t.id, { entity: b });
    const rows = await eventsAfter(sg, after);
    expect(brief(rows)).toEqual([['Shotgun_Task_Change', 'entity'], ['Shotgun_Shot_Change', 'tasks'], ['Shotgun_Shot_Change', 'tasks']]);
    expect(rows[0].meta).toMatchObject({ old_value: a, new_value: b, field_data_type: 'entity' });
    expect(rows[1]).toMatchObject({ entity: a, meta: { removed: [{ type: 'Task', id: t.id, name: 'Roto', status: 'wtg', valid: 'valid' }], added: [], actual_attribute_changed: 'Task.entity', original_event_log_entry_id: rows[0].id } });
    expect(rows[2]).toMatchObject({ entity: b, meta: { added: [{ type: 'Task', id: t.id }], removed: [], original_event_log_entry_id: rows[0].id } });
    expect(rows[1].meta).not.toHaveProperty('in_create');
    const shots = await sg.find('Shot', [['id', 'in', [a.id, b.id]]], ['tasks']);
    expect(shots.map((s) => s.tasks)).toEqual([[], [t]]);
  });

  it('applies multi_entity_update_mode add / remove / set with added/removed lists and the other side mirrored', async () => {
    const s = await shot('EV_130');
    const assets = [];
    for (const code of ['tree', 'rock', 'lamp']) assets.push(link(await sg.create('Asset', { code, project }), code));
    const [tree, rock, lamp] = assets;
    let after = await lastEventId(sg);
    expect(await sg.update('Shot', s.id, { assets: [tree, rock] }, { assets: 'add' })).toEqual({ type: 'Shot', id: s.id, assets: [tree, rock] });
    let rows = await eventsAfter(sg, after);
    expect(brief(rows)).toEqual([['Shotgun_Shot_Change', 'assets'], ['Shotgun_Asset_Change', 'shots'], ['Shotgun_Asset_Change', 'shots']]);
    expect(rows[0].meta).toEqual({ type: 'attribute_change', attribute_name: 'assets', entity_type: 'Shot', entity_id: s.id, field_data_type: 'multi_entity',
      added: [{ type: 'Asset', id: tree.id, name: 'tree', status: 'wtg', valid: 'valid' }, { type: 'Asset', id: rock.id, name: 'rock', status: 'wtg', valid: 'valid' }], removed: [] });
    expect(rows[0].meta).not.toHaveProperty('old_value');
    expect(rows[1]).toMatchObject({ entity: tree, meta: { attribute_name: 'shots', actual_attribute_changed: 'Shot.assets', entity_type: 'Shot', entity_id: s.id, field_data_type: 'multi_entity', added: [{ type: 'Shot', id: s.id, name: 'EV_130' }] } });

    after = await lastEventId(sg);
    expect((await sg.update('Shot', s.id, { assets: [tree, lamp] }, { assets: 'remove' })).assets).toEqual([rock]);
    rows = await eventsAfter(sg, after);
    expect(brief(rows)).toEqual([['Shotgun_Shot_Change', 'assets'], ['Shotgun_Asset_Change', 'shots']]);
    expect(rows[0].meta).toMatchObject({ added: [], removed: [{ type: 'Asset', id: tree.id }] });

    after = await lastEventId(sg);
    expect((await sg.update('Shot', s.id, { assets: [lamp, lamp] })).assets).toEqual([lamp]);
    rows = await eventsAfter(sg, after);
    expect(rows[0].meta).toMatchObject({ added: [{ id: lamp.id }], removed: [{ id: rock.id }] });
    const back = await sg.find('Asset', [['id', 'in', assets.map((x) => x.id)]], ['shots']);
    expect(back.map((x) => (x.shots as unknown[]).length)).toEqual([0, 0, 1]);
  });

  it('adding a Task to Shot.tasks re-links Task.entity and takes it off its previous Shot', async () => {
    const a = await shot('EV_140');
    const b = await shot('EV_141');
    const t = link(await sg.create('Task', { content: 'FX', entity: a, project }), 'FX');
    const after = await lastEventId(sg);
    await sg.update('Shot', b.id, { tasks: [t] }, { tasks: 'add' });
    const rows = await eventsAfter(sg, after);
    expect(brief(rows)).toEqual([['Shotgun_Shot_Change', 'tasks'], ['Shotgun_Task_Change', 'entity'], ['Shotgun_Shot_Change', 'tasks']]);
    expect(rows[1]).toMatchObject({ entity: t, meta: { old_value: a, new_value: b, actual_attribute_changed: 'Shot.tasks', entity_type: 'Shot', entity_id: b.id, field_data_type: 'multi_entity', original_event_log_entry_id: rows[0].id } });
    expect(rows[2]).toMatchObject({ entity: a, meta: { removed: [{ id: t.id }], actual_attribute_changed: 'Task.entity', original_event_log_entry_id: rows[1].id } });
    expect((await sg.findOne('Task', [['id', 'is', t.id]], ['entity']))!.entity).toEqual(b);
  });

  it('refuses retired and missing entities, read-only fields and bad values', async () => {
    const s = await shot('EV_150');
    await sg.delete('Shot', s.id);
    await expect(sg.update('Shot', s.id, { code: 'x' })).rejects.toMatchObject({ errorCode: 104, message: expect.stringMatching(/retired/) });
    await expect(sg.update('Shot', 99_999_999, { code: 'x' })).rejects.toMatchObject({ errorCode: 104, message: expect.stringMatching(/does not exist/) });
    const live = await shot('EV_151');
    await expect(sg.update('Shot', live.id, { created_at: '2020-01-01T00:00:00Z' })).rejects.toThrow(/read only/);
    await expect(sg.update('Shot', live.id, { sg_status_list: 'bogus' })).rejects.toThrow(/not a valid value/);
    await expect(sg.update('Shot', live.id, { sg_sequence: { type: 'Shot', id: live.id } })).rejects.toThrow(/not a valid entity type/);
    await expect(sg.update('Shot', live.id, { sg_sequence: { type: 'Sequence', id: 77_777_777 } })).rejects.toThrow(/does not exist/);
    await expect(sg.update('Shot', live.id, { sg_due_date: '2025-02-30' })).rejects.toThrow(/not a date/);
    await expect(sg.update('HumanUser', (await sg.findOne('HumanUser', [['login', 'is', 'artist1']]))!.id as number, { login: 'admin' })).rejects.toMatchObject({ errorCode: 104, message: expect.stringMatching(/required to be unique/) });
  });
});

describe('delete and revive', () => {
  it('retires with a retirement_date Change then a Retirement; entity reads null once retired; false the second time', async () => {
    const s = await shot('EV_200');
    const after = await lastEventId(sg);
    expect(await sg.delete('Shot', s.id)).toBe(true);
    const when = `${clock.toISOString().slice(0, 10)} ${clock.toISOString().slice(11, 19)} UTC`;
    const rows = await eventsAfter(sg, after);
    expect(rows).toEqual([
      expect.objectContaining({ event_type: 'Shotgun_Shot_Change', attribute_name: 'retirement_date', entity: null, project,
        meta: { type: 'attribute_change', attribute_name: 'retirement_date', entity_type: 'Shot', entity_id: s.id, old_value: null, new_value: when } }),
      expect.objectContaining({ event_type: 'Shotgun_Shot_Retirement', attribute_name: null, entity: null,
        meta: { type: 'entity_retirement', class_name: 'Shot', display_name: 'EV_200', entity_id: s.id, entity_type: 'Shot', id: s.id, retirement_date: when } }),
    ]);
    // Older rows about the entity lose their link too (resolved at read time); meta still names it.
    const born = (await sg.find('EventLogEntry', [['event_type', 'is', 'Shotgun_Shot_New'], ['id', 'greater_than', mark]], ['entity', 'meta']))
      .find((e) => (e.meta as { entity_id: number }).entity_id === s.id);
    expect(born).toMatchObject({ entity: null, meta: { type: 'new_entity', entity_type: 'Shot', entity_id: s.id } });
    expect(await sg.delete('Shot', s.id)).toBe(false);
    expect(await sg.find('Shot', [['id', 'is', s.id]], ['code'], null, { retiredOnly: true })).toEqual([{ type: 'Shot', id: s.id, code: 'EV_200' }]);
    await expect(sg.delete('Shot', 99_999_999)).rejects.toMatchObject({ errorCode: 104, message: 'API delete() CRUD ERROR #3: Entity of type [Shot] with id=99999999 does not exist.' });
  });

  it('revives with a retirement_date Change back to null then a Revival (meta without type); links show again', async () => {
    const s = await shot('EV_210');
    await sg.delete('Shot', s.id);
    const after = await lastEventId(sg);
    expect(await sg.revive('Shot', s.id)).toBe(true);
    const rows = await eventsAfter(sg, after);
    expect(brief(rows)).toEqual([['Shotgun_Shot_Change', 'retirement_date'], ['Shotgun_Shot_Revival', null]]);
    expect(rows[0].meta).toMatchObject({ old_value: expect.stringMatching(/ UTC$/), new_value: null });
    expect(rows[1]).toMatchObject({ entity: s, meta: { class_name: 'Shot', display_name: 'EV_210', entity_id: s.id, entity_type: 'Shot', id: s.id } });
    expect(rows[1].meta).not.toHaveProperty('type');
    const born = await sg.find('EventLogEntry', [['event_type', 'is', 'Shotgun_Shot_New'], ['id', 'greater_than', mark]], ['entity', 'meta']);
    expect(born.find((e) => (e.meta as { entity_id: number }).entity_id === s.id)?.entity).toEqual(s);
    expect(await sg.revive('Shot', s.id)).toBe(false);
    await expect(sg.revive('Shot', 99_999_999)).rejects.toMatchObject({ errorCode: 104 });
  });
});

describe('batch', () => {
  it('runs create / update / delete in order and returns each result', async () => {
    const victim = await shot('EV_300');
    const keep = await shot('EV_301');
    const after = await lastEventId(sg);
    const r = await sg.batch([
      { request_type: 'create', entity_type: 'Shot', data: { code: 'EV_302', project } },
      { request_type: 'update', entity_type: 'Shot', entity_id: keep.id, data: { code: 'EV_301b' } },
      { request_type: 'delete', entity_type: 'Shot', entity_id: victim.id },
    ]);
    expect(r).toEqual([{ type: 'Shot', id: expect.any(Number), code: 'EV_302', project }, { type: 'Shot', id: keep.id, code: 'EV_301b' }, true]);
    const rows = await eventsAfter(sg, after);
    expect(rows.map((e) => e.event_type)).toContain('Shotgun_Shot_Retirement');
    expect(rows[0].event_type).toBe('Shotgun_Shot_New');
  });

  it('is all or nothing: a failing item rolls back the items before it, their events included', async () => {
    const keep = await shot('EV_310');
    const after = await lastEventId(sg);
    const err = await sg.batch([
      { request_type: 'create', entity_type: 'Shot', data: { code: 'EV_311', project } },
      { request_type: 'update', entity_type: 'Shot', entity_id: keep.id, data: { code: 'EV_310b' } },
      { request_type: 'update', entity_type: 'Shot', entity_id: keep.id, data: { sg_cut_in: 'nope' } },
    ]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcFault);
    expect((err as Error).message).toMatch(/^API batch\(\) request with index 2 failed\. {2}All requests rolled back\.\nAPI update\(\)/);
    expect(await sg.find('Shot', [['code', 'is', 'EV_311']])).toEqual([]);
    expect((await sg.findOne('Shot', [['id', 'is', keep.id]], ['code']))!.code).toBe('EV_310');
    expect(await eventsAfter(sg, after)).toEqual([]);
    // Ids are a sequence: the rolled-back create used one, the next create gets a later one.
    const next = await sg.create('Shot', { code: 'EV_312', project });
    expect(next.id).toBeGreaterThan(keep.id + 1);
  });
});

describe('who logs events', () => {
  it('a script with generate_events off writes without events', async () => {
    const quiet = await noEventsClient(site);
    const after = await lastEventId(sg);
    const s = await quiet.create('Shot', { code: 'EV_400', project });
    await quiet.update('Shot', s.id as number, { sg_cut_in: 1 });
    await quiet.delete('Shot', s.id as number);
    expect(await eventsAfter(sg, after)).toEqual([]);
    expect(await sg.find('Shot', [['id', 'is', s.id]], ['sg_cut_in'], null, { retiredOnly: true })).toEqual([{ type: 'Shot', id: s.id, sg_cut_in: 1 }]);
  });

  it('custom EventLogEntry rows can be created, but not updated or deleted', async () => {
    const after = await lastEventId(sg);
    const e = await sg.create('EventLogEntry', { event_type: 'Toolkit_Publish_Done', description: 'published', entity: project, meta: { files: 2 } }, ['user', 'project']);
    expect(e).toMatchObject({ type: 'EventLogEntry', id: after + 1, event_type: 'Toolkit_Publish_Done', entity: project, user: me, project: null });
    expect(await eventsAfter(sg, after, ['event_type', 'meta'])).toEqual([{ type: 'EventLogEntry', id: after + 1, event_type: 'Toolkit_Publish_Done', meta: { files: 2 } }]);
    await expect(sg.update('EventLogEntry', e.id as number, { description: 'x' })).rejects.toThrow(/can not be updated/);
    await expect(sg.delete('EventLogEntry', e.id as number)).rejects.toThrow(/can not be deleted/);
  });
});
