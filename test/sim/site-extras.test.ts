// The simulated site beyond reads and writes, as python-api's live tests exercise it: user passwords set through the API, people refused sudo, following, work schedules, preferences, activity stream, text search, pages, project visits, the LATEST preset, custom fields' visibility.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimSite } from '../../local/sim/server.js';
import { RpcFault, TestShotgun } from '../support/api3-client.js';
import { eventsAfter, lastEventId, scriptClient, startTestSite, userClient } from '../support/sim-site.js';

let site: SimSite;
let admin: TestShotgun;
let project: { type: string; id: number; name: string };

beforeAll(async () => {
  site = await startTestSite({ entities: 150 });
  admin = await scriptClient(site);
  project = (await admin.findOne('Project', [['archived', 'is', false]], ['name'], [{ field_name: 'id', direction: 'asc' }])) as typeof project;
});
afterAll(async () => {
  await site.close();
});

async function fault(p: Promise<unknown>): Promise<RpcFault> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(RpcFault);
  return e as RpcFault;
}

let n = 0;
async function newUser(password = 'pw one'): Promise<Record<string, unknown>> {
  return admin.create('HumanUser', { name: `Extra ${++n}`, login: `extra${n}`, password_proxy: password, locked_until: null, projects: [project] }, [
    'login',
    'password_proxy',
  ]);
}

describe('people created through the API', () => {
  it('takes password_proxy from a script: masked in the reply, reads and events; the person signs in with it, not the default', async () => {
    const before = await lastEventId(admin);
    const u = await newUser('s3cret pass');
    expect(u.password_proxy).toBe('*******');
    expect((await admin.findOne('HumanUser', [['id', 'is', u.id as number]], ['password_proxy']))!.password_proxy).toBe('*******');
    const logged = (await eventsAfter(admin, before)).filter((e) => e.attribute_name === 'password_proxy');
    expect(logged.map((e) => e.meta.new_value)).toEqual(['*******']);
    const me = await TestShotgun.connect(site.url, { login: u.login as string, password: 's3cret pass' });
    expect((await me.findOne('HumanUser', [['id', 'is', u.id as number]], ['login']))!.login).toBe(u.login);
    const wrong = await TestShotgun.connect(site.url, { login: u.login as string, password: 'password' });
    expect((await fault(wrong.find('Shot'))).errorCode).toBe(102);
  });

  it("refuses sudo_as_login to a person (scripts only) with the site's words", async () => {
    const u = await newUser();
    const sudo = await TestShotgun.connect(site.url, { login: u.login as string, password: 'pw one' }, { sudoAsLogin: 'blah' });
    expect((await fault(sudo.find('Shot'))).message).toMatch(/^The user does not have permission to 'sudo':/);
  });
});

describe('following', () => {
  it('follows and unfollows; followers and following (by type and project) see it; bad links fault', async () => {
    const u = await newUser();
    const user = { type: 'HumanUser', id: u.id as number };
    const shot = await admin.create('Shot', { code: 'FOLLOW_010', project });
    const task = await admin.create('Task', { content: 'follow me', project });
    expect(await admin.call('follow', { user, entity: shot })).toMatchObject({ followed: true });
    expect(await admin.call('follow', { user, entity: task })).toMatchObject({ followed: true });
    expect(((await admin.call('followers', { entity: shot })) as Array<{ id: number }>).map((f) => f.id)).toEqual([u.id]);
    expect((await admin.call('following', { user })) as unknown[]).toHaveLength(2);
    expect((await admin.call('following', { user, entity_type: 'Task' })) as unknown[]).toEqual([{ type: 'Task', id: task.id, name: 'follow me' }]);
    expect((await admin.call('following', { user, project: { type: 'Project', id: project.id } })) as unknown[]).toHaveLength(2);
    expect(await admin.call('unfollow', { user, entity: shot })).toMatchObject({ unfollowed: true });
    expect(await admin.call('followers', { entity: shot })).toEqual([]);
    expect((await fault(admin.call('follow', { user, entity: { type: 'Shot', id: 987654 } }))).message).toMatch(/does not exist/);
    expect((await fault(admin.call('follow', { user: 'x' }))).message).toMatch(/^API follow\(\) invalid parameters/);
  });
});

describe('work schedules', () => {
  it("reads a Monday-to-Friday week with studio, project and user exceptions, the user's first", async () => {
    const u = await newUser();
    const user = { type: 'HumanUser', id: u.id as number, name: 'x' };
    const range = { start_date: '2013-01-05', end_date: '2013-01-09', project, user };
    const before = (await admin.call('work_schedule_read', range)) as Record<string, { reason: string; working: boolean }>;
    expect(Object.keys(before)).toEqual(['2013-01-05', '2013-01-06', '2013-01-07', '2013-01-08', '2013-01-09']);
    expect(before['2013-01-05']).toEqual({ reason: 'STUDIO_WORK_WEEK', working: false, description: null }); // a Saturday
    expect(before['2013-01-07']).toEqual({ reason: 'STUDIO_WORK_WEEK', working: true, description: null });
    expect(await admin.call('work_schedule_update', { date: '2013-01-07', working: false, description: 'Studio Holiday', project: null, user: null })).toEqual({
      date: '2013-01-07',
      working: false,
      description: 'Studio Holiday',
      project: null,
      user: null,
    });
    await admin.call('work_schedule_update', { date: '2013-01-08', working: false, description: 'Project Holiday', project, user: null });
    await admin.call('work_schedule_update', { date: '2013-01-08', working: true, description: 'Works anyway', project: null, user });
    const after = (await admin.call('work_schedule_read', range)) as Record<string, unknown>;
    expect(after['2013-01-07']).toEqual({ reason: 'STUDIO_EXCEPTION', working: false, description: 'Studio Holiday' });
    expect(after['2013-01-08']).toEqual({ reason: 'USER_EXCEPTION', working: true, description: 'Works anyway' });
    const otherUser = (await admin.call('work_schedule_read', { ...range, user: null })) as Record<string, unknown>;
    expect(otherUser['2013-01-08']).toEqual({ reason: 'PROJECT_EXCEPTION', working: false, description: 'Project Holiday' });
    expect((await fault(admin.call('work_schedule_read', { ...range, start_date: '5 Jan' }))).message).toMatch(/start_date/);
  });
});

describe('preferences and subscriptions', () => {
  it('answers every preference or the named ones, leaving unknown names out', async () => {
    const all = (await admin.call('preferences_read', { prefs: [] })) as Record<string, unknown>;
    expect(all).toMatchObject({ date_component_order: 'month_day', hours_per_day: 8.0, support_local_storage: true });
    expect(all).toHaveProperty('view_master_settings');
    expect(await admin.call('preferences_read', { prefs: ['date_component_order', 'email_notifications'] })).toEqual({ date_component_order: 'month_day' });
    expect(await admin.call('user_subscriptions_create', { users: [['artist1', ['Flow Production Tracking']]] })).toBe(true);
    expect(await admin.call('user_subscriptions_read')).toEqual([['artist1', ['Flow Production Tracking']]]);
  });
});

describe('activity stream', () => {
  it("lists the entity's creation and what links to it, newest first, with the entity fields asked", async () => {
    const shot = await admin.create('Shot', { code: 'ACT_010', project });
    const note = await admin.create('Note', { content: 'Looks good', project, note_links: [shot] });
    const s = (await admin.call('activity_stream', { type: 'Shot', id: shot.id, entity_fields: { Note: ['content'] } })) as Record<string, any>;
    expect(s.updates.map((u: any) => [u.update_type, u.primary_entity.type, u.primary_entity.id])).toEqual([
      ['create', 'Note', note.id],
      ['create', 'Shot', shot.id],
    ]);
    expect(s.updates[0].primary_entity).toEqual({ type: 'Note', id: note.id, name: null, status: 'opn', content: 'Looks good' });
    expect(s.updates[0].created_by).toMatchObject({ type: 'ApiUser', name: 'fpt-cache' });
    expect([s.earliest_update_id, s.latest_update_id]).toEqual([s.updates[1].id, s.updates[0].id]);
    const one = (await admin.call('activity_stream', { type: 'Shot', id: shot.id, limit: 1 })) as Record<string, any>;
    expect(one.updates.map((u: any) => u.meta.entity_type)).toEqual(['Note']);
  });
});

describe('text search', () => {
  it("matches every word of the display name, per type in the order asked, under each type's filters", async () => {
    const tag = `ts${Date.now().toString(36)}`;
    await admin.batch(
      [0, 1, 2].flatMap((i) => [
        { request_type: 'create', entity_type: 'Shot', data: { code: `${tag} Find Me ${i}`, project } },
        { request_type: 'create', entity_type: 'Asset', data: { code: `${tag} Find Me ${i}`, project } },
      ]),
    );
    const all = (await admin.call('query_display_name_cache', {
      text: `${tag} find ME`,
      entity_types: { Shot: { logical_operator: 'and', conditions: [] }, Asset: { logical_operator: 'and', conditions: [] } },
      project_ids: [],
    })) as Record<string, any>;
    expect(all.terms).toEqual([tag, 'find', 'me']);
    expect(all.matches.map((m: any) => m.type)).toEqual(['Shot', 'Shot', 'Shot', 'Asset', 'Asset', 'Asset']);
    expect(all.matches[0]).toMatchObject({ name: `${tag} Find Me 0`, project_id: project.id, image: null });
    const some = (await admin.call('query_display_name_cache', {
      text: tag,
      entity_types: { Asset: { logical_operator: 'and', conditions: [{ path: 'code', relation: 'ends_with', values: ['2'] }] } },
      max_results: 5,
    })) as Record<string, any>;
    expect(some.matches.map((m: any) => m.name)).toEqual([`${tag} Find Me 2`]);
    expect((await fault(admin.call('query_display_name_cache', { text: tag, entity_types: { Nope: {} } }))).message).toMatch(/Nope/);
  });
});

describe('pages, project visits, presets, custom fields', () => {
  it('has Pages with last_accessed; export_page checks its params, then is not available', async () => {
    const page = await admin.findOne('Page', [], ['last_accessed']);
    expect(page!.last_accessed).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await fault(admin.call('export_page', { page_id: 1, format: null }))).message).toContain("'format' missing");
    expect((await fault(admin.call('export_page', { page_id: null, format: 'csv' }))).message).toContain("'page_id' missing");
    expect((await fault(admin.call('export_page', { page_id: page!.id, format: 'csv' }))).message).toBe(`Export for Page id=${page!.id} not available`);
  });

  it('stamps a project visit for the caller (a person) or the user named; a script alone is refused', async () => {
    const u = await newUser('visit pw');
    const me = await TestShotgun.connect(site.url, { login: u.login as string, password: 'visit pw' });
    await me.call('update_project_last_accessed_by_current_user', { project_id: project.id });
    const seen = (await me.findOne('Project', [['id', 'is', project.id]], ['last_accessed_by_current_user']))!.last_accessed_by_current_user;
    expect(seen).toMatch(/^\d{4}-/);
    expect((await fault(admin.call('update_project_last_accessed_by_current_user', { project_id: project.id }))).message).toMatch(/needs a user/);
    const artist = await userClient(site, 'artist1');
    const artistId = (await artist.findOne('HumanUser', [['login', 'is', 'artist1']]))!.id as number;
    const visited = async () =>
      (await artist.findOne('Project', [['id', 'is', project.id]], ['last_accessed_by_current_user']))!.last_accessed_by_current_user as string | null;
    const before = await visited();
    await admin.call('update_project_last_accessed_by_current_user', { project_id: project.id, user_id: artistId });
    const after = await visited();
    expect(after).not.toBe(before); // seeded visits lie before the seed epoch (2025), this one is now
    expect(after! >= (seen as string)).toBe(true);
  });

  it('keeps the newest Version per entity under LATEST and faults on unknown, nameless or repeated presets', async () => {
    const asset = await admin.create('Asset', { code: 'LATEST_A', project });
    const old = await admin.create('Version', { code: 'LATEST v1', project, entity: asset });
    const newest = await admin.create('Version', { code: 'LATEST v2', project, entity: asset });
    const read = (presets: unknown) =>
      admin.call('read', {
        type: 'Version',
        return_fields: ['code'],
        filters: { logical_operator: 'and', conditions: [{ path: 'entity', relation: 'is', values: [{ type: 'Asset', id: asset.id }] }] },
        return_only: 'active',
        paging: { entities_per_page: 50, current_page: 1 },
        additional_filter_presets: presets,
      }) as Promise<{ entities: Array<{ id: number }> }>;
    expect((await read([])).entities.map((e) => e.id)).toEqual([old.id, newest.id]);
    expect((await read([{ preset_name: 'LATEST', latest_by: 'ENTITIES_CREATED_AT' }])).entities.map((e) => e.id)).toEqual([newest.id]);
    await fault(read([{}]));
    await fault(read([{ preset_name: 'BAD_FILTER' }]));
    await fault(
      read([
        { preset_name: 'LATEST', latest_by: 'ENTITIES_CREATED_AT' },
        { preset_name: 'LATEST', latest_by: 'PIPELINE_STEP_NUMBER_AND_ENTITIES_CREATED_AT' },
      ]),
    );
  });

  it('reports visibility editable for a custom field, not a built-in one', async () => {
    const field = (await admin.call('schema_field_create', {
      type: 'Asset',
      data_type: 'text',
      properties: [{ property_name: 'name', value: 'Visibility Probe' }],
    })) as string;
    expect(((await admin.schemaFieldRead('Asset', field))[field] as any).visible).toEqual({ value: true, editable: true });
    expect(((await admin.schemaFieldRead('Asset', 'code')).code as any).visible).toEqual({ value: true, editable: false });
  });
});
