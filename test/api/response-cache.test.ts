// The response cache over HTTP: repeated unplannable reads served without the site, byte-identical, per caller, invalidated by poller events and write-through; clock reads and oversize replies never kept.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DEFAULT_USER_PASSWORD, SEEDED_LOGINS } from '../../local/sim/credentials.js';
import { responseCacheFromEnv } from '../../functions/api/app.js';
import { updateParams } from '../../shared/site/index.js';
import { ConfigError } from '../../shared/config.js';
import { pollOnce as pollOnceWith } from './poll-once.js';
import type { RawResponse } from '../stack/http.js';
import { dynamo } from '../store/helpers.js';
import { SCRIPT_AUTH, cond, fault, readPayload, results, schema, siteReads, startHarness, type Harness } from './harness.js';

let h: Harness;
let ddb: DynamoDBClient;
let shot: { id: number; code: string };

const tag = (r: RawResponse) => ({ cache: r.headers['x-fpt-cache'], reason: r.headers['x-fpt-cache-reason'] });
const USER_AUTH = { user_login: SEEDED_LOGINS.artist, user_password: DEFAULT_USER_PASSWORD };

/** Sends `payload` through the API and reports the tag and how many reads the site answered meanwhile. */
async function viaApi(payload: unknown, headers?: Record<string, string>): Promise<{ r: RawResponse; siteCalls: number }> {
  h.sim.control.resetStats();
  const r = await h.rpc(payload, headers);
  return { r, siteCalls: siteReads(h.sim) };
}

const pollOnce = () => pollOnceWith(h, ddb);

beforeAll(async () => {
  h = await startHarness('api-respcache', { responseCache: { enabled: true } });
  ddb = dynamo();
  shot = (results(await h.direct(readPayload(SCRIPT_AUTH, 'Shot', [], ['code'], { paging: { entities_per_page: 1, current_page: 1 } }))) as { entities: any[] })
    .entities[0];
  // The script's credential verified once (a cached read), as any first cached answer does: passes teach no verdict.
  expect((await h.rpc(readPayload(SCRIPT_AUTH, 'Shot', [cond('id', 'is', shot.id)], ['code']))).headers['x-fpt-cache']).toBe('hit');
});
afterAll(async () => {
  await h?.close();
  ddb?.destroy();
});

describe('repeated unplannable reads', () => {
  it.each([
    ['an uncached field', readPayload(SCRIPT_AUTH, 'Shot', [cond('id', 'is', 0)], ['code', 'sg_editorial_data'], {}), 'uncached-field:Shot.sg_editorial_data'],
    ['an uncached type', readPayload(SCRIPT_AUTH, 'ApiUser', [], ['firstname']), 'uncached-type:ApiUser'],
  ])('serves %s from the response cache the second time, byte-identical to the site', async (_what, payload, reason) => {
    if (reason.startsWith('uncached-field')) (payload.params[1] as any).filters.conditions[0].values = [shot.id];
    const first = await viaApi(payload);
    expect(tag(first.r)).toEqual({ cache: 'pass', reason });
    expect(first.siteCalls).toBe(1);
    const hitsBefore = h.metrics.counts.ResponseCacheHit;
    const second = await viaApi(payload);
    expect(tag(second.r)).toEqual({ cache: 'hit', reason: 'response-cache' });
    expect(second.siteCalls).toBe(0);
    expect(h.metrics.counts.ResponseCacheHit).toBe(hitsBefore + 1);
    expect(second.r.body.equals((await h.direct(payload)).body)).toBe(true);
    expect(second.r.body.equals(first.r.body)).toBe(true);
    // x-fpt-cache-require: hit accepts a response-cache hit.
    const required = await viaApi(payload, { 'x-fpt-cache-require': 'hit' });
    expect(tag(required.r)).toEqual({ cache: 'hit', reason: 'response-cache' });
  });

  it("keys replies by caller: another identity is not served the first caller's reply", async () => {
    const payload = readPayload(SCRIPT_AUTH, 'ApiUser', [], ['firstname', 'id']);
    await viaApi(payload);
    expect(tag((await viaApi(payload)).r).reason).toBe('response-cache');
    const asUser = { ...payload, params: [USER_AUTH, payload.params[1]] };
    const userFirst = await viaApi(asUser);
    expect(tag(userFirst.r)).toEqual({ cache: 'pass', reason: 'uncached-type:ApiUser' });
    expect(userFirst.siteCalls).toBe(1);
    // Wrong credentials for a cached request shape: a different identity, so the site answers (and rejects them).
    const wrong = await viaApi({ ...payload, params: [{ ...SCRIPT_AUTH, script_key: 'not-the-key' }, payload.params[1]] });
    expect(tag(wrong.r).cache).toBe('pass');
    expect(fault(wrong.r)).toMatchObject({ exception: true, error_code: 102 });
  });

  it('normalises the request: the same params with keys in another order hit', async () => {
    const payload = readPayload(SCRIPT_AUTH, 'ApiUser', [cond('firstname', 'is_not', 'x')], ['firstname']);
    await viaApi(payload);
    const p = payload.params[1] as Record<string, unknown>;
    const reordered = { ...payload, params: [payload.params[0], Object.fromEntries(Object.entries(p).reverse())] };
    const r = await viaApi(reordered);
    expect(tag(r.r).reason).toBe('response-cache');
    expect(r.siteCalls).toBe(0);
  });
});

describe('invalidation', () => {
  it('an event on a type the read used (seen by the poller) stops serving the reply, even for a type the cache does not store', async () => {
    const payload = readPayload(SCRIPT_AUTH, 'ApiUser', [], ['firstname', 'description']);
    await viaApi(payload);
    expect((await viaApi(payload)).siteCalls).toBe(0);
    const pft = (results(await h.direct(payload)) as { entities: Array<{ id: number }> }).entities[0];
    await h.site.call('update', updateParams('ApiUser', pft.id, { description: 'changed by the test' }));
    // Not yet polled: still served (as fresh as the poller, like every cached answer).
    expect((await viaApi(payload)).siteCalls).toBe(0);
    expect(await pollOnce()).toBeGreaterThan(0);
    const after = await viaApi(payload);
    expect(tag(after.r)).toEqual({ cache: 'pass', reason: 'uncached-type:ApiUser' });
    expect(after.siteCalls).toBe(1);
    expect(after.r.body.toString('utf8')).toContain('changed by the test');
    // Kept again with the new generation.
    const again = await viaApi(payload);
    expect(tag(again.r).reason).toBe('response-cache');
    expect(again.r.body.equals(after.r.body)).toBe(true);
  });

  it('an event on an unrelated type leaves the reply served', async () => {
    const payload = readPayload(SCRIPT_AUTH, 'ApiUser', [], ['firstname']);
    await viaApi(payload);
    await h.site.call('update', updateParams('Shot', shot.id, { description: 'unrelated change' }));
    expect(await pollOnce()).toBeGreaterThan(0);
    const r = await viaApi(payload);
    expect(tag(r.r).reason).toBe('response-cache');
    expect(r.siteCalls).toBe(0);
  });

  it('a write-through of the type stops serving the reply', async () => {
    const payload = readPayload(SCRIPT_AUTH, 'Shot', [cond('id', 'is', shot.id)], ['code', 'sg_editorial_data', 'description']);
    await viaApi(payload);
    expect((await viaApi(payload)).siteCalls).toBe(0);
    const w = await h.rpc({ method_name: 'update', params: [SCRIPT_AUTH, updateParams('Shot', shot.id, { description: 'written through the API' })] });
    expect(tag(w).cache).toBe('pass');
    const after = await viaApi(payload);
    expect(tag(after.r).reason).toBe('uncached-field:Shot.sg_editorial_data');
    expect(after.siteCalls).toBe(1);
    expect(after.r.body.toString('utf8')).toContain('written through the API');
  });

  it("a linked entity's rename invalidates a reply that shows its name (link types found in the reply)", async () => {
    const payload = readPayload(SCRIPT_AUTH, 'Shot', [cond('id', 'is', shot.id)], ['code', 'sg_editorial_data', 'project']);
    const project = (results(await h.direct(payload)) as { entities: Array<{ project: { id: number } }> }).entities[0].project;
    await viaApi(payload);
    // The first reply named Project without having read its generation first: the second asks the site and keeps it.
    await viaApi(payload);
    expect((await viaApi(payload)).siteCalls).toBe(0);
    await h.rpc({ method_name: 'update', params: [SCRIPT_AUTH, updateParams('Project', project.id, { name: 'Renamed by the test' })] });
    const after = await viaApi(payload);
    expect(after.siteCalls).toBe(1);
    expect(after.r.body.toString('utf8')).toContain('Renamed by the test');
  });
});

describe('configuration', () => {
  it('RESPONSE_CACHE and RESPONSE_CACHE_TTL_S from the environment', () => {
    expect(responseCacheFromEnv({})).toEqual({ enabled: true, ttlS: 600 });
    expect(responseCacheFromEnv({ RESPONSE_CACHE: 'OFF', RESPONSE_CACHE_TTL_S: '60' })).toEqual({ enabled: false, ttlS: 60 });
    expect(() => responseCacheFromEnv({ RESPONSE_CACHE_TTL_S: 'soon' })).toThrow(ConfigError);
  });
});

describe('never kept', () => {
  it('reads with a clock operator always reach the site', async () => {
    const payload = readPayload(SCRIPT_AUTH, 'Shot', [cond('created_at', 'in_last', 30, 'DAY')], ['code']);
    for (let i = 0; i < 2; i++) {
      const r = await viaApi(payload);
      expect(tag(r.r)).toEqual({ cache: 'pass', reason: 'operator:in_last' });
      expect(r.siteCalls).toBe(1);
    }
  });

  it('a clock operator behind another pass reason (an uncached field checked first) is not kept either', async () => {
    const payload = readPayload(SCRIPT_AUTH, 'Shot', [cond('created_at', 'in_last', 3650, 'DAY')], ['code', 'sg_editorial_data']);
    for (let i = 0; i < 2; i++) {
      const r = await viaApi(payload);
      expect(tag(r.r)).toEqual({ cache: 'pass', reason: 'uncached-field:Shot.sg_editorial_data' });
      expect(r.siteCalls).toBe(1);
    }
  });

  it('reads passed for other reasons (unknown keys) always reach the site', async () => {
    const payload = readPayload(SCRIPT_AUTH, 'Shot', [], ['code'], { frobnicate: true });
    for (let i = 0; i < 2; i++) expect((await viaApi(payload)).siteCalls).toBe(1);
  });

  it('replies larger than the size limit are not kept; smaller ones are', async () => {
    const small = await startHarness('api-respcache-small', { empty: true, responseCache: { enabled: true, maxStoredBytes: 512 } });
    try {
      const count = async (payload: unknown) => {
        small.sim.control.resetStats();
        const r = await small.rpc(payload);
        return { reason: tag(r).reason, siteCalls: siteReads(small.sim), bytes: r.body.length };
      };
      const big = readPayload(SCRIPT_AUTH, 'Shot', [], ['code', 'description', 'sg_status_list']);
      const first = await count(big);
      expect(first).toMatchObject({ reason: 'type-not-ready:Shot', siteCalls: 1 });
      expect(first.bytes).toBeGreaterThan(512 * 4);
      expect(await count(big)).toMatchObject({ reason: 'type-not-ready:Shot', siteCalls: 1 });
      const one = readPayload(SCRIPT_AUTH, 'Shot', [cond('id', 'is', shot.id)], ['code']);
      await count(one);
      // The first kept reply served costs the cache's own verification of the credential (a pass teaches no verdict); then nothing.
      expect(await count(one)).toMatchObject({ reason: 'response-cache', siteCalls: 1 });
      expect(await count(one)).toMatchObject({ reason: 'response-cache', siteCalls: 0 });
    } finally {
      await small.close();
    }
  });

  it('RESPONSE_CACHE off: repeated unplannable reads reach the site every time', async () => {
    const off = await startHarness('api-respcache-off', { empty: true, responseCache: { enabled: false } });
    try {
      const payload = readPayload(SCRIPT_AUTH, 'ApiUser', [], ['firstname']);
      for (let i = 0; i < 2; i++) {
        off.sim.control.resetStats();
        expect(tag(await off.rpc(payload)).cache).toBe('pass');
        expect(siteReads(off.sim)).toBe(1);
      }
    } finally {
      await off.close();
    }
  });
});
