// The whole pipeline over real HTTP and queues: poller -> local SQS FIFO -> event source emulation -> consumer -> DynamoDB Local,
// then reads through the read engine. Late-committed event ids, a poison event, the DLQ and its replay.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Logger } from '@aws-lambda-powertools/logger';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { createParams, updateParams } from '../../shared/site/index.js';
import { replayDeadLetters, MemorySyncMetrics } from '../../shared/sync/index.js';
import { startLocalSqs, type LocalSqs } from '../../local/sqs-local.js';
import { startSqsEventSource, type SqsEventSource } from '../../local/sqs-event-source.js';
import { startScheduler, type Scheduler } from '../../local/scheduler.js';
import { createConsumerHandler } from '../../functions/consumer/app.js';
import { createPollerHandler } from '../../functions/poller/app.js';
import { both, cond, importAll, readParams, startRig, waitUntil, type Rig } from './helpers.js';

type Row = Record<string, any>;
let rig: Rig;
let sqs: LocalSqs;
let es: SqsEventSource;
let scheduler: Scheduler;
const consumerMetrics = new MemorySyncMetrics();
const pollerMetrics = new MemorySyncMetrics();
const consumerLogger = new Logger({ serviceName: 'test-consumer', logLevel: 'CRITICAL' });
const MAX_RECEIVES = 2;

async function find(type: string, conditions: unknown[], fields: string[]): Promise<Row[]> {
  return (await rig.sg.call<{ entities: Row[] }>('read', readParams(type, conditions, fields))).entities;
}
/** Waits until the cache answers `params` exactly as the site does. */
async function converged(what: string, type: string, conditions: unknown[], fields: string[]): Promise<void> {
  let last = '';
  await waitUntil(what, async () => {
    const { site, cache } = await both(rig, readParams(type, conditions, fields));
    last = `site ${JSON.stringify(site)}\ncache ${JSON.stringify(cache)}`;
    return JSON.stringify(site) === JSON.stringify(cache);
  }).catch((e) => {
    throw new Error(`${(e as Error).message}\n${last}`);
  });
}
const depth = async (url: string) =>
  Number(
    (await rig.ctx.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }))).Attributes
      ?.ApproximateNumberOfMessages ?? 0,
  );

beforeAll(async () => {
  sqs = await startLocalSqs({ port: 0 });
  rig = await startRig(
    'pipeline',
    { entities: 120, seed: 21 },
    {
      EVENTS_QUEUE_URL: sqs.queueUrl,
      EVENTS_DLQ_URL: sqs.dlqUrl,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      POLL_INTERVAL_MS: '100',
      POLL_LOOP_MS: '3000',
      MAX_RECEIVE_COUNT: String(MAX_RECEIVES),
      POLLER_LEASE_MS: '5000',
    },
  );
  expect((await importAll(rig)).complete).toBe(true);
  const consumer = await createConsumerHandler(rig.env, { metrics: consumerMetrics, logger: consumerLogger, ctx: rig.ctx });
  es = startSqsEventSource({
    endpoint: sqs.endpoint,
    queueUrl: sqs.queueUrl,
    dlqUrl: sqs.dlqUrl,
    fn: { name: 'consumer', timeoutMs: 30_000 },
    handler: consumer,
    maxReceiveCount: MAX_RECEIVES,
    retryDelayMs: 100,
    pollIntervalMs: 20,
  });
  const poller = await createPollerHandler(rig.env, { metrics: pollerMetrics, logger: new Logger({ serviceName: 'test-poller', logLevel: 'CRITICAL' }) });
  scheduler = startScheduler([{ fn: { name: 'poller', timeoutMs: 15_000 }, handler: poller, everyMs: 50 }]);
});
afterAll(async () => {
  await scheduler?.stop();
  await es?.stop();
  await rig?.close();
  await sqs?.close();
});

describe('the sync pipeline end to end', () => {
  it('a write on the site becomes visible through the read engine', async () => {
    const [project] = await find('Project', [], ['name']);
    const shot = await rig.sg.call<Row>('create', createParams('Shot', { code: 'SH_E2E', project: { type: 'Project', id: project.id }, sg_cut_in: 1 }));
    await rig.sg.call('update', updateParams('Shot', shot.id, { sg_cut_in: 42, description: 'through the pipeline' }));
    await converged('the new shot', 'Shot', [cond('id', 'is', shot.id)], ['code', 'sg_cut_in', 'description', 'project', 'updated_at']);
    await converged('the project filter', 'Shot', [cond('project', 'is', { type: 'Project', id: project.id })], ['code', 'sg_cut_in']);
    expect(consumerMetrics.total('EventsApplied')).toBeGreaterThan(0);
    expect(consumerMetrics.last.get('SyncLagSeconds')).toBeDefined();
    expect(pollerMetrics.total('PollerHeartbeat')).toBeGreaterThan(0);
    expect(pollerMetrics.total('EventsForwarded')).toBeGreaterThan(0);
  });

  it('does not lose events whose ids commit out of order', async () => {
    const [shot] = await find('Shot', [], ['code']);
    rig.site.control.holdEvents(1);
    await rig.sg.call('update', updateParams('Shot', shot.id, { description: 'committed late' }));
    const [other] = await find('Shot', [cond('id', 'is_not', shot.id)], ['code']);
    await rig.sg.call('update', updateParams('Shot', other.id, { description: 'committed first' }));
    await converged('the later write', 'Shot', [cond('id', 'is', other.id)], ['description']);
    await waitUntil('the held ids in the cursor backlog', async () => Object.keys((await rig.ctx.lease.read()).cursor?.backlog ?? {}).length > 0);
    expect((await rig.ctx.store.get('Shot', shot.id))?.record.values.description).not.toBe('committed late');
    rig.site.control.releaseEvents();
    await converged('the late write', 'Shot', [cond('id', 'is', shot.id)], ['description', 'updated_at']);
    await waitUntil('an empty backlog', async () => Object.keys((await rig.ctx.lease.read()).cursor?.backlog ?? {}).length === 0);
  });

  it('sends a poison event to the DLQ with a metric and a log line naming it, keeps going, and replays dead letters', async () => {
    const error = vi.spyOn(consumerLogger, 'error');
    await rig.ctx.sqs.send(
      new SendMessageCommand({
        QueueUrl: sqs.queueUrl,
        MessageBody: '{"id": 77, "event_type": 5}',
        MessageGroupId: 'Shot#1',
        MessageDeduplicationId: 'poison-1',
      }),
    );
    // An event that fails while the site is down for reads, then succeeds once replayed.
    const [shot] = await find('Shot', [], ['code']);
    await scheduler.stop();
    await rig.sg.call('update', updateParams('Shot', shot.id, { tag_list: ['replayed'] }));
    const ev = (await rig.ctx.events.readAfter((await rig.ctx.events.latestId()) - 1, 1))[0];
    rig.site.control.failNext({ kind: 'http503', count: 1000, method: 'read' });
    await rig.ctx.sqs.send(
      new SendMessageCommand({
        QueueUrl: sqs.queueUrl,
        MessageBody: JSON.stringify(ev),
        MessageGroupId: `Shot#${shot.id}`,
        MessageDeduplicationId: `evt-${ev.id}`,
      }),
    );
    // The consumer waits out a site that is down within each delivery (functions/consumer/app.ts: until 5 s before its
    // 30 s timeout) instead of spending deliveries at once, so the failing event reaches the DLQ after its deliveries' waits.
    await waitUntil('two dead letters', async () => (await depth(sqs.dlqUrl)) === 2, 120_000);
    expect(consumerMetrics.total('DeadLetters')).toBe(2);
    const named = error.mock.calls.map((c) => String(c[0]));
    expect(named.some((m) => m.includes('event 77 ') || m.includes('(unreadable)'))).toBe(true);
    expect(named.some((m) => m.includes(`event ${ev.id} `))).toBe(true);
    rig.site.control.clearFaults();
    expect((await rig.ctx.store.get('Shot', shot.id))?.record.values.tag_list).not.toEqual(['replayed']);

    const replay = await replayDeadLetters(rig.ctx.sqs, { dlqUrl: sqs.dlqUrl, queueUrl: sqs.queueUrl });
    expect(replay.moved).toBe(2);
    expect(replay.eventIds).toContain(ev.id);
    await converged('the replayed event', 'Shot', [cond('id', 'is', shot.id)], ['tag_list', 'updated_at']);
    // The unreadable one fails again and goes back to the DLQ.
    await waitUntil('the poison back in the DLQ', async () => (await depth(sqs.dlqUrl)) === 1, 60_000);
  }, 240_000);
});
