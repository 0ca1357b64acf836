// The cache stopped while the site changes and trims its event log past the cache's cursor: detected, rebuilt, and nothing unproven served meanwhile.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readParams } from '../../shared/site/index.js';
import { waitUntil } from '../sync/helpers.js';
import { changeSite, compareWithSite, expectConverged, probeReads, startOutageRig, type OutageRig } from './rig.js';

let o: OutageRig;
beforeAll(async () => {
  o = await startOutageRig('trim');
}, 120_000);
afterAll(() => o?.close());

describe("a cursor older than the site's event-log retention", () => {
  it('is detected; types pass until rebuilt; the cache converges', async () => {
    await waitUntil('every read to be a hit', async () => (await compareWithSite(o)).hits === probeReads().length);
    // The cursor has seen an event (a site's log is never empty; the seeded one is until the first write).
    await changeSite(o, 1, 50);
    await waitUntil('the cursor to see it', async () => ((await o.rig.ctx.lease.read()).cursor?.maxSeen ?? 0) > 0);
    await o.cache.stop();
    await changeSite(o, 16, 51);
    // Retention: the oldest readable event is now newer than anything the cache's cursor has seen.
    const last = (
      await o.site.call<{ entities: Array<{ id: number }> }>(
        'read',
        readParams('EventLogEntry', [], ['id'], { sorts: [{ field_name: 'id', direction: 'desc' }], paging: { entities_per_page: 1, current_page: 1 } }),
      )
    ).entities[0].id;
    const cursor = (await o.rig.ctx.lease.read()).cursor!;
    expect(cursor.maxSeen).toBeLessThan(last);
    o.rig.site.chaos.apply({ trimBelow: last });
    expect(await o.rig.ctx.events.exists(cursor.maxSeen)).toBe(false);
    await o.start();
    // Until the rebuild is done, every answer is the site's (passed), never the store's pre-gap state.
    await waitUntil('the gap to be detected', () => o.cache.sync.total('CursorBeyondRetention') > 0);
    for (let i = 0; i < 3; i++) expect((await compareWithSite(o)).differing).toEqual([]);
    await expectConverged(o);
  }, 180_000);
});
