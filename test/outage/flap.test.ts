// A flapping site (up and down every few hundred ms) while writes land: no request breaks (200 or the site's 503), nothing is lost; then convergence with an empty DLQ.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '../sync/helpers.js';
import { changeSite, compareWithSite, expectConverged, probeReads, startOutageRig, type OutageRig } from './rig.js';

let o: OutageRig;
beforeAll(async () => {
  o = await startOutageRig('flap');
}, 120_000);
afterAll(() => o?.close());

describe('a flapping site', () => {
  it('never breaks a request and loses no change', async () => {
    await waitUntil('every read to be a hit', async () => (await compareWithSite(o)).hits === probeReads().length);
    o.rig.site.chaos.apply({ flap: { upMs: 400, downMs: 300 } });
    const statuses = new Set<number>();
    let writes = 0;
    const reading = (async () => {
      for (let i = 0; i < 40; i++) for (const p of probeReads()) statuses.add((await o.rpc(p)).status);
    })();
    // Writes straight to the site, each repeated until it lands (a maintenance 503 means it was not applied).
    for (let i = 0; i < 12; i++) {
      for (;;) {
        try {
          await changeSite(o, 1, 60 + i);
          writes++;
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
    await reading;
    expect(writes).toBe(12);
    expect([...statuses].filter((s) => s !== 200 && s !== 503)).toEqual([]);
    expect(o.rig.site.chaos.describe().refused).toBeGreaterThan(0);
    o.rig.site.chaos.clear();
    await expectConverged(o);
  }, 180_000);
});
