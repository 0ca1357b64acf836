// Attacks on the cache's permission faithfulness over HTTP (issue 23, docs/security.md): each one a caller or the site doing what the probes did not foresee; the cache must answer exactly what the site answers that caller, or pass.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Logger } from '@aws-lambda-powertools/logger';
import { createApiHandler } from '../../functions/api/app.js';
import { startLocalApiGateway } from '../../local/api-gateway.js';
import { API_FUNCTION } from '../../local/functions.js';
import { postRpc } from '../stack/http.js';
import { DEFAULT_SCRIPT, DEFAULT_USER_PASSWORD } from '../../local/sim/credentials.js';
import { SEEDED_PROFILE_LOGINS as P } from '../../local/sim/permissions.js';
import { createParams, updateParams, type AuthParams } from '../../shared/site/index.js';
import type { RawResponse } from '../stack/http.js';
import { SCRIPT_AUTH, TEST_VERDICT_KEY, cond, fault, readPayload, results, schema, startHarness, type Harness } from './harness.js';

let h: Harness;
let projectIds: number[];
const user = (login: string): AuthParams => ({ user_login: login, user_password: DEFAULT_USER_PASSWORD });
const ARTIST = user(P.restrictedArtist);
const GUESSED = { script_name: DEFAULT_SCRIPT.name, script_key: 'a-guessed-key' };
const tag = (r: RawResponse) => `${r.headers['x-fpt-cache']} ${r.headers['x-fpt-cache-reason']}`;
const shots = (auth: unknown, fields = ['code', 'description', 'project']) => ({
  method_name: 'read',
  params: [auth, readPayload(undefined, 'Shot', [], fields).params[0]],
});
const session = async (auth: AuthParams) => results<{ session_id: string }>(await h.direct({ method_name: 'get_session_token', params: [auth] })).session_id;

/** The same payload through the cache and straight to the site: the bodies must be identical. Returns the cache's tag. */
async function same(payload: { method_name: string; params: unknown[] }): Promise<string> {
  const viaCache = await h.rpc(payload);
  const site = await h.direct(payload);
  expect(viaCache.status).toBe(200);
  expect(viaCache.body.toString('utf8'), tag(viaCache)).toBe(site.body.toString('utf8'));
  return tag(viaCache);
}

beforeAll(async () => {
  h = await startHarness('attacks', { api: { permissionViewTtlMs: 60_000 }, trustedPrincipals: [`user:${P.lead}`], responseCache: { enabled: true } });
  projectIds = results<{ entities: Array<{ id: number }> }>(await h.direct(readPayload(SCRIPT_AUTH, 'Project', [], ['id']))).entities.map((p) => p.id);
}, 240_000);
afterAll(async () => {
  await h?.close();
});

describe('one credential, verified by the site, for this request', () => {
  it("mixed credentials (the cache's script name with a wrong key, plus an artist's session token) pass: the site's answer for the artist", async () => {
    h.sim.control.setAuthPolicy({ order: 'session-first' });
    try {
      const token = await session(ARTIST);
      const mixed = { ...GUESSED, session_token: token };
      const r = await h.rpc(shots(mixed));
      expect(tag(r)).toMatch(/^pass /);
      expect(await same(shots(mixed))).toMatch(/^pass /);
      // The site showed the artist fewer Shots than the script sees, none of them with a description.
      const theirs = results<{ entities: Array<{ description: unknown }> }>(r).entities;
      const all = results<{ entities: unknown[] }>(await h.direct(shots(SCRIPT_AUTH))).entities;
      expect(theirs.length).toBeLessThan(all.length);
      expect(theirs.every((e) => e.description === null)).toBe(true);

      // Verdict poisoning: the guessed key alone, afterwards, is the site's 102, never the script's view.
      const alone = await h.rpc(shots(GUESSED));
      expect(alone.status).toBe(200);
      expect(fault(alone)).toEqual({ exception: true, error_code: 102, message: `Can't authenticate script '${DEFAULT_SCRIPT.name}'` });
      expect(alone.body.toString()).not.toContain('"results"');
    } finally {
      h.sim.control.setAuthPolicy({});
    }
  });

  it("a relayed `info` (the cache's own info failing) records no verdict for the credentials it carried", async () => {
    const key = { script_name: DEFAULT_SCRIPT.name, script_key: 'guessed-through-info' };
    // The cache's own info call fails (both attempts); the caller's own info is relayed and answered by the site, which does not check its params.
    h.sim.control.failNext({ kind: 'http502', method: 'info', count: 2 });
    const info = await h.rpc({ method_name: 'info', params: [key] });
    expect(info.status).toBe(200);
    expect(results<{ version: unknown }>(info).version).toBeDefined();
    const r = await h.rpc(shots(key));
    expect(fault(r).error_code).toBe(102);
    expect(tag(r)).toBe('error auth-rejected');
  });

  it("a sudo_as_login the site refuses with a non-auth fault is never trusted: the site's fault, not the trusted user's view", async () => {
    h.sim.control.setAuthPolicy({ userSudo: 105 });
    try {
      const sudo = { ...ARTIST, sudo_as_login: P.lead };
      const r = await h.rpc(shots(sudo));
      expect(tag(r)).toMatch(/^pass /);
      expect(fault(r)).toMatchObject({ exception: true, error_code: 105 });
      expect(await same(shots(sudo))).toMatch(/^pass /);
    } finally {
      h.sim.control.setAuthPolicy({});
    }
  });
});

describe('verify before work; bounded work', () => {
  const huge = (auth: unknown, n: number) => ({
    method_name: 'read',
    params: [auth, readPayload(undefined, 'Shot', [cond('id', 'in', ...Array.from({ length: n }, (_, i) => i + 1))], ['code']).params[0]],
  });

  it("a wrong key with 100,000 ids in an `in` list: the site's 102 in Shotgun's fault shape, no cache work", async () => {
    const r = await h.rpc(huge(GUESSED, 100_000));
    expect(r.status).toBe(200);
    expect(fault(r)).toMatchObject({ exception: true, error_code: 102 });
  });

  it("a valid caller with 100,000 ids passes with a reason, and gets the site's own answer", async () => {
    const payload = huge(SCRIPT_AUTH, 100_000);
    const r = await h.rpc(payload);
    expect(r.status).toBe(200);
    expect(tag(r)).toBe('pass limit:in-list');
    const site = await h.direct(payload);
    expect(r.body.toString('utf8')).toBe(site.body.toString('utf8'));
  });
});

describe('views follow the site', () => {
  it('a new project after a probe: a user on every project that existed sees none of its Shots through the cache', async () => {
    const login = 'artist3';
    h.sim.control.setPermissions({ [`user:${login}`]: { projects: projectIds } });
    try {
      const caller = user(login);
      const before = await same(shots(caller, ['code', 'project']));
      expect(before).toMatch(/^hit /);
      // A new show with 3 Shots, written through the cache (so its store holds them at once).
      const project = results<{ id: number }>(
        await h.rpc({ method_name: 'create', params: [SCRIPT_AUTH, createParams('Project', { name: 'A new show' })] }),
      ).id;
      for (let i = 0; i < 3; i++)
        await h.rpc({ method_name: 'create', params: [SCRIPT_AUTH, createParams('Shot', { code: `NEW_${i}`, project: { type: 'Project', id: project } })] });
      for (let i = 0; i < 3; i++) {
        const r = await h.rpc(shots(caller, ['code', 'project']));
        expect(results<{ entities: Array<{ code: string }> }>(r).entities.map((e) => e.code)).not.toContain('NEW_0');
        await same(shots(caller, ['code', 'project']));
      }
      // Nor the new Project itself.
      await same({ method_name: 'read', params: [caller, readPayload(undefined, 'Project', [], ['name']).params[0]] });
    } finally {
      h.sim.control.setPermissions({ [`user:${login}`]: null });
    }
  });

  it('a membership change the event log carries ends the views (and the replies kept under them) at once, not at the TTL', async () => {
    const withArtist = results<{ entities: Array<{ id: number; users: Array<{ type: string; id: number }> }> }>(
      await h.direct(readPayload(SCRIPT_AUTH, 'Project', [], ['users'])),
    ).entities;
    const artistId = results<{ entities: Array<{ id: number }> }>(
      await h.direct(readPayload(SCRIPT_AUTH, 'HumanUser', [cond('login', 'is', P.restrictedArtist)], ['id'])),
    ).entities[0].id;
    const project = withArtist.find((p) => p.users.some((u) => u.type === 'HumanUser' && u.id === artistId))!;
    const inProject = (fields: string[]) => ({
      method_name: 'read',
      params: [ARTIST, readPayload(undefined, 'Shot', [cond('project', 'is', { type: 'Project', id: project.id })], fields).params[0]],
    });
    const setUsers = (users: unknown[]) => h.rpc({ method_name: 'update', params: [SCRIPT_AUTH, updateParams('Project', project.id, { users })] });
    try {
      expect(await same(inProject(['code']))).toMatch(/^hit /);
      // An unplannable read of the same Shots, kept by the response cache for this caller.
      expect(await same(inProject(['code', 'sg_editorial_data']))).toBe('pass uncached-field:Shot.sg_editorial_data');
      expect(await same(inProject(['code', 'sg_editorial_data']))).toBe('hit response-cache');
      // The artist leaves the project (written through the cache: its Project counter moves, as the poller's would).
      expect((await setUsers(project.users.filter((u) => u.id !== artistId))).status).toBe(200);
      expect(await same(inProject(['code']))).toMatch(/^pass /);
      expect(await same(inProject(['code', 'sg_editorial_data']))).toMatch(/^pass /);
      expect(results<{ entities: unknown[] }>(await h.rpc(inProject(['code']))).entities).toEqual([]);
    } finally {
      await setUsers(project.users);
    }
  });
});

describe('secrets', () => {
  it('logs carry no credential, token or row data, at the most verbose level', async () => {
    const lines: string[] = [];
    const capture = (chunk: unknown) => {
      lines.push(String(chunk));
      return true;
    };
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture as never);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture as never);
    const handler = createApiHandler({
      shotgun: { url: h.sim.url, timeoutMs: 10_000, maxAttempts: 1 },
      logger: new Logger({ serviceName: 'fpt-cache-api-logs', logLevel: 'DEBUG' }),
      cache: {
        schema,
        ddb: h.store.ddb,
        tables: h.tables,
        accessRules: {},
        verdictKey: async () => TEST_VERDICT_KEY,
        scriptAuth: async () => SCRIPT_AUTH as { script_name: string; script_key: string },
        responseCache: { enabled: true },
      },
    });
    const gw = await startLocalApiGateway({ port: 0, fn: API_FUNCTION.fn, handler });
    const secrets = ['password', DEFAULT_SCRIPT.key, GUESSED.script_key, TEST_VERDICT_KEY];
    const rows: Array<{ code: string }> = [];
    try {
      const token = await session(user('artist4'));
      secrets.push(token);
      const rpc = (payload: unknown) => postRpc(`${gw.url}/api3/json`, payload);
      rows.push(...results<{ entities: Array<{ code: string }> }>(await rpc(shots(SCRIPT_AUTH, ['code']))).entities);
      await rpc(shots(user('artist4')));
      await rpc(shots({ session_token: token }));
      await rpc(shots({ ...GUESSED, session_token: token }));
      await rpc(shots(GUESSED));
      await rpc(shots(user('artist4'), ['code', 'sg_editorial_data']));
      await rpc({
        method_name: 'update',
        params: [user('artist4'), { type: 'Shot', id: 1, fields: [{ field_name: 'description', value: 'a logged secret?' }] }],
      });
      await rpc({ method_name: 'info', params: [GUESSED] });
      await rpc({ method_name: 'read', params: [GUESSED, 'not params'] });
    } finally {
      await gw.close();
      out.mockRestore();
      err.mockRestore();
    }
    const text = lines.join('');
    expect(text.length).toBeGreaterThan(0);
    for (const s of secrets) expect(text, s).not.toContain(s);
    expect(text).not.toContain('a logged secret?');
    for (const r of rows.slice(0, 20)) expect(text).not.toContain(`"${r.code}"`);
  });
});
