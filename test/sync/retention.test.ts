// A cursor older than the site's event retention: metric, a requested full import the importer honours, and the cursor restarting at the latest event.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventRow, importPending, runPoller, type PollerMetrics } from '../../shared/sync/index.js';
import { updateParams } from '../../shared/site/index.js';
import { importAll, NO_POLLER_METRICS, readParams, schema, startRig, type Rig } from './helpers.js';

let rig: Rig;
beforeAll(async () => {
  rig = await startRig('retention', { entities: 60, seed: 41 });
});
afterAll(() => rig?.close());

describe('event retention', () => {
  it('schedules a full re-import when the cursor points at an event the site no longer has', async () => {
    expect((await importAll(rig)).complete).toBe(true);
    const [shot] = (await rig.sg.call<{ entities: Array<{ id: number }> }>('read', readParams('Shot', [], ['code']))).entities;
    await rig.sg.call('update', updateParams('Shot', shot.id, { description: 'after the gap' }));
    const latest = await rig.ctx.events.latestId();
    // The saved cursor names an id below everything the site still logs.
    const holder = (await rig.ctx.lease.acquire('test', Date.now()))!;
    await rig.ctx.lease.save(holder, Date.now(), { maxSeen: 1000, backlog: {} });
    await rig.ctx.lease.release(holder);

    let beyond = 0;
    const sent: EventRow[] = [];
    const metrics: PollerMetrics = {
      ...NO_POLLER_METRICS,
      cursorBeyondRetention() {
        beyond++;
      },
    };
    const run = await runPoller({
      lease: rig.ctx.lease,
      source: rig.ctx.events,
      sink: {
        send: async (evs) => {
          sent.push(...evs);
        },
      },
      schema: schema.site,
      metrics,
      pollIntervalMs: 10,
      deadline: Date.now() + 50,
      onRetentionExceeded: () => rig.ctx.importState.requestFull('test: retention'),
    });
    expect(run.status).toBe('done');
    expect(beyond).toBe(1);
    expect((await rig.ctx.lease.read()).cursor?.maxSeen).toBe(latest);
    expect(sent).toEqual([]);
    expect(await importPending({ schema, readiness: rig.ctx.readiness, state: rig.ctx.importState })).toBe(true);

    // The importer takes every type out of service, re-imports it, and clears the request.
    expect((await importAll(rig, { maxPages: 1 })).complete).toBe(false);
    expect((await rig.ctx.readiness.load()).readyTypes).toEqual([]);
    const out = await importAll(rig);
    expect(out.complete).toBe(true);
    expect(await rig.ctx.importState.request()).toBeUndefined();
    expect((await rig.ctx.readiness.load()).readyTypes.sort()).toEqual([...schema.site.typeNames].sort());
    expect((await rig.ctx.store.get('Shot', shot.id))?.record.values.description).toBe('after the gap');
    expect(await importPending({ schema, readiness: rig.ctx.readiness, state: rig.ctx.importState })).toBe(false);
  });
});
