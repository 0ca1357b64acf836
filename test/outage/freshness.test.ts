// The store-freshness bounds at their real defaults (STORE_MAX_LAG_MS and EVENT_LOG_MAX_LAG_MS: 15 s) on a virtual clock: with the event log failing (the site otherwise up), reads are hits up to exactly 15 s after the last successful poll and pass through 1 ms later.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_EVENT_LOG_MAX_LAG_MS, DEFAULT_STORE_MAX_LAG_MS } from '../../shared/reads/index.js';
import { readParams, rpcPayload } from '../../shared/site/index.js';
import { DEFAULT_KEPT_TYPES } from '../../shared/sync/index.js';
import { waitUntil } from '../sync/helpers.js';
import { probeReads, SCRIPT, startOutageRig, type OutageRig } from './rig.js';
import { VirtualClock } from '../support/virtual-clock.js';

let o: OutageRig;
const clock = new VirtualClock();
beforeAll(async () => {
  o = await startOutageRig('freshness', { STORE_MAX_LAG_MS: '', EVENT_LOG_READS: '', EVENT_LOG_MAX_LAG_MS: '' }, 60, undefined, clock);
}, 120_000);
afterAll(() => o?.close());

/** tk-core's incremental sync: the project's folder events after the last one it saw. */
const folderEvents = (project: number, afterId: number) =>
  rpcPayload(
    'read',
    SCRIPT,
    readParams(
      'EventLogEntry',
      [
        { path: 'event_type', relation: 'in', values: [...DEFAULT_KEPT_TYPES] },
        { path: 'id', relation: 'greater_than', values: [afterId] },
        { path: 'project', relation: 'is', values: [{ type: 'Project', id: project }] },
      ],
      ['id', 'meta', 'event_type'],
      { sorts: [{ field_name: 'id', direction: 'asc' }] },
    ),
  );

describe('the store-freshness bounds at their defaults (15 s)', () => {
  it('serve hits up to the bound after the last successful poll and pass reads through after it', async () => {
    expect(DEFAULT_STORE_MAX_LAG_MS).toBe(15_000);
    expect(DEFAULT_EVENT_LOG_MAX_LAG_MS).toBe(15_000);
    const [read] = probeReads();
    const [project] = (await o.site.call<{ entities: Array<{ id: number }> }>('read', readParams('Project', [], ['id']))).entities;
    const events = () => folderEvents(project.id, 0);
    await waitUntil('hits before the event log fails', async () => {
      const [a, b] = [await o.rpc(read), await o.rpc(events())];
      return a.headers['x-fpt-cache'] === 'hit' && b.headers['x-fpt-cache'] === 'hit';
    });
    o.rig.site.chaos.apply({ eventLog: 'fault' });
    const failures = o.cache.sync.total('PollFailures');
    await waitUntil('a failed poll', () => o.cache.sync.total('PollFailures') > failures);
    clock.freeze();
    const { cursorAt } = await o.rig.ctx.lease.read();
    expect(cursorAt).not.toBeNull();

    clock.set(cursorAt! + DEFAULT_STORE_MAX_LAG_MS);
    const atBound = await o.rpc(read);
    expect(atBound.headers['x-fpt-cache']).toBe('hit');
    expect((await o.rpc(events())).headers['x-fpt-cache']).toBe('hit');

    clock.advance(1);
    const past = await o.rpc(read);
    expect(past.status).toBe(200);
    expect(past.headers['x-fpt-cache']).toBe('pass');
    expect(past.headers['x-fpt-cache-reason']).toBe('store-stale:last-poll');
    expect(past.headers['x-fpt-cache-stale']).toBeUndefined();
    expect(JSON.stringify(past.json())).toBe(JSON.stringify((await o.direct(read)).json()));
    const pastEvents = await o.rpc(events());
    expect(pastEvents.headers['x-fpt-cache']).toBe('pass');
    expect(pastEvents.headers['x-fpt-cache-reason']).toBe('event-log-stale');

    // The event log back: polling resumes on the same clock and reads are hits again.
    clock.resume();
    o.rig.site.chaos.clear();
    await waitUntil('hits again after the event log recovered', async () => (await o.rpc(read)).headers['x-fpt-cache'] === 'hit');
  }, 180_000);
});
