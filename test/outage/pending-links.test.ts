// The freshness gate and links in filters: a read filtered on a link to an entity whose event waits to be applied (a retirement, a revival) is not provably fresh, even when its answer holds no link (found by local/outage-drill.py after a restart).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteParams, readParams, rpcPayload } from '../../shared/site/index.js';
import { waitUntil } from '../sync/helpers.js';
import { SCRIPT, startOutageRig, type OutageRig } from './rig.js';

let o: OutageRig;
beforeAll(async () => {
  o = await startOutageRig('pending-links');
}, 120_000);
afterAll(() => o?.close());

describe('a filter on a link whose target has an event waiting', () => {
  it("is answered as the site answers it (passed while the target's event waits), never from the store as it was", async () => {
    const tasks = (
      await o.site.call<{ entities: Array<{ id: number; entity: { type: string; id: number } | null }> }>('read', readParams('Task', [], ['entity']))
    ).entities;
    const shot = tasks.find((t) => t.entity?.type === 'Shot')!.entity!;
    const read = rpcPayload(
      'read',
      SCRIPT,
      readParams('Task', [{ path: 'entity', relation: 'is', values: [{ type: 'Shot', id: shot.id }] }], ['content'], {
        sorts: [{ field_name: 'id', direction: 'asc' }],
      }),
    );
    await waitUntil('the read to be a hit', async () => (await o.rpc(read)).headers['x-fpt-cache'] === 'hit');

    // The consumer stopped: the Shot's retirement is polled and queued (its pending marker written), not applied.
    await o.cache.events.stop();
    await o.site.call('delete', deleteParams('Shot', shot.id));
    const latest = await o.site.call<{ entities: Array<{ id: number }> }>(
      'read',
      readParams('EventLogEntry', [], ['id'], { sorts: [{ field_name: 'id', direction: 'desc' }], paging: { entities_per_page: 1, current_page: 1 } }),
    );
    await waitUntil('the poller to queue the retirement', async () => ((await o.rig.ctx.lease.read()).cursor?.maxSeen ?? 0) >= latest.entities[0].id);
    // Past the gate's lease and marker cache, and a poll since (the cursor fresh, the log read to its end).
    await new Promise((r) => setTimeout(r, 500));

    const viaCache = await o.rpc(read);
    const direct = await o.direct(read);
    expect(viaCache.status).toBe(200);
    if (viaCache.headers['x-fpt-cache'] === 'hit') expect(JSON.stringify(viaCache.json())).toBe(JSON.stringify(direct.json()));
    expect(viaCache.headers['x-fpt-cache']).toBe('pass');
    expect(viaCache.headers['x-fpt-cache-reason']).toBe('store-stale:pending:Shot');
  }, 120_000);
});
