// The cache stopped (cleanly or killed at a random point) while the site changes, then started again: every answer identical to the site's from the first reply on, and the store converged (a longer run: restart.soak.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../sync/helpers.js';
import { changeSite, compareWithSite, expectConverged, killCache, probeReads, startOutageRig, type OutageRig } from './rig.js';

let o: OutageRig;
beforeAll(async () => {
  o = await startOutageRig('restart', {}, 60, 8);
}, 120_000);
afterAll(() => o?.close());

describe('the cache stopped while the site changes, then restarted', () => {
  it('answers exactly as the site does from its first reply, after clean stops and kills at random points', async () => {
    await waitUntil('every read to be a hit', async () => (await compareWithSite(o)).hits === probeReads().length);
    let x = 7;
    const random = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let round = 0; round < 4; round++) {
      // Changes land while the cache runs, and it is stopped somewhere in the middle of applying them.
      const during = changeSite(o, 8, 100 + round);
      await new Promise((r) => setTimeout(r, Math.floor(random() * 400)));
      if (round % 2 === 0) await killCache(o);
      else await o.cache.stop();
      await during;
      await changeSite(o, 12, 200 + round);
      await o.start();
      // From the very first reply on, each answer is the site's (served, or passed until the store is proven fresh).
      for (let check = 0; check < 3; check++) {
        const { differing } = await compareWithSite(o);
        expect(differing, `round ${round} (${round % 2 === 0 ? 'killed' : 'stopped'}), check ${check}`).toEqual([]);
      }
      expect(o.cache.metrics.passReasons['store-stale']).toBeGreaterThan(0);
    }
    await expectConverged(o);
  }, 240_000);
});
