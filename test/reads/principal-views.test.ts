// PrincipalViews against the simulated site: probes with the caller's own credentials, trust, the stable view key (for a reply memo), evidence and revocation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SCRIPT, DEFAULT_USER_PASSWORD } from '../../local/sim/credentials.js';
import { SEEDED_PROFILE_LOGINS as P } from '../../local/sim/permissions.js';
import { startSimSite, type SimSite } from '../../local/sim/server.js';
import { CallerAuth, credentialOf, PrincipalViews } from '../../shared/reads/index.js';
import { loadCachedSchema } from '../../shared/schema/index.js';
import { ShotgunClient } from '../../shared/site/index.js';

const schema = loadCachedSchema('schema/default.yml');
const SCRIPT = { script_name: DEFAULT_SCRIPT.name, script_key: DEFAULT_SCRIPT.key };
const user = (login: string) => ({ user_login: login, user_password: DEFAULT_USER_PASSWORD });
let site: SimSite;
let views: PrincipalViews;
let clock = 1_000_000;

beforeAll(async () => {
  site = await startSimSite({ port: 0, entities: 300, seed: 9 });
  const client = new ShotgunClient({ url: site.url });
  const auth = new CallerAuth({ client, ttlMs: 60_000, hmacKey: async () => SCRIPT.script_key });
  views = new PrincipalViews({
    client,
    schema,
    scriptAuth: async () => SCRIPT,
    identity: (c) => auth.identity(c),
    trusted: ['user:admin'],
    ttlMs: 60_000,
    now: () => clock,
  });
});
afterAll(async () => {
  await site.close();
});

const cred = (a: Record<string, unknown>) => credentialOf(a)!;

describe('PrincipalViews', () => {
  it("trusts the cache's own script and configured principals, never under sudo or by session", async () => {
    expect(await views.isTrusted(cred(SCRIPT))).toBe(true);
    expect(await views.isTrusted(cred(user('admin')))).toBe(true);
    expect(await views.isTrusted(cred({ ...SCRIPT, sudo_as_login: P.vendor }))).toBe(false);
    expect(await views.isTrusted(cred({ session_token: 'x' }))).toBe(false);
    expect(await views.viewKey(cred(SCRIPT), ['Shot'])).toBe('full');
  });

  it('probes once per (caller, type); the view key is `full` for an unrestricted caller and one digest per distinct view', async () => {
    const types = ['Shot', 'Project', 'Task'];
    expect(await views.viewKey(cred(user(P.lead)), types)).toBeUndefined();
    const probes = views.stats.probes;
    expect((await views.viewOf(cred(user(P.lead)), types)).kind).toBe('verified');
    expect(views.stats.probes).toBe(probes + 3);
    await views.viewOf(cred(user(P.lead)), types);
    expect(views.stats.probes).toBe(probes + 3);
    expect(await views.viewKey(cred(user(P.lead)), types)).toBe('full');

    const artist = await views.viewOf(cred(user(P.restrictedArtist)), types);
    expect(artist.kind === 'verified' && artist.types.get('Shot')).toMatchObject({
      rows: 'same',
      projects: [expect.any(Number)],
      hidden: expect.arrayContaining(['description']),
    });
    const sudo = { ...SCRIPT, sudo_as_login: P.restrictedArtist };
    await views.viewOf(cred(sudo), types);
    await views.viewOf(cred(user(P.vendor)), types);
    const key = await views.viewKey(cred(user(P.restrictedArtist)), types);
    expect(key).toMatch(/^view:/);
    // Another credential with the same view shares the key (a memo may share replies); another view does not.
    expect(await views.viewKey(cred(sudo), types)).toBe(key);
    expect(await views.viewKey(cred(user(P.vendor)), types)).not.toBe(key);
    expect(await views.viewKey(cred(user(P.restrictedArtist)), ['Version'])).toBeUndefined();
    expect(JSON.stringify(views.report())).not.toContain(P.restrictedArtist);
  });

  it('evidence of a wider view revokes it; the TTL expires it; a wrong password is unverified, not restricted', async () => {
    const c = cred(user(P.restrictedArtist));
    const projects = (
      await new ShotgunClient({ url: site.url }).call<{ entities: Array<{ id: number }> }>(
        'read',
        {
          type: 'Project',
          return_fields: ['id'],
          filters: { logical_operator: 'and', conditions: [] },
          return_only: 'active',
          paging: { entities_per_page: 50, current_page: 1 },
        },
        { auth: SCRIPT },
      )
    ).entities.map((p) => p.id);
    const key = await views.viewKey(c, ['Shot']);
    expect(await views.evidence(c, 'Shot', () => [{ type: 'Shot', id: 1, project: null }])).toBe(false);
    const visible = ((await views.viewOf(c, ['Shot'])) as unknown as { types: Map<string, { projects?: number[] }> }).types.get('Shot')!.projects!;
    const hidden = projects.find((p) => !visible.includes(p))!;
    const revocations = views.stats.revocations;
    expect(await views.evidence(c, 'Shot', () => [{ type: 'Shot', id: 1, project: { type: 'Project', id: hidden } }])).toBe(true);
    expect(views.stats.revocations).toBe(revocations + 1);
    expect(await views.viewKey(c, ['Shot'])).toBeUndefined();
    await views.viewOf(c, ['Shot']);
    expect(await views.viewKey(c, ['Shot'])).toBe(key);
    clock += 61_000;
    expect(await views.viewKey(c, ['Shot'])).toBeUndefined();
    const wrong = { user_login: P.lead, user_password: 'nope' };
    expect(await views.viewOf(cred(wrong), ['Shot'])).toEqual({ kind: 'unverified', reason: 'permission-unverified' });
  });
});
