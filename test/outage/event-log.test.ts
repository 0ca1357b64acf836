// Only the site's event log failing while writes land: reads the cache cannot prove fresh pass (the site answers them), nothing stale is served past the bound; then convergence.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../sync/helpers.js';
import { changeSite, compareWithSite, expectConverged, probeReads, startOutageRig, type OutageRig } from './rig.js';

let o: OutageRig;
beforeAll(async () => {
  o = await startOutageRig('event-log');
}, 120_000);
afterAll(() => o?.close());

describe('only the event log failing', () => {
  it('passes what it cannot prove fresh, never breaks, and converges once the log reads again', async () => {
    await waitUntil('every read to be a hit', async () => (await compareWithSite(o)).hits === probeReads().length);
    o.rig.site.chaos.apply({ eventLog: 'fault' });
    await changeSite(o, 12, 31);
    // Once the last poll is older than STORE_MAX_LAG_MS, reads pass; every answer is the site's.
    await waitUntil(
      'reads to pass as not provably fresh',
      async () => (await o.rpc(probeReads()[0])).headers['x-fpt-cache-reason'] === 'store-stale:last-poll',
    );
    for (let i = 0; i < 3; i++) {
      const { hits, differing } = await compareWithSite(o);
      expect(differing).toEqual([]);
      expect(hits).toBe(0);
    }
    expect(o.rig.site.chaos.describe().eventLogFailed).toBeGreaterThan(0);
    expect(o.cache.sync.total('PollFailures')).toBeGreaterThan(0);
    o.rig.site.chaos.clear();
    await expectConverged(o);
  }, 180_000);
});
