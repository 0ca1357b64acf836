// Soak (npm run soak): restart.test.ts's kills and clean stops for ten rounds, the store checked converged after every third (docs/operations.md).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../sync/helpers.js';
import { changeSite, compareWithSite, expectConverged, killCache, probeReads, startOutageRig, type OutageRig } from './rig.js';

let o: OutageRig;
beforeAll(async () => {
  o = await startOutageRig('restart-soak', {}, 60, 8);
}, 120_000);
afterAll(() => o?.close());

describe('the cache stopped and killed again and again while the site changes', () => {
  it('answers exactly as the site does from its first reply after every restart, and converges', async () => {
    await waitUntil('every read to be a hit', async () => (await compareWithSite(o)).hits === probeReads().length);
    let x = Number(process.env.SOAK_SEED ?? 7);
    const random = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let round = 0; round < 10; round++) {
      const killed = round % 3 !== 2;
      const during = changeSite(o, 8, 100 + round * 7);
      await new Promise((r) => setTimeout(r, Math.floor(random() * 600)));
      if (killed) await killCache(o);
      else await o.cache.stop();
      await during;
      await changeSite(o, 12, 200 + round * 13);
      await o.start();
      for (let check = 0; check < 2; check++) {
        const { differing } = await compareWithSite(o);
        expect(differing, `round ${round} (${killed ? 'killed' : 'stopped'}), check ${check}`).toEqual([]);
      }
      if (!killed) await expectConverged(o);
    }
    await expectConverged(o);
  }, 600_000);
});
