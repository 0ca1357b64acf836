// The site hangs (accepts, never answers): every request through the cache is answered (a verified hit marked stale, or Shotgun's fault), none waits it out; then convergence.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readParams, rpcPayload } from '../../shared/site/index.js';
import { waitUntil } from '../sync/helpers.js';
import { changeSite, compareWithSite, expectConverged, probeReads, startOutageRig, SCRIPT, type OutageRig } from './rig.js';

let o: OutageRig;
beforeAll(async () => {
  o = await startOutageRig('hang');
}, 120_000);
afterAll(() => o?.close());

const uncachedRead = rpcPayload('read', SCRIPT, readParams('ApiUser', [], ['firstname']));

describe('a hung site', () => {
  it('answers every request, hits marked stale and the rest with the unreachable-site fault', async () => {
    await waitUntil('every read to be a hit', async () => (await compareWithSite(o)).hits === probeReads().length);
    const before = await Promise.all(probeReads().map(async (p) => JSON.stringify((await o.direct(p)).json())));
    o.rig.site.chaos.apply({ down: 'hang' });
    // A read the cache cannot answer: Shotgun's fault shape (1003), never HTTP 500, never a wait past the call budget.
    const passed = await o.rpc(uncachedRead);
    expect(passed.status).toBe(200);
    expect(passed.json()).toMatchObject({ exception: true, error_code: 1003 });
    await waitUntil('hits to be marked stale', async () => (await o.rpc(probeReads()[0])).headers['x-fpt-cache-stale'] === 'site-unavailable');
    for (const [i, p] of probeReads().entries()) {
      const r = await o.rpc(p);
      expect(r.status).toBe(200);
      expect(r.headers['x-fpt-cache-stale']).toBe('site-unavailable');
      expect(JSON.stringify(r.json())).toBe(before[i]);
    }
    const failedFast = await o.rpc(uncachedRead);
    expect(failedFast.json()).toMatchObject({ exception: true, error_code: 1003 });
    o.rig.site.chaos.clear();
    await changeSite(o, 8, 41);
    await expectConverged(o);
  }, 180_000);
});
