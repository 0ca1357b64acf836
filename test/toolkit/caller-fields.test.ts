// Fields the site answers for the current user (tk-desktop's project list): each caller gets its own value, changes without an event are seen at once, and no cached or kept reply carries them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEEDED_LOGINS, DEFAULT_USER_PASSWORD } from '../../local/sim/credentials.js';
import { SCRIPT_AUTH, cond, readPayload, results, startHarness, type Harness } from '../api/harness.js';

let h: Harness;
let projects: Array<{ type: string; id: number; name: string }>;
const ARTIST = { user_login: SEEDED_LOGINS.artist, user_password: DEFAULT_USER_PASSWORD };
const ADMIN = { user_login: SEEDED_LOGINS.admin, user_password: DEFAULT_USER_PASSWORD };
const userId = async (login: string) =>
  (results(await h.direct(readPayload(SCRIPT_AUTH, 'HumanUser', [cond('login', 'is', login)], ['id']))) as { entities: any[] }).entities[0].id as number;

/** tk-desktop's project list (project_model.py), as `auth`. */
const desktop = (auth: unknown) =>
  readPayload(
    auth as typeof SCRIPT_AUTH,
    'Project',
    [cond('name', 'is_not', 'Template Project'), cond('archived', 'is_not', true)],
    ['name', 'sg_status', 'current_user_favorite', 'last_accessed_by_current_user', 'sg_description'],
    { include_archived_projects: false },
  );

beforeAll(async () => {
  // The response cache on, as deployed: it must not keep these replies.
  h = await startHarness('toolkit-caller-fields', { responseCache: { enabled: true } });
  projects = (results(await h.direct(readPayload(SCRIPT_AUTH, 'Project', [], ['name']))) as { entities: any[] }).entities;
});
afterAll(async () => {
  await h?.close();
});

describe('fields the site answers for the current user', () => {
  it("differ by caller on the site, and the cache passes them through with their reason, never serving one caller's value to another", async () => {
    const admin = results(await h.direct(desktop(ADMIN))).entities as any[];
    h.sim.control.setCallerFields({ user: await userId(SEEDED_LOGINS.artist), project: admin[0].id, favorite: !admin[0].current_user_favorite });
    const artist = results(await h.direct(desktop(ARTIST))).entities as any[];
    expect(artist.map((p) => p.id)).toEqual(admin.map((p) => p.id));
    const differs = artist.some(
      (p, i) => p.current_user_favorite !== admin[i].current_user_favorite || p.last_accessed_by_current_user !== admin[i].last_accessed_by_current_user,
    );
    expect(differs, 'the sim gives each user its own values').toBe(true);
    for (let round = 0; round < 2; round++) {
      for (const auth of [ARTIST, ADMIN]) {
        const via = await h.rpc(desktop(auth));
        expect(via.headers['x-fpt-cache']).toBe('pass');
        expect(via.headers['x-fpt-cache-reason']).toBe('caller-dependent:Project.current_user_favorite');
        expect(via.body.toString('utf8')).toBe((await h.direct(desktop(auth))).body.toString('utf8'));
      }
    }
  });

  it('a project starred and opened in the web UI (no event) shows at once through the cache; deep paths pass too', async () => {
    const me = await userId(SEEDED_LOGINS.artist);
    const p = projects[1];
    const before = (results(await h.rpc(desktop(ARTIST))).entities as any[]).find((x) => x.id === p.id);
    h.sim.control.setCallerFields({ user: me, project: p.id, favorite: !before.current_user_favorite, visitedAt: '2026-11-30T10:00:00Z' });
    const after = (results(await h.rpc(desktop(ARTIST))).entities as any[]).find((x) => x.id === p.id);
    expect(after.current_user_favorite).toBe(!before.current_user_favorite);
    expect(after.last_accessed_by_current_user).toBe('2026-11-30T10:00:00Z');
    const deep = readPayload(ARTIST as never, 'Shot', [cond('project', 'is', p)], ['code', 'project.Project.current_user_favorite']);
    const via = await h.rpc(deep);
    expect(via.headers['x-fpt-cache-reason']).toBe('caller-dependent:Project.current_user_favorite');
    expect(via.body.toString('utf8')).toBe((await h.direct(deep)).body.toString('utf8'));
  });

  it('a read passing for another reason first is still not kept when it names a per-caller field', async () => {
    const mixed = readPayload(SCRIPT_AUTH, 'Project', [], ['name', 'no_such_field_here', 'current_user_favorite']);
    const first = await h.rpc(mixed);
    const second = await h.rpc(mixed);
    for (const r of [first, second]) expect(r.headers['x-fpt-cache-reason']).toBe('caller-dependent:Project.current_user_favorite');
    expect(second.headers['x-fpt-cache']).toBe('pass');
  });
});
