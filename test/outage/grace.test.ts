// Outage grace at its real default (OUTAGE_GRACE_S unset: 4 h) on a virtual clock: a hit is served marked stale up to exactly 4 h after the last successful poll, and one millisecond later the site's own 503 is relayed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_OUTAGE_GRACE_S } from '../../functions/api/outage.js';
import { waitUntil } from '../sync/helpers.js';
import { probeReads, startOutageRig, type OutageRig } from './rig.js';
import { VirtualClock } from '../support/virtual-clock.js';

let o: OutageRig;
const clock = new VirtualClock();
beforeAll(async () => {
  o = await startOutageRig('grace', { OUTAGE_GRACE_S: '' }, 60, undefined, clock);
}, 120_000);
afterAll(() => o?.close());

describe('outage grace at its default (4 h)', () => {
  it('serves hits marked stale up to the bound after the last poll, then relays the site 503', async () => {
    expect(DEFAULT_OUTAGE_GRACE_S).toBe(4 * 3600);
    const [read] = probeReads();
    await waitUntil('a hit before the outage', async () => (await o.rpc(read)).headers['x-fpt-cache'] === 'hit');
    o.rig.site.chaos.apply({ down: 'maintenance' });
    await waitUntil('the hit served marked stale', async () => (await o.rpc(read)).headers['x-fpt-cache-stale'] === 'site-unavailable');
    // Polls fail from now on: the last successful one stays where it is.
    clock.freeze();
    const { cursorAt } = await o.rig.ctx.lease.read();
    expect(cursorAt).not.toBeNull();
    const graceMs = DEFAULT_OUTAGE_GRACE_S * 1000;

    clock.set(cursorAt! + 3600_000);
    const hour = await o.rpc(read);
    expect(hour.status).toBe(200);
    expect(hour.headers['x-fpt-cache-stale']).toBe('site-unavailable');
    expect(hour.headers['x-fpt-cache-stale-seconds']).toBe('3600');

    clock.set(cursorAt! + graceMs);
    const atBound = await o.rpc(read);
    expect(atBound.status).toBe(200);
    expect(atBound.headers['x-fpt-cache']).toBe('hit');
    expect(atBound.headers['x-fpt-cache-stale']).toBe('site-unavailable');
    expect(atBound.headers['x-fpt-cache-stale-seconds']).toBe(String(DEFAULT_OUTAGE_GRACE_S));

    clock.advance(1);
    const past = await o.rpc(read);
    expect(past.status).toBe(503);
    expect(past.headers['x-fpt-cache-stale']).toBeUndefined();
    expect(past.body.toString('utf8')).toContain('maintenance');

    // The site back: polling resumes on the same clock and hits are served fresh again.
    clock.resume();
    o.rig.site.chaos.clear();
    await waitUntil('a fresh hit after recovery', async () => {
      const r = await o.rpc(read);
      return r.headers['x-fpt-cache'] === 'hit' && r.headers['x-fpt-cache-stale'] === undefined;
    });
  }, 180_000);
});
