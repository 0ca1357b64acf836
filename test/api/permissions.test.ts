// Permission-faithful reads over HTTP through the real API handler, against the simulated site with permission profiles: every answer the cache gives a caller is byte-identical to the site's answer for that same caller.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SCRIPT, DEFAULT_USER_PASSWORD } from '../../local/sim/credentials.js';
import { SEEDED_PROFILE_LOGINS as P } from '../../local/sim/permissions.js';
import type { AuthParams } from '../../shared/site/index.js';
import { cond, readPayload, results, SCRIPT_AUTH, startHarness, type Harness } from './harness.js';

const TTL_MS = 4_000;
let h: Harness;
let p1: number;
let p2: number;
let vendorToken: string;
const user = (login: string): AuthParams => ({ user_login: login, user_password: DEFAULT_USER_PASSWORD });
const ARTIST = user(P.restrictedArtist);
const VENDOR = user(P.vendor);
const LEAD = user(P.lead);
const SUDO_ARTIST: AuthParams = { script_name: DEFAULT_SCRIPT.name, script_key: DEFAULT_SCRIPT.key, sudo_as_login: P.restrictedArtist };
const link = (id: number) => ({ type: 'Project', id });

beforeAll(async () => {
  h = await startHarness('perm', { sim: { entities: 400, seed: 5 }, api: { permissionViewTtlMs: TTL_MS } });
  const projects = results<{ entities: Array<{ id: number }> }>(await h.direct(readPayload(SCRIPT_AUTH, 'Project', [], ['id']))).entities;
  [p1, p2] = projects.map((p) => p.id);
  vendorToken = results<{ session_id: string }>(await h.direct({ method_name: 'get_session_token', params: [VENDOR] })).session_id;
}, 240_000);
afterAll(async () => {
  await h?.close();
});

/** Sends the payload through the cache and straight to the site as the same caller: the bodies must be identical. */
async function same(payload: { method_name: string; params: unknown[] }): Promise<{ kind: string; reason: string }> {
  const viaCache = await h.rpc(payload);
  const site = await h.direct(payload);
  const kind = String(viaCache.headers['x-fpt-cache']);
  const reason = String(viaCache.headers['x-fpt-cache-reason']);
  expect(viaCache.body.toString('utf8'), `${kind} ${reason}: ${JSON.stringify(payload.params[1]).slice(0, 300)}`).toBe(site.body.toString('utf8'));
  return { kind, reason };
}

const read = (auth: AuthParams, type: string, conditions: unknown[], fields: string[], extra: Record<string, unknown> = {}) =>
  readPayload(auth, type, conditions, fields, extra);
const summarize = (auth: AuthParams, type: string, conditions: unknown[], summaries: unknown[], grouping?: unknown[]) => ({
  method_name: 'summarize',
  params: [auth, { type, filters: { logical_operator: 'and', conditions }, summaries, ...(grouping ? { grouping } : {}) }],
});

describe('a restricted artist (one project, Shot.description and Task.due_date hidden)', () => {
  it("gets hits inside its verified view and the site's answer outside it, identical to the site's for that user", async () => {
    expect(await same(read(ARTIST, 'Shot', [cond('project', 'is', link(p1))], ['code', 'sg_status_list', 'project']))).toEqual({
      kind: 'hit',
      reason: expect.stringMatching(/^access:/),
    });
    // Unconfined: the project restriction applied to the cached answer (exact: Shot rows all have a project).
    expect((await same(read(ARTIST, 'Shot', [], ['code', 'sg_cut_in']))).kind).toBe('hit');
    expect((await same(read(ARTIST, 'Project', [], ['name', 'sg_status']))).kind).toBe('hit');
    // Confined to a project it cannot see, a hidden field, a deep field through a hidden field.
    expect(await same(read(ARTIST, 'Shot', [cond('project', 'is', link(p2))], ['code']))).toEqual({ kind: 'pass', reason: 'permission-restricted:Shot' });
    expect(await same(read(ARTIST, 'Shot', [], ['code', 'description']))).toEqual({ kind: 'pass', reason: 'permission-restricted:Shot' });
    expect((await same(read(ARTIST, 'Task', [], ['content', 'due_date']))).reason).toBe('permission-restricted:Task');
    expect((await same(read(ARTIST, 'Task', [cond('project', 'is', link(p1))], ['content', 'entity.Shot.description']))).kind).toBe('pass');
    expect((await same(read(ARTIST, 'Shot', [cond('description', 'is_not', null)], ['code']))).kind).toBe('pass');
    // Deep fields through the project link, and links checked against the store.
    expect((await same(read(ARTIST, 'Shot', [], ['code', 'project.Project.name']))).kind).toBe('hit');
    await same(read(ARTIST, 'Task', [cond('project', 'is', link(p1))], ['content', 'entity', 'step', 'task_assignees']));
    await same(read(ARTIST, 'HumanUser', [], ['login', 'projects']));
  });

  it("filters naming links it sees are served (the panel's Tasks and Versions of a Shot); links it cannot see pass", async () => {
    const visible = results<{ entities: Array<{ type: string; id: number }> }>(
      await h.direct(read(SCRIPT_AUTH, 'Shot', [cond('project', 'is', link(p1)), cond('tasks', 'is_not', null)], ['id'])),
    ).entities[0];
    const other = results<{ entities: Array<{ type: string; id: number }> }>(
      await h.direct(read(SCRIPT_AUTH, 'Shot', [cond('project', 'is', link(p2)), cond('tasks', 'is_not', null)], ['id'])),
    ).entities[0];
    const shotLink = (s: { id: number }) => ({ type: 'Shot', id: s.id });
    const tasksOf = (s: { id: number }) => read(ARTIST, 'Task', [cond('entity', 'is', shotLink(s))], ['content', 'step', 'sg_status_list']);
    const served = await same(tasksOf(visible));
    expect(served.kind).toBe('hit');
    expect(results<{ entities: unknown[] }>(await h.rpc(tasksOf(visible))).entities.length).toBeGreaterThan(0);
    expect(await same(read(ARTIST, 'Version', [cond('entity', 'is', shotLink(visible))], ['code', 'sg_status_list', 'user']))).toMatchObject({ kind: 'hit' });
    // A Shot of a project it cannot see: the site shows it nothing through that link; the cache cannot tell, so it passes.
    expect(await same(tasksOf(other))).toEqual({ kind: 'pass', reason: 'permission-restricted:Shot' });
    expect(await same(read(ARTIST, 'Task', [cond('entity', 'in', shotLink(visible), shotLink(other))], ['content']))).toEqual({
      kind: 'pass',
      reason: 'permission-restricted:Shot',
    });
    // Compared otherwise (is_not) it stays a pass.
    expect((await same(read(ARTIST, 'Task', [cond('entity', 'is_not', shotLink(visible)), cond('project', 'is', link(p1))], ['content']))).kind).toBe('pass');
  });

  it('summarize: hits inside the view, identical to the site', async () => {
    const r = await same(
      summarize(
        ARTIST,
        'Shot',
        [],
        [
          { field: 'id', type: 'record_count' },
          { field: 'sg_cut_in', type: 'sum' },
        ],
        [{ field: 'sg_status_list', type: 'exact', direction: 'asc' }],
      ),
    );
    expect(r.kind).toBe('hit');
    expect((await same(summarize(ARTIST, 'Shot', [], [{ field: 'description', type: 'count' }]))).kind).toBe('pass');
    await same(summarize(ARTIST, 'Task', [], [{ field: 'id', type: 'record_count' }], [{ field: 'project', type: 'exact', direction: 'asc' }]));
  });

  it("both paging modes: entity_count and has_next_page are the user's", async () => {
    for (let page = 1; page <= 3; page++) {
      expect((await same(read(ARTIST, 'Shot', [], ['code'], { paging: { entities_per_page: 7, current_page: page }, return_paging_info: true }))).kind).toBe(
        'hit',
      );
      expect(
        (await same(read(ARTIST, 'Shot', [], ['code'], { paging: { entities_per_page: 7, current_page: page }, return_paging_info_without_counts: true })))
          .kind,
      ).toBe('hit');
    }
  });

  it("sudo_as_login: the cache's own script acting as the artist gets the artist's view, not the script's", async () => {
    expect((await same(read(SUDO_ARTIST, 'Shot', [], ['code']))).kind).toBe('hit');
    expect((await same(read(SUDO_ARTIST, 'Shot', [], ['description']))).reason).toBe('permission-restricted:Shot');
    expect((await same(read(SUDO_ARTIST, 'Project', [], ['name']))).kind).toBe('hit');
  });
});

describe('a vendor (row rules on Task, Version, Note)', () => {
  it('its Tasks and Versions pass through; what it sees whole is served', async () => {
    for (const auth of [VENDOR, { session_token: vendorToken } as AuthParams]) {
      expect(await same(read(auth, 'Task', [], ['content', 'task_assignees']))).toEqual({ kind: 'pass', reason: 'permission-restricted:Task' });
      expect((await same(read(auth, 'Version', [cond('project', 'is', link(p1))], ['code', 'user']))).reason).toBe('permission-restricted:Version');
      expect((await same(summarize(auth, 'Task', [], [{ field: 'id', type: 'record_count' }]))).kind).toBe('pass');
      expect((await same(read(auth, 'Shot', [], ['code', 'sg_status_list']))).kind).toBe('hit');
      // A Shot's tasks link to Tasks the vendor may not see: never served.
      expect((await same(read(auth, 'Shot', [], ['code', 'tasks']))).kind).toBe('pass');
    }
  });
});

describe('unrestricted callers', () => {
  it("the lead is verified equal to the script and served as before; the cache's script needs no probe", async () => {
    for (const q of [read(LEAD, 'Shot', [], ['code', 'description', 'project']), read(LEAD, 'Task', [], ['content', 'due_date', 'entity.Shot.code'])]) {
      expect((await same(q)).kind).toBe('hit');
    }
    const before = h.metrics.counts.PermissionProbes;
    expect((await same(read(SCRIPT_AUTH, 'Note', [], ['subject', 'addressings_to']))).kind).toBe('hit');
    expect(h.metrics.counts.PermissionProbes).toBe(before);
  });
});

describe('generated reads per caller', () => {
  const FIELDS: Record<string, string[]> = {
    Shot: ['code', 'description', 'sg_status_list', 'project', 'sg_sequence', 'tasks', 'assets', 'sg_sequence.Sequence.code', 'project.Project.name'],
    Task: ['content', 'due_date', 'start_date', 'entity', 'task_assignees', 'entity.Shot.description', 'entity.Shot.code', 'step'],
    Version: ['code', 'user', 'entity', 'sg_task', 'description'],
    Asset: ['code', 'sg_asset_type', 'shots', 'project'],
    Project: ['name', 'users', 'sg_status'],
    Note: ['subject', 'addressings_to', 'note_links'],
    HumanUser: ['login', 'projects', 'groups'],
  };
  it("every answer, hit or pass, is identical to the site's for that caller", async () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
    const callers = [ARTIST, VENDOR, LEAD, SUDO_ARTIST, { session_token: vendorToken } as AuthParams];
    const hits = new Map<unknown, number>();
    for (let i = 0; i < 120; i++) {
      const auth = callers[i % callers.length];
      const type = pick(Object.keys(FIELDS));
      const fields = FIELDS[type].filter(() => rnd() < 0.5);
      const conditions: unknown[] = [];
      if (type !== 'HumanUser' && type !== 'Project' && rnd() < 0.5) conditions.push(cond('project', 'is', link(pick([p1, p2]))));
      if (rnd() < 0.3) conditions.push(cond('id', 'greater_than', 0));
      const paging = { entities_per_page: pick([5, 50, 500]), current_page: pick([1, 1, 2]) };
      const r = await same(read(auth, type, conditions, fields, { paging, ...(rnd() < 0.3 ? { return_paging_info: true } : {}) }));
      if (r.kind === 'hit') hits.set(auth, (hits.get(auth) ?? 0) + 1);
    }
    // Every caller got some hits: restricted ones inside their verified views.
    for (const c of callers) expect(hits.get(c) ?? 0, JSON.stringify(c)).toBeGreaterThan(0);
  }, 120_000);
});

describe('a permission change on the site', () => {
  it("a wider view is seen at once from the caller's own pass-through replies (revocation), a narrower one after the TTL", async () => {
    const status = async () =>
      (
        (await fetch(`${h.api.url}/status`, { headers: { 'x-fpt-cache-script-key': DEFAULT_SCRIPT.key } }).then((r) => r.json())) as {
          permissions: Record<string, number>;
        }
      ).permissions;
    // Shot.description becomes visible to the artist: its next read of it passes (the view says hidden), the reply shows values.
    expect((await same(read(ARTIST, 'Shot', [], ['code']))).kind).toBe('hit');
    const revokedBefore = (await status()).revocations;
    h.sim.control.setPermissions({ [`user:${P.restrictedArtist}`]: { projects: 'assigned', hiddenFields: { Task: ['due_date'] } } });
    expect((await same(read(ARTIST, 'Shot', [], ['code', 'description']))).reason).toBe('permission-restricted:Shot');
    expect((await status()).revocations).toBe(revokedBefore + 1);
    expect((await same(read(ARTIST, 'Shot', [], ['code', 'description']))).kind).toBe('hit');
    // The artist is given the second project: a pass-through read shows its rows, the view is revoked and probed again.
    await same(read(ARTIST, 'Task', [], ['content', 'due_date', 'project']));
    expect((await same(read(ARTIST, 'Shot', [cond('project', 'is', link(p2))], ['code']))).reason).toBe('permission-restricted:Shot');
    h.sim.control.setPermissions({ [`user:${P.restrictedArtist}`]: { projects: [p1, p2], hiddenFields: { Task: ['due_date'] } } });
    await same(read(ARTIST, 'Task', [], ['content', 'due_date', 'project']));
    expect((await status()).revocations).toBe(revokedBefore + 2);
    expect((await same(read(ARTIST, 'Shot', [cond('project', 'is', link(p2))], ['code']))).kind).toBe('hit');
    // Narrowed again on the site: within the TTL the cache may still serve the wider view (documented); after it, never.
    h.sim.control.setPermissions({ [`user:${P.restrictedArtist}`]: { projects: [p1], hiddenFields: { Shot: ['description'], Task: ['due_date'] } } });
    await new Promise((r) => setTimeout(r, TTL_MS + 200));
    expect(await same(read(ARTIST, 'Shot', [cond('project', 'is', link(p2))], ['code']))).toEqual({ kind: 'pass', reason: 'permission-restricted:Shot' });
    expect((await same(read(ARTIST, 'Shot', [], ['description']))).kind).toBe('pass');
    const s = await status();
    expect(s.probes).toBeGreaterThan(0);
    expect(s.views).toBeGreaterThan(0);
    expect(JSON.stringify(s)).not.toContain(P.restrictedArtist);
    h.sim.control.reset();
  }, 60_000);
});
