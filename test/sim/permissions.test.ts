// Permission profiles on the simulated site: project visibility, row rules and hidden fields applied to reads, deep fields, summaries, both paging modes, schema reads, sudo_as_login, sessions and the control knob.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimSite } from '../../local/sim/server.js';
import { DEFAULT_SCRIPT } from '../../local/sim/credentials.js';
import { SEEDED_PROFILE_LOGINS as P } from '../../local/sim/permissions.js';
import { TestShotgun } from '../support/api3-client.js';
import { scriptClient, startTestSite, userClient } from '../support/sim-site.js';

let site: SimSite;
let admin: TestShotgun;
let first: number;
let vendorId: number;
type Row = Record<string, any>;

beforeAll(async () => {
  site = await startTestSite({ entities: 600, seed: 3 });
  admin = await scriptClient(site);
  first = (await admin.find('Project', [], ['id'], [{ column: 'id', direction: 'asc' }]))[0].id as number;
  vendorId = (await admin.findOne('HumanUser', [['login', 'is', P.vendor]], ['id']))!.id as number;
});
afterAll(async () => {
  await site.close();
});

const projectOf = (r: Row) => r.project?.id;

describe('the seeded profiles', () => {
  it('a restricted artist sees only its assigned project, with Shot.description and Task.due_date null', async () => {
    const artist = await userClient(site, P.restrictedArtist);
    const projects = await artist.find('Project', [], ['name', 'users']);
    expect(projects.map((p) => p.id)).toEqual([first]);
    const all = await admin.find('Shot', [], ['code', 'description', 'project']);
    const mine = await artist.find('Shot', [], ['code', 'description', 'project']);
    const expected = all.filter((s) => projectOf(s) === first);
    expect(all.length).toBeGreaterThan(expected.length);
    expect(mine.map((s) => s.id)).toEqual(expected.map((s) => s.id));
    expect(expected.some((s) => s.description !== null)).toBe(true);
    expect(mine.every((s) => s.description === null)).toBe(true);
    expect(mine.map((s) => s.code)).toEqual(expected.map((s) => s.code));
    const tasks = await artist.find('Task', [], ['due_date', 'start_date'], null, { limit: 20 });
    expect(tasks.length).toBe(20);
    expect(tasks.every((t) => t.due_date === null) && tasks.some((t) => t.start_date !== null)).toBe(true);
    // A filter on a hidden field sees null.
    expect(await artist.find('Shot', [['description', 'is_not', null]])).toEqual([]);
  });

  it('deep fields and links through hidden rows read null; deep filters do not see them', async () => {
    const artist = await userClient(site, P.restrictedArtist);
    // Users of other projects: their `projects` list holds only the visible project.
    const users = await artist.find('HumanUser', [], ['projects']);
    expect(users.length).toBeGreaterThan(0);
    for (const u of users) for (const p of u.projects as Row[]) expect(p.id).toBe(first);
    const other = await admin.find('Shot', [['project', 'is_not', { type: 'Project', id: first }]], ['id'], null, { limit: 1 });
    const byDeep = await artist.find('Task', [['entity.Shot.id', 'is', other[0].id]]);
    expect(byDeep).toEqual([]);
    const deep = await artist.find('Task', [['project', 'is', { type: 'Project', id: first }]], ['entity.Shot.description', 'entity.Shot.code'], null, {
      limit: 30,
    });
    expect(deep.every((t) => t['entity.Shot.description'] === null)).toBe(true);
    expect(deep.some((t) => t['entity.Shot.code'] !== null)).toBe(true);
  });

  it('a vendor sees only its Tasks and Versions, in its project; summarize and paging counts agree', async () => {
    const vendor = await userClient(site, P.vendor);
    const me = { type: 'HumanUser', id: vendorId };
    const tasks = await vendor.find('Task', [], ['content', 'task_assignees', 'project']);
    const expected = await admin.find(
      'Task',
      [
        ['task_assignees', 'is', me],
        ['project', 'is', { type: 'Project', id: first }],
      ],
      ['content'],
    );
    expect(expected.length).toBeGreaterThan(0);
    expect(tasks.map((t) => t.id)).toEqual(expected.map((t) => t.id));
    const versions = await vendor.find('Version', [], ['user']);
    expect(versions.length > 0 && versions.every((v) => (v.user as Row | null)?.id === vendorId)).toBe(true);
    const s = (await vendor.call('summarize', {
      type: 'Task',
      filters: { logical_operator: 'and', conditions: [] },
      summaries: [{ field: 'id', type: 'record_count' }],
    })) as { summaries: { id: number } };
    expect(s.summaries.id).toBe(expected.length);
    // Legacy paging: entity_count is the vendor's.
    const legacy = (await vendor.call('read', {
      type: 'Task',
      return_fields: ['id'],
      filters: { logical_operator: 'and', conditions: [] },
      return_only: 'active',
      paging: { entities_per_page: 2, current_page: 1 },
      return_paging_info: true,
    })) as { paging_info: { entity_count: number } };
    expect(legacy.paging_info.entity_count).toBe(expected.length);
    const modern = (await vendor.call('read', {
      type: 'Task',
      return_fields: ['id'],
      filters: { logical_operator: 'and', conditions: [] },
      return_only: 'active',
      paging: { entities_per_page: expected.length, current_page: 1 },
      return_paging_info_without_counts: true,
    })) as { paging_info: { has_next_page: boolean } };
    expect(modern.paging_info.has_next_page).toBe(false);
  });

  it('the lead and the default script see everything', async () => {
    const lead = await userClient(site, P.lead);
    expect((await lead.find('Shot', [], ['description'])).length).toBe((await admin.find('Shot', [], ['description'])).length);
  });

  it('schema reads report hidden fields as not visible', async () => {
    const artist = await userClient(site, P.restrictedArtist);
    const f = (await artist.call('schema_field_read', { type: 'Shot', field_name: 'description' })) as Row;
    expect(f.description.visible.value).toBe(false);
    const a = (await admin.call('schema_field_read', { type: 'Shot', field_name: 'description' })) as Row;
    expect(a.description.visible.value).toBe(true);
  });

  it("sudo_as_login and session tokens act with the user's profile", async () => {
    const sudo = await TestShotgun.connect(site.url, { scriptName: DEFAULT_SCRIPT.name, apiKey: DEFAULT_SCRIPT.key }, { sudoAsLogin: P.restrictedArtist });
    expect((await sudo.find('Project')).map((p) => p.id)).toEqual([first]);
    const token = await (await userClient(site, P.vendor)).getSessionToken();
    const session = await TestShotgun.connect(site.url, { sessionToken: token });
    const tasks = await session.find('Task', [], ['task_assignees']);
    expect(tasks.length).toBeGreaterThan(0);
    expect(tasks.every((t) => (t.task_assignees as Row[]).some((a) => a.id === vendorId))).toBe(true);
  });
});

describe('the permissions knob', () => {
  it('changes a profile at once (HTTP control endpoint), and reset restores the start profiles', async () => {
    const post = (body: unknown) => fetch(`${site.url}/__sim/control`, { method: 'POST', body: JSON.stringify(body) });
    expect((await post({ permissions: { 'user:artist1': { projects: [first], hiddenFields: { Shot: ['code'] } } } })).status).toBe(200);
    const artist = await userClient(site, 'artist1');
    const shots = await artist.find('Shot', [], ['code', 'project']);
    expect(shots.every((s) => s.code === null && projectOf(s) === first)).toBe(true);
    expect((await post({ permissions: { 'user:artist1': { rowRules: { Shot: 'bogus' } }, 'bad key': {} } })).status).toBe(400);
    await post({ permissions: { 'user:artist1': null } });
    expect((await artist.find('Shot', [], ['code'])).every((s) => s.code !== null)).toBe(true);
    site.control.setPermissions({ [`user:${P.lead}`]: { projects: [] } });
    expect(await (await userClient(site, P.lead)).find('Project')).toEqual([]);
    site.control.reset();
    expect((await (await userClient(site, P.lead)).find('Project')).length).toBeGreaterThan(1);
  });
});
