// The site down for maintenance (its 503 page on every call): verified hits served marked stale, `info` from memory, new credentials and writes get the site's 503, nothing else reaches the site; then convergence.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readParams, rpcPayload, updateParams, type AuthParams } from '../../shared/site/index.js';
import { DEFAULT_USER_PASSWORD, SEEDED_LOGINS } from '../../local/sim/credentials.js';
import { Logger } from '@aws-lambda-powertools/logger';
import { apiDepsFromEnv, createApiHandler } from '../../functions/api/app.js';
import { startLocalApiGateway } from '../../local/api-gateway.js';
import { API_FUNCTION } from '../../local/functions.js';
import { postRpc } from '../stack/http.js';
import { waitUntil } from '../sync/helpers.js';
import { compareWithSite, expectConverged, probeReads, startOutageRig, SCRIPT, type OutageRig } from './rig.js';

let o: OutageRig;
beforeAll(async () => {
  o = await startOutageRig('site-down');
}, 120_000);
afterAll(() => o?.close());

const quiet = new Logger({ serviceName: 'outage-test', logLevel: 'CRITICAL' });
const user = (login: string): AuthParams => ({ user_login: login, user_password: DEFAULT_USER_PASSWORD }) as AuthParams;
const page = { entities_per_page: 500, current_page: 1 };
const order = [{ field_name: 'id', direction: 'asc' }];
/** An artist's read (credentials verified, view probed before the outage). */
const artistRead = rpcPayload('read', user(SEEDED_LOGINS.artist), readParams('Shot', [], ['code', 'sg_sequence'], { paging: page, sorts: order }));
/** The same read by a caller the cache has never seen. */
const strangerRead = rpcPayload('read', user(SEEDED_LOGINS.admin), readParams('Shot', [], ['code', 'sg_sequence'], { paging: page, sorts: order }));
/** A read the cache cannot plan (an uncached type). */
const uncachedRead = rpcPayload('read', SCRIPT, readParams('ApiUser', [], ['firstname'], { paging: page }));

describe('the site down for maintenance', () => {
  it("serves what was verified, marked stale; everything else gets the site's 503 fast; then converges", async () => {
    const reads = [...probeReads(), artistRead];
    await waitUntil('every read to be a hit before the outage', async () => {
      let hits = 0;
      for (const p of reads) if ((await o.rpc(p)).headers['x-fpt-cache'] === 'hit') hits++;
      return hits === reads.length;
    });
    const before = await Promise.all(reads.map(async (p) => JSON.stringify((await o.direct(p)).json())));
    expect((await o.rpc(rpcPayload('info', undefined))).status).toBe(200);

    o.rig.site.chaos.apply({ down: 'maintenance' });
    const siteBefore = Number(o.rig.site.control.stats().requests);
    let apiCalls = 0;
    const statuses = new Set<number>();
    // Rounds of every read until the cache knows the site is down (the poller's failures or its own), then more.
    let staleRounds = 0;
    for (let round = 0; staleRounds < 4; round++) {
      expect(round).toBeLessThan(400);
      for (const [i, p] of reads.entries()) {
        const r = await o.rpc(p);
        apiCalls++;
        statuses.add(r.status);
        if (r.status !== 200) continue;
        expect(r.headers['x-fpt-cache']).toBe('hit');
        expect(JSON.stringify(r.json())).toBe(before[i]);
      }
      const r = await o.rpc(reads[0]);
      apiCalls++;
      if (r.headers['x-fpt-cache-stale'] === 'site-unavailable') {
        staleRounds++;
        expect(Number(r.headers['x-fpt-cache-stale-seconds'])).toBeGreaterThanOrEqual(0);
      }
      await new Promise((res) => setTimeout(res, 50));
    }
    // Once known down, every verified read is served and marked.
    for (const [i, p] of reads.entries()) {
      const r = await o.rpc(p);
      apiCalls++;
      expect(r.status).toBe(200);
      expect(r.headers['x-fpt-cache']).toBe('hit');
      expect(r.headers['x-fpt-cache-stale']).toBe('site-unavailable');
      expect(JSON.stringify(r.json())).toBe(before[i]);
    }
    // A client connecting now: `info` from memory, marked.
    const info = await o.rpc(rpcPayload('info', undefined));
    expect(info.status).toBe(200);
    expect((info.json() as { results: { version: number[] } }).results.version.length).toBeGreaterThan(0);
    expect(info.headers['x-fpt-cache-stale']).toBe('site-unavailable');
    // A container started during the outage (a cold start: nothing in its memory) answers `info` with the reply kept in
    // the state table, byte for byte what the running container gives.
    const cold = await startLocalApiGateway({ port: 0, fn: API_FUNCTION.fn, handler: createApiHandler(apiDepsFromEnv(o.env, quiet)) });
    try {
      const coldInfo = await postRpc(`${cold.url}/api3/json`, rpcPayload('info', undefined));
      expect(coldInfo.status).toBe(200);
      expect(coldInfo.headers['x-fpt-cache-stale']).toBe('site-unavailable');
      expect(coldInfo.body.equals(info.body)).toBe(true);
    } finally {
      await cold.close();
    }
    // New credentials cannot be verified, a read the cache cannot plan, a write: the site's own 503.
    for (const p of [strangerRead, uncachedRead, rpcPayload('update', SCRIPT, updateParams('Shot', 1, { description: 'during the outage' }))]) {
      const r = await o.rpc(p);
      apiCalls++;
      expect(r.status).toBe(503);
      expect(r.body.toString('utf8')).toContain('maintenance');
    }
    expect([...statuses].filter((s) => s !== 200 && s !== 503)).toEqual([]);
    // The cache did not pile calls on the site: a probe at a time, far fewer than the calls it answered.
    const siteCalls = Number(o.rig.site.control.stats().requests) - siteBefore;
    expect(siteCalls).toBeLessThan(apiCalls / 2);
    expect(o.cache.metrics.counts.OutageHits).toBeGreaterThan(0);

    // Back up: writes land, the cache converges (nothing in the DLQ), every read a hit identical to the site.
    o.rig.site.chaos.clear();
    const shots = (await o.site.call<{ entities: Array<{ id: number }> }>('read', readParams('Shot', [], ['code']))).entities;
    for (const [i, s] of shots.slice(0, 10).entries()) await o.site.call('update', updateParams('Shot', s.id, { description: `after the outage ${i}` }));
    await expectConverged(o);
    const after = await compareWithSite(o, [artistRead]);
    expect(after.differing).toEqual([]);
  }, 180_000);
});
