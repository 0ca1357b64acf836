// Authentication on the simulated site: each credential kind, failures (102), session expiry, sudo_as_login and session_uuid on events.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimSite } from '../../local/sim/server.js';
import { DEFAULT_SCRIPT, DEFAULT_USER_PASSWORD } from '../../local/sim/credentials.js';
import { RpcFault, TestShotgun } from '../support/api3-client.js';
import { eventsAfter, lastEventId, scriptClient, startTestSite, userClient } from '../support/sim-site.js';

let site: SimSite;
let admin: TestShotgun;

beforeAll(async () => {
  site = await startTestSite();
  admin = await scriptClient(site);
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

describe('credentials', () => {
  it('accepts the default script and rejects a wrong key or an unknown script with 102', async () => {
    expect(await admin.find('Step', [], ['code'], null, { limit: 1 })).toHaveLength(1);
    const bad = await TestShotgun.connect(site.url, { scriptName: DEFAULT_SCRIPT.name, apiKey: 'wrong' });
    expect(await fault(bad.find('Shot'))).toMatchObject({ errorCode: 102, message: "Can't authenticate script 'fpt-cache'" });
    const unknown = await TestShotgun.connect(site.url, { scriptName: 'x', apiKey: 'y' });
    expect(await fault(unknown.find('Shot'))).toMatchObject({ errorCode: 102, message: "Can't authenticate script 'x'" });
  });

  it('accepts a seeded user with the default password and rejects a bad password or a disabled user', async () => {
    const artist = await userClient(site, 'artist1');
    const me = await artist.findOne('HumanUser', [['login', 'is', 'artist1']], ['login', 'sg_status_list']);
    expect(me).toMatchObject({ login: 'artist1', sg_status_list: 'act' });
    const wrong = await TestShotgun.connect(site.url, { login: 'artist1', password: 'nope' });
    expect(await fault(wrong.find('Shot'))).toMatchObject({ errorCode: 102, message: "Can't authenticate user 'artist1'" });
    const former = await TestShotgun.connect(site.url, { login: 'former', password: DEFAULT_USER_PASSWORD });
    expect((await fault(former.find('Shot'))).errorCode).toBe(102);
  });

  it("stamps a user's writes with that HumanUser", async () => {
    const artist = await userClient(site, 'artist1');
    const me = await artist.findOne('HumanUser', [['login', 'is', 'artist1']], ['name']);
    const s = await artist.create('Shot', { code: 'AUTH_001' }, ['created_by', 'updated_by']);
    expect(s.created_by).toEqual({ type: 'HumanUser', id: me!.id, name: me!.name });
  });
});

describe('session tokens', () => {
  it('get_session_token gives a token that authenticates with reject_if_expired, until it expires', async () => {
    const artist = await userClient(site, 'artist1');
    const token = await artist.getSessionToken();
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    const viaToken = await TestShotgun.connect(site.url, { sessionToken: token });
    expect(viaToken.auth()).toEqual({ session_token: token, reject_if_expired: true });
    const s = await viaToken.create('Shot', { code: 'AUTH_010' }, ['created_by']);
    expect((s.created_by as { type: string }).type).toBe('HumanUser');
    expect(site.control.expireSessions(token)).toBe(1);
    expect(await fault(viaToken.find('Shot'))).toMatchObject({ errorCode: 102, message: 'Session token has expired.' });
    const bogus = await TestShotgun.connect(site.url, { sessionToken: 'f'.repeat(32) });
    expect((await fault(bogus.find('Shot'))).errorCode).toBe(102);
  });

  it("a script's session keeps the script's identity", async () => {
    const token = await admin.getSessionToken();
    const viaToken = await TestShotgun.connect(site.url, { sessionToken: token });
    const s = await viaToken.create('Shot', { code: 'AUTH_011' }, ['created_by']);
    expect(s.created_by).toMatchObject({ type: 'ApiUser', name: 'fpt-cache' });
  });
});

describe('sudo_as_login and session_uuid', () => {
  it('acts as the sudo user: created_by and event user are that HumanUser, meta carries sudo_actual_user', async () => {
    const uuid = '5a1d3c6e-0000-4000-8000-00000000abcd';
    const sudo = await TestShotgun.connect(
      site.url,
      { scriptName: DEFAULT_SCRIPT.name, apiKey: DEFAULT_SCRIPT.key },
      { sudoAsLogin: 'artist1', sessionUuid: uuid },
    );
    const artist = await admin.findOne('HumanUser', [['login', 'is', 'artist1']], ['name']);
    const api = await admin.findOne('ApiUser', [['firstname', 'is', 'fpt-cache']]);
    const after = await lastEventId(admin);
    const s = await sudo.create('Shot', { code: 'AUTH_020' }, ['created_by']);
    const artistLink = { type: 'HumanUser', id: artist!.id, name: artist!.name };
    expect(s.created_by).toEqual(artistLink);
    const rows = await eventsAfter(admin, after);
    expect(rows.length).toBeGreaterThan(1);
    for (const r of rows) {
      expect(r.user).toEqual(artistLink);
      expect(r.session_uuid).toBe(uuid);
      expect(r.meta.sudo_actual_user).toEqual({ type: 'ApiUser', id: api!.id, name: 'fpt-cache' });
    }
  });

  it('rejects sudo to an unknown login with 102', async () => {
    const sudo = await TestShotgun.connect(site.url, { scriptName: DEFAULT_SCRIPT.name, apiKey: DEFAULT_SCRIPT.key }, { sudoAsLogin: 'nobody' });
    expect((await fault(sudo.find('Shot'))).errorCode).toBe(102);
  });
});

describe('configured scripts', () => {
  it('accepts exactly the configured script credentials', async () => {
    const only = await startTestSite({ scripts: [{ name: 'cache', key: 'k1', generateEvents: true }], entities: 60 });
    try {
      expect(only.credentials).toEqual({ scriptName: 'cache', scriptKey: 'k1' });
      const ok = await TestShotgun.connect(only.url, { scriptName: 'cache', apiKey: 'k1' });
      expect(await ok.find('Step', [], ['code'], null, { limit: 1 })).toHaveLength(1);
      const old = await TestShotgun.connect(only.url, { scriptName: DEFAULT_SCRIPT.name, apiKey: DEFAULT_SCRIPT.key });
      expect((await fault(old.find('Shot'))).errorCode).toBe(102);
    } finally {
      await only.close();
    }
  });
});
