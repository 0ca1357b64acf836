// The poller's lease at its real defaults (POLLER_STALE_MS 10 s, POLLER_LEASE_MS 30 s) on a virtual clock: a crashed owner's lease, heartbeat frozen, is taken over by the real poller function at exactly the stale bound (1 ms past it) and not before, long before the lease itself would expire.
import type { Context } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPollerHandler } from '../../functions/poller/app.js';
import { DEFAULT_POLLER_LEASE_MS, DEFAULT_POLLER_STALE_MS, MemorySyncMetrics } from '../../shared/sync/index.js';
import { waitUntil } from '../sync/helpers.js';
import { startOutageRig, type OutageRig } from './rig.js';
import { VirtualClock } from '../support/virtual-clock.js';

let o: OutageRig;
const clock = new VirtualClock();
beforeAll(async () => {
  o = await startOutageRig('lease', { POLLER_STALE_MS: '', POLLER_LEASE_MS: '' }, 40, undefined, clock);
}, 120_000);
afterAll(() => o?.close());

describe("a dead poller's lease at the default bounds", () => {
  it('is taken over once its heartbeat is older than POLLER_STALE_MS, not a millisecond before', async () => {
    expect(DEFAULT_POLLER_STALE_MS).toBe(10_000);
    expect(DEFAULT_POLLER_LEASE_MS).toBe(30_000);
    // The cache crashes: its poller's lease is left held by a dead owner with a heartbeat at T.
    await o.cache.kill();
    await waitUntil('the lease as a dead owner left it', async () => (await o.rig.ctx.lease.acquire('dead-owner', clock.now())) !== null);
    clock.freeze();
    const dead = await o.rig.ctx.lease.read();
    expect(dead.owner).toBe('dead-owner');
    const beat = dead.beatAt!;
    expect(dead.leaseUntil).toBe(beat + DEFAULT_POLLER_LEASE_MS);

    // A new poller function on the same clock, invoked as the schedule would.
    const poller = await createPollerHandler(o.env, { metrics: new MemorySyncMetrics(), logger: new Logger({ logLevel: 'CRITICAL' }), clock });
    let remainingMs = 60_000;
    const context = { functionName: 'poller', getRemainingTimeInMillis: () => remainingMs } as unknown as Context;

    clock.set(beat + DEFAULT_POLLER_STALE_MS);
    expect((await poller({}, context)).status).toBe('lease-held');
    expect((await o.rig.ctx.lease.read()).owner).toBe('dead-owner');

    clock.advance(1);
    const running = poller({}, context);
    // Well before the lease expires (beat + 30 s): taken over for the stale heartbeat alone.
    const takeover = beat + DEFAULT_POLLER_STALE_MS + 1;
    await waitUntil('the lease taken over and polled on', async () => (await o.rig.ctx.lease.read()).cursorAt === takeover, 10_000);
    expect((await o.rig.ctx.lease.read()).owner).not.toBe('dead-owner');
    // The invocation's end: it sees its time run out after the poll's wait.
    remainingMs = 0;
    clock.advance(60_000);
    const run = await running;
    expect(run.status).toBe('done');
    expect(run.polls).toBeGreaterThan(0);
  }, 120_000);
});
