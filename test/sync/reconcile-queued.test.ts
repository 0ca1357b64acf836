// The reconciler's first pass after a restart, on a virtual clock: changes whose events are queued and not yet applied (older than IN_FLIGHT_MS), or logged and not yet polled, are not counted as writes the event log did not carry; a real quiet write still is.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_EVENTS_SCRIPT } from '../../local/sim/credentials.js';
import { ShotgunClient, updateParams } from '../../shared/site/index.js';
import { PendingEvents } from '../../shared/store/index.js';
import { IN_FLIGHT_MS, pendingKeyOf, runPoller, type EventRow } from '../../shared/sync/index.js';
import { importAll, NO_POLLER_METRICS, readParams, reconcilerFor, schema, startRig, type Rig } from './helpers.js';

let rig: Rig;
let t = Date.parse('2025-06-10T10:00:00Z');
const now = () => t;
beforeAll(async () => {
  rig = await startRig('reconcile-queued', { entities: 60, seed: 5, now: () => new Date(t) });
  expect((await importAll(rig)).complete).toBe(true);
});
afterAll(() => rig?.close());

describe('the reconciler after a restart', () => {
  it('does not count queued or unpolled changes as writes the event log did not carry', async () => {
    const pending = new PendingEvents(rig.ctx.ddb, rig.ctx.tables.state);
    const logged: Array<{ message: string; details?: Record<string, unknown> }> = [];
    const reconciler = reconcilerFor(rig, { pending, log: (message, details) => logged.push({ message, details }) });
    // The pass before the stop records where the scans start.
    await reconciler.run({ now, types: ['Shot'], sweep: 'never' });
    const shots = (await rig.sg.call<{ entities: Array<{ id: number }> }>('read', readParams('Shot', [], ['code']))).entities;

    // Changes with events on, polled: marked pending and queued, never applied (the stack stopped before its consumer got to them).
    t += 1_000;
    for (const s of shots.slice(0, 3)) await rig.sg.call('update', updateParams('Shot', s.id, { description: `queued ${s.id}` }));
    const queued: EventRow[] = [];
    let polls = 0;
    const run = await runPoller({
      lease: rig.ctx.lease,
      source: rig.ctx.events,
      sink: { send: async (evs) => void queued.push(...evs) },
      markPending: (evs) => pending.mark(evs.map((ev) => ({ key: pendingKeyOf(schema.site, ev), id: ev.id }))),
      schema: schema.site,
      metrics: NO_POLLER_METRICS,
      pollIntervalMs: 1,
      clock: { now, sleep: async () => {} },
      deadline: t + 60_000,
      shouldStop: () => polls > 0,
      onPoll: () => void polls++,
    });
    expect(run.status).toBe('done');
    expect(queued.filter((ev) => ev.event_type.startsWith('Shotgun_Shot_')).length).toBeGreaterThan(0);
    expect((await pending.list(['Shot'])).length).toBeGreaterThan(0);
    // More changes logged after the last poll (not polled yet), and one real quiet write (a script with events off).
    t += 1_000;
    for (const s of shots.slice(3, 5)) await rig.sg.call('update', updateParams('Shot', s.id, { description: `unpolled ${s.id}` }));
    const quietClient = new ShotgunClient({ url: rig.site.url, scriptName: NO_EVENTS_SCRIPT.name, scriptKey: NO_EVENTS_SCRIPT.key, health: false });
    await quietClient.call('update', updateParams('Shot', shots[5].id, { description: 'written without events' }));

    // The stack back a minute later: every change is older than IN_FLIGHT_MS.
    t += 60_000;
    expect(60_000).toBeGreaterThan(IN_FLIGHT_MS);
    logged.length = 0;
    const out = await reconciler.run({ now, types: ['Shot'], sweep: 'never' });
    expect(out.types.Shot.quiet).toBe(1);
    const found = logged.filter((l) => l.message.startsWith('writes the event log did not carry'));
    expect(found.map((l) => l.details?.count)).toEqual([1]);
    expect((await reconciler.pace.get('Shot')).quietWrites).toBe(1);
  });
});
