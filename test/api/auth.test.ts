// Authentication before cached reads: every credential kind checked once against the site, verdicts cached (memory, state table), the site's 102 otherwise; access rules.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Logger } from '@aws-lambda-powertools/logger';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { createApiHandler } from '../../functions/api/app.js';
import { startLocalApiGateway } from '../../local/api-gateway.js';
import { API_FUNCTION } from '../../local/functions.js';
import { DEFAULT_SCRIPT } from '../../local/sim/credentials.js';
import { VERDICT_PK } from '../../shared/reads/index.js';
import { postRpc, type RawResponse } from '../stack/http.js';
import { SCRIPT_AUTH, TEST_VERDICT_KEY, cond, fault, readPayload, results, schema, siteReads, startHarness, type Harness } from './harness.js';

let h: Harness;
let projectId: number;
let otherProjectId: number;
let shotId: number;

beforeAll(async () => {
  h = await startHarness('api-auth', {
    // artist2 may be served Shots of one project only; every other user (`*`) only Shots and Tasks.
    accessRules: async (site) => {
      const projects = (await site.call<{ entities: Array<{ id: number }> }>('read', readPayload(undefined, 'Project', [], ['name']).params[0])).entities;
      projectId = projects[0].id;
      otherProjectId = projects[1].id;
      return JSON.stringify({ 'user:artist2': { types: ['Shot'], projects: [projectId] }, '*': { types: ['Shot', 'Task', 'HumanUser'] } });
    },
  });
  shotId = (
    results(await h.direct(readPayload(SCRIPT_AUTH, 'Shot', [cond('project', 'is', { type: 'Project', id: projectId })], ['code']))) as { entities: any[] }
  ).entities[0].id;
});
afterAll(async () => {
  await h?.close();
});

const shotRead = (auth: Record<string, unknown>) => readPayload(auth as never, 'Shot', [cond('id', 'is', shotId)], ['code']);
const tag = (r: RawResponse) => `${r.headers['x-fpt-cache']} ${r.headers['x-fpt-cache-reason']}`;

/** Site `read` calls made while running `fn` (the cache's own reads never go to the site). */
async function siteReadsDuring(fn: () => Promise<unknown>): Promise<number> {
  const before = siteReads(h.sim);
  await fn();
  return siteReads(h.sim) - before;
}

describe('credentials checked against the site, verdicts cached', () => {
  it('a valid script key: one check call with those credentials, then hits without asking again', async () => {
    const auth = { script_name: 'no-events', script_key: 'no-events-key' };
    const first = await siteReadsDuring(async () => expect(tag(await h.rpc(shotRead(auth)))).toBe('hit access:ids'));
    expect(first).toBe(1);
    const later = await siteReadsDuring(async () => {
      for (let i = 0; i < 3; i++) expect(tag(await h.rpc(shotRead(auth)))).toBe('hit access:ids');
    });
    expect(later).toBe(0);
  });

  it("an invalid script key: the site's own 102, no cached data; a changed key is checked again", async () => {
    const good = { script_name: DEFAULT_SCRIPT.name, script_key: DEFAULT_SCRIPT.key };
    expect(tag(await h.rpc(shotRead(good)))).toBe('hit access:ids');
    const bad = { script_name: DEFAULT_SCRIPT.name, script_key: 'not-the-key' };
    let r!: RawResponse;
    expect(
      await siteReadsDuring(async () => {
        r = await h.rpc(shotRead(bad));
      }),
    ).toBe(1);
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ exception: true, error_code: 102, message: `Can't authenticate script '${DEFAULT_SCRIPT.name}'` });
    expect(tag(r)).toBe('error auth-rejected');
    expect(r.body.toString()).not.toContain('"results"');
    // Rejections are not remembered: asking again asks the site again.
    expect(
      await siteReadsDuring(async () => {
        expect(fault(await h.rpc(shotRead(bad))).error_code).toBe(102);
      }),
    ).toBe(1);
  });

  it("user login and password; a wrong password gets the site's 102", async () => {
    const auth = { user_login: 'artist1', user_password: 'password' };
    expect(
      await siteReadsDuring(async () => {
        expect(tag(await h.rpc(shotRead(auth)))).toBe('hit access:ids');
      }),
    ).toBe(1);
    expect(
      await siteReadsDuring(async () => {
        expect(tag(await h.rpc(shotRead(auth)))).toBe('hit access:ids');
      }),
    ).toBe(0);
    const wrong = await h.rpc(shotRead({ user_login: 'artist1', user_password: 'guess' }));
    expect(fault(wrong)).toEqual({ exception: true, error_code: 102, message: "Can't authenticate user 'artist1'" });
    const disabled = await h.rpc(shotRead({ user_login: 'former', user_password: 'password' }));
    expect(fault(disabled).error_code).toBe(102);
  });

  it("a session token (from get_session_token through the API) is served; once expired, the site's 102", async () => {
    const token = (
      results(await h.rpc({ method_name: 'get_session_token', params: [{ user_login: 'artist1', user_password: 'password' }] })) as { session_id: string }
    ).session_id;
    const auth = { session_token: token, reject_if_expired: true };
    expect(tag(await h.rpc(shotRead(auth)))).toBe('hit access:ids');
    const other = (
      results(await h.rpc({ method_name: 'get_session_token', params: [{ user_login: 'artist1', user_password: 'password' }] })) as { session_id: string }
    ).session_id;
    h.sim.control.expireSessions(other);
    const expired = await h.rpc(shotRead({ session_token: other, reject_if_expired: true }));
    expect(fault(expired)).toEqual({ exception: true, error_code: 102, message: 'Session token has expired.' });
    const unknown = await h.rpc(shotRead({ session_token: 'f'.repeat(32) }));
    expect(fault(unknown).error_code).toBe(102);
  });

  it('sudo_as_login is part of the identity: checked with the site (an unknown login is its 102)', async () => {
    const auth = { script_name: DEFAULT_SCRIPT.name, script_key: DEFAULT_SCRIPT.key, sudo_as_login: 'artist1' };
    expect(
      await siteReadsDuring(async () => {
        expect(tag(await h.rpc(shotRead(auth)))).toBe('hit access:ids');
      }),
    ).toBe(1);
    expect(
      await siteReadsDuring(async () => {
        expect(tag(await h.rpc(shotRead(auth)))).toBe('hit access:ids');
      }),
    ).toBe(0);
    const nobody = await h.rpc(shotRead({ ...auth, sudo_as_login: 'nobody' }));
    expect(fault(nobody)).toMatchObject({ error_code: 102, message: expect.stringContaining("Can't sudo as user 'nobody'") });
  });

  it('a request without credentials is not served from the cache: the site answers it', async () => {
    const r = await h.rpc({ method_name: 'read', params: [{}, readPayload(undefined, 'Shot', [cond('id', 'is', shotId)], ['code']).params[0]] });
    expect(tag(r)).toBe('pass no-credentials');
    expect(fault(r)).toMatchObject({ error_code: 102, message: expect.stringContaining('no valid authentication parameters') });
    // A params[0] that is not auth at all: the planner cannot even read params[1]; the site answers.
    const bare = await h.rpc({ method_name: 'read', params: [readPayload(undefined, 'Shot', [cond('id', 'is', shotId)], ['code']).params[0]] });
    expect(tag(bare)).toBe('pass malformed-params');
    expect(fault(bare).error_code).toBe(102);
  });

  it('shares verdicts between containers through the state table, keyed by an HMAC (no secret stored)', async () => {
    const auth = { user_login: 'artist4', user_password: 'password' };
    expect(tag(await h.rpc(shotRead(auth)))).toBe('hit access:ids');
    // A second container (its own memory) on the same tables.
    const other = createApiHandler({
      shotgun: { url: h.sim.url, timeoutMs: 10_000, maxAttempts: 1 },
      logger: new Logger({ serviceName: 'fpt-cache-api-test', logLevel: 'SILENT' }),
      cache: {
        schema,
        ddb: h.store.ddb,
        tables: h.tables,
        accessRules: {},
        verdictKey: async () => TEST_VERDICT_KEY,
        scriptAuth: async () => ({ script_name: DEFAULT_SCRIPT.name, script_key: DEFAULT_SCRIPT.key }),
      },
    });
    const gw = await startLocalApiGateway({ port: 0, fn: API_FUNCTION.fn, handler: other });
    try {
      expect(
        await siteReadsDuring(async () => {
          expect(tag(await postRpc(`${gw.url}/api3/json`, shotRead(auth)))).toBe('hit access:ids');
        }),
      ).toBe(0);
    } finally {
      await gw.close();
    }
    const items =
      (
        await h.store.ddb.send(
          new QueryCommand({
            TableName: h.tables.state,
            KeyConditionExpression: 'pk = :p',
            ExpressionAttributeValues: { ':p': { S: VERDICT_PK } },
          }),
        )
      ).Items ?? [];
    expect(items.length).toBeGreaterThan(0);
    // Keyed by the verdict key, its own secret: not by the script key (which every holder of the script could use to forge one).
    const under = (key: string) =>
      `verdict#${createHmac('sha256', key)
        .update(JSON.stringify(['user', 'artist4', 'password', null]))
        .digest('base64url')}`;
    const sks = items.map((it) => it.sk.S);
    expect(sks).toContain(under(TEST_VERDICT_KEY));
    expect(sks).not.toContain(under(DEFAULT_SCRIPT.key));
    for (const it of items) {
      expect(Number(it.ttl.N)).toBeGreaterThan(Date.now() / 1000);
      const text = JSON.stringify(it);
      for (const secret of ['password', DEFAULT_SCRIPT.key, 'no-events-key', 'artist4']) expect(text).not.toContain(secret);
    }
  });

  it('a passed-through reply is never a verdict: the next cached read verifies that one credential itself', async () => {
    const auth = { user_login: 'artist5', user_password: 'password' };
    // A read the cache cannot answer goes to the site, which accepts the credentials...
    expect(tag(await h.rpc(readPayload(auth as never, 'Shot', [], ['sg_editorial_data'])))).toBe('pass uncached-field:Shot.sg_editorial_data');
    // ...but only the cache's own verification call makes a verdict (the site answers some methods without checking credentials).
    expect(
      await siteReadsDuring(async () => {
        expect(tag(await h.rpc(shotRead(auth)))).toBe('hit access:ids');
      }),
    ).toBe(1);
    expect(
      await siteReadsDuring(async () => {
        expect(tag(await h.rpc(shotRead(auth)))).toBe('hit access:ids');
      }),
    ).toBe(0);
  });
});

describe('access rules (ACCESS_RULES)', () => {
  const artist2 = { user_login: 'artist2', user_password: 'password' };
  const project = () => ({ type: 'Project', id: projectId });

  it('serves an identity only the types and projects its rule names; the rest passes through to the site', async () => {
    expect(tag(await h.rpc(readPayload(artist2 as never, 'Shot', [cond('project', 'is', project())], ['code'])))).toBe('hit access:project');
    expect(tag(await h.rpc(readPayload(artist2 as never, 'Shot', [cond('project', 'is', { type: 'Project', id: otherProjectId })], ['code'])))).toBe(
      'pass access-rule:project',
    );
    expect(tag(await h.rpc(readPayload(artist2 as never, 'Shot', [cond('id', 'is', shotId)], ['code'])))).toBe('pass access-rule:project');
    const task = await h.rpc(readPayload(artist2 as never, 'Task', [cond('project', 'is', project())], ['content']));
    expect(tag(task)).toBe('pass access-rule:type');
    expect(results(task).entities.length).toBeGreaterThan(0);
  });

  it('applies `*` to identities without a rule of their own (session tokens included), and not to those with one', async () => {
    const artist3 = { user_login: 'artist3', user_password: 'password' };
    expect(tag(await h.rpc(readPayload(artist3 as never, 'Task', [cond('project', 'is', project())], ['content'])))).toBe('hit access:project');
    expect(tag(await h.rpc(readPayload(artist3 as never, 'Version', [cond('project', 'is', project())], ['code'])))).toBe('pass access-rule:type');
    expect(tag(await h.rpc(readPayload(SCRIPT_AUTH, 'Version', [cond('project', 'is', project())], ['code'])))).toBe('pass access-rule:type');
    const token = (results(await h.rpc({ method_name: 'get_session_token', params: [artist3] })) as { session_id: string }).session_id;
    expect(tag(await h.rpc(readPayload({ session_token: token } as never, 'Version', [], ['code'])))).toBe('pass access-rule:type');
  });

  it("a sudo user's rule applies too", async () => {
    const auth = { ...SCRIPT_AUTH, sudo_as_login: 'artist2' };
    expect(tag(await h.rpc(readPayload(auth, 'Shot', [cond('project', 'is', project())], ['code'])))).toBe('hit access:project');
    expect(tag(await h.rpc(readPayload(auth, 'Shot', [], ['code'])))).toBe('pass access-rule:project');
  });
});
