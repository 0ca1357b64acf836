// The consumer's waits while the site is down, on a virtual clock at the breaker's real backoff (250 ms doubling, jittered, capped at 5 s): each failed apply of an event waits longer up to the cap, and the next event starts over at the base.
import type { Context, SQSEvent } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { createConsumer } from '../../functions/consumer/app.js';
import { ShotgunTransportError, SiteHealth } from '../../shared/site/index.js';
import { MemorySyncMetrics, type EventApplier, type EventRow } from '../../shared/sync/index.js';
import { VirtualClock } from '../support/virtual-clock.js';

const DRAWS = [0.1, 0.9, 0.5];

const record = (id: number) => ({
  messageId: `m${id}`,
  body: JSON.stringify({ id, event_type: 'Shotgun_Shot_Change', attribute_name: 'code', entity: { type: 'Shot', id } } satisfies EventRow),
  attributes: { MessageGroupId: `Shot#${id}`, ApproximateReceiveCount: '1' },
});

describe("the consumer's backoff while the site is down", () => {
  it('grows with jitter to the 5 s cap while an apply keeps failing and starts over for the next event', async () => {
    const clock = new VirtualClock(Date.parse('2026-01-05T09:00:00Z'), { frozen: true, jump: true });
    let draw = 0;
    const health = new SiteHealth({ clock, random: () => DRAWS[draw++ % DRAWS.length] });
    // The first event's apply fails 8 times (the site down), the second's twice.
    const failures = new Map([
      [1, 8],
      [2, 2],
    ]);
    const applier = {
      forBatch: async () => applier,
      apply: async (ev: EventRow) => {
        const left = failures.get(ev.id) ?? 0;
        if (left > 0) {
          failures.set(ev.id, left - 1);
          throw new ShotgunTransportError('site down', 'gateway', { method: 'read', url: 'http://site', attempts: 1, mayHaveReachedSite: true });
        }
        return { applied: true };
      },
    } as unknown as EventApplier;
    const consume = createConsumer({
      applier,
      metrics: new MemorySyncMetrics(),
      logger: new Logger({ logLevel: 'CRITICAL' }),
      maxReceiveCount: 5,
      clock,
      backoffMs: (round) => health.backoffMs(round),
    });
    const context = { getRemainingTimeInMillis: () => 600_000 } as unknown as Context;
    const first = await consume({ Records: [record(1)] } as unknown as SQSEvent, context);
    expect(first.batchItemFailures).toEqual([]);
    expect(clock.slept).toEqual([137, 475, 750, 1100, 3800, 3750, 2750, 4750]);
    const second = await consume({ Records: [record(2)] } as unknown as SQSEvent, context);
    expect(second.batchItemFailures).toEqual([]);
    // Rounds 0 and 1 again (caps 250 and 500 ms), with the next draws.
    expect(clock.slept.slice(8)).toEqual([187, 275]);
  });
});
