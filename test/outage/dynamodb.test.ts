// DynamoDB throttling the API: every read passes through to the site (the same answer, never a failure); writes still go through; once it recovers, hits again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rpcPayload, updateParams } from '../../shared/site/index.js';
import { waitUntil } from '../sync/helpers.js';
import { compareWithSite, expectConverged, probeReads, SCRIPT, startOutageRig, throttle, type OutageRig } from './rig.js';

let o: OutageRig;
beforeAll(async () => {
  o = await startOutageRig('dynamodb');
}, 120_000);
afterAll(async () => {
  throttle.on = false;
  await o?.close();
});

describe('DynamoDB throttling the read path', () => {
  it("passes reads through with the site's answer and recovers", async () => {
    await waitUntil('every read to be a hit', async () => (await compareWithSite(o)).hits === probeReads().length);
    throttle.on = true;
    try {
      for (const p of probeReads()) {
        const [viaCache, direct] = [await o.rpc(p), await o.direct(p)];
        expect(viaCache.status).toBe(200);
        expect(viaCache.headers['x-fpt-cache']).toBe('pass');
        expect(viaCache.headers['x-fpt-cache-reason']).toBe('cache-error');
        expect(JSON.stringify(viaCache.json())).toBe(JSON.stringify(direct.json()));
      }
      const shot = (await o.site.call<{ entities: Array<{ id: number }> }>('read', { ...((probeReads()[0] as { params: unknown[] }).params[1] as object) }))
        .entities[0];
      const written = await o.rpc(rpcPayload('update', SCRIPT, updateParams('Shot', shot.id, { description: 'written while throttled' })));
      expect(written.status).toBe(200);
      expect(written.json()).toMatchObject({ results: { id: shot.id } });
    } finally {
      throttle.on = false;
    }
    await expectConverged(o);
  }, 120_000);
});
