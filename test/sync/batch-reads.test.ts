// Event bursts: the consumer reads the site once per type per batch (one `id in [...]` read), never once per event, and
// still ends identical to the site with each entity's events applied in order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSEvent } from 'aws-lambda';
import { createConsumerHandler, type ConsumerHandler } from '../../functions/consumer/app.js';
import { batchParams, createParams, deleteParams, updateParams } from '../../shared/site/index.js';
import { messageGroupId, type EventRow, MemorySyncMetrics } from '../../shared/sync/index.js';
import { both, cond, importAll, readParams, startRig, type Rig } from './helpers.js';

type Row = Record<string, any>;
const lambdaContext = { getRemainingTimeInMillis: () => 300_000, functionName: 'test', awsRequestId: 'test' } as unknown as Context;
let rig: Rig;
let consumer: ConsumerHandler;

/** The events after `afterId` as one SQS FIFO batch. */
function batchOf(rows: EventRow[]): SQSEvent {
  return {
    Records: rows.map((ev) => ({
      messageId: `m-${ev.id}`,
      receiptHandle: `r-${ev.id}`,
      body: JSON.stringify(ev),
      md5OfBody: '',
      messageAttributes: {},
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: '0',
        SenderId: 'test',
        ApproximateFirstReceiveTimestamp: '0',
        MessageGroupId: messageGroupId(ev),
        MessageDeduplicationId: `evt-${ev.id}`,
        SequenceNumber: String(ev.id),
      },
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:events.fifo',
      awsRegion: 'us-east-1',
    })),
  };
}

/** Applies the events after `afterId` as one batch; returns them and the site reads the consumer made meanwhile. */
async function consumeOneBatch(afterId: number): Promise<{ events: EventRow[]; reads: number }> {
  const events = await rig.ctx.events.readAfter(afterId, 500);
  rig.site.control.resetStats();
  const out = await consumer(batchOf(events), lambdaContext);
  expect(out.batchItemFailures).toEqual([]);
  const reads = (rig.site.control.stats().byMethod as Record<string, number>).read ?? 0;
  return { events, reads };
}

const latestEventId = async () => (await rig.ctx.events.latestId()) ?? 0;
const entityTypes = (events: EventRow[]) =>
  new Set(events.map((e) => /^Shotgun_(.+)_(New|Change|Retirement|Revival)$/.exec(e.event_type)?.[1]).filter(Boolean));
async function rows(type: string, fields: string[]): Promise<Row[]> {
  return (await rig.sg.call<{ entities: Row[] }>('read', readParams(type, [], fields))).entities;
}
async function sameAsSite(type: string, ids: number[], fields: string[]): Promise<void> {
  const { site, cache } = await both(rig, readParams(type, [cond('id', 'in', ...ids)], fields));
  expect(cache).toEqual(site);
}

beforeAll(async () => {
  rig = await startRig('batch-reads', { entities: 150, seed: 25 });
  expect((await importAll(rig)).complete).toBe(true);
  consumer = await createConsumerHandler(rig.env, {
    metrics: new MemorySyncMetrics(),
    logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
    ctx: rig.ctx,
  });
});
afterAll(async () => {
  await rig?.close();
});

describe('a burst of events, one site read per type per batch', () => {
  it('Changes of ten Shots in one batch: one read of the site, and the cache ends as the site', async () => {
    const shots = (await rows('Shot', ['code'])).slice(0, 10);
    const from = await latestEventId();
    // Text values come in the event; tag lists do not (re-read), and every Change needs its write's updated_at/by.
    await rig.sg.call(
      'batch',
      batchParams(
        shots.map((s, i) => ({
          request_type: 'update' as const,
          entity_type: 'Shot',
          entity_id: s.id,
          data: { description: `burst ${i}`, tag_list: [`t${i}`], sg_cut_in: 100 + i },
        })),
      ),
    );
    const { events, reads } = await consumeOneBatch(from);
    expect(events.length).toBeGreaterThanOrEqual(30);
    expect(reads).toBe(1);
    await sameAsSite(
      'Shot',
      shots.map((s) => s.id),
      ['description', 'tag_list', 'sg_cut_in', 'updated_at', 'updated_by'],
    );
  });

  it('creates of several types: at most one read per type the batch touches, not one per event', async () => {
    const [project] = await rows('Project', ['name']);
    const [shot] = await rows('Shot', ['code']);
    const from = await latestEventId();
    const created: Array<{ type: string; id: number }> = [];
    for (let i = 0; i < 4; i++) {
      created.push(
        (await rig.sg.call<Row>('create', createParams('Asset', { code: `A_BURST_${i}`, project: { type: 'Project', id: project.id } }))) as {
          type: string;
          id: number;
        },
      );
      created.push(
        (await rig.sg.call<Row>(
          'create',
          createParams('Version', {
            code: `V_BURST_${i}`,
            project: { type: 'Project', id: project.id },
            entity: { type: 'Shot', id: shot.id },
          }),
        )) as { type: string; id: number },
      );
    }
    const { events, reads } = await consumeOneBatch(from);
    const types = entityTypes(events);
    expect(events.length).toBeGreaterThan(types.size);
    expect(reads).toBeGreaterThan(0);
    expect(reads).toBeLessThanOrEqual(types.size);
    await sameAsSite(
      'Asset',
      created.filter((c) => c.type === 'Asset').map((c) => c.id),
      ['code', 'project', 'created_at', 'updated_at'],
    );
    await sameAsSite(
      'Version',
      created.filter((c) => c.type === 'Version').map((c) => c.id),
      ['code', 'project', 'entity', 'updated_at'],
    );
  });

  it("keeps each entity's order inside the batch: the last write wins, a retirement after changes retires", async () => {
    const [a, b] = (await rows('Shot', ['code'])).slice(-2);
    const from = await latestEventId();
    await rig.sg.call('update', updateParams('Shot', a.id, { description: 'first', sg_cut_out: 1 }));
    await rig.sg.call('update', updateParams('Shot', a.id, { description: 'second', tag_list: ['x'] }));
    await rig.sg.call('update', updateParams('Shot', a.id, { sg_cut_out: 3 }));
    await rig.sg.call('update', updateParams('Shot', b.id, { description: 'gone soon' }));
    await rig.sg.call('delete', deleteParams('Shot', b.id));
    const { reads } = await consumeOneBatch(from);
    expect(reads).toBeLessThanOrEqual(2);
    await sameAsSite('Shot', [a.id, b.id], ['description', 'sg_cut_out', 'tag_list', 'updated_at']);
    const { site, cache } = await both(rig, readParams('Shot', [cond('id', 'is', b.id)], ['description'], { return_only: 'retired' }));
    expect((site as { entities: unknown[] }).entities).toHaveLength(1);
    expect(cache).toEqual(site);
  });

  it('a failure stops only its own group: that record and the later ones of its entity are retried, other entities are applied', async () => {
    const [a, b] = (await rows('Shot', ['code'])).slice(10, 12);
    const from = await latestEventId();
    await rig.sg.call('update', updateParams('Shot', a.id, { description: 'a1' }));
    await rig.sg.call('update', updateParams('Shot', a.id, { description: 'a2' }));
    await rig.sg.call('update', updateParams('Shot', b.id, { description: 'b1' }));
    const events = await rig.ctx.events.readAfter(from, 500);
    const batch = batchOf(events);
    const aFirst = batch.Records.findIndex((r) => JSON.parse(r.body).entity?.id === a.id);
    batch.Records[aFirst] = { ...batch.Records[aFirst], body: '{"not": "an event"}' };
    const out = await consumer(batch, lambdaContext);
    const failed = out.batchItemFailures.map((f) => f.itemIdentifier);
    expect(failed).toEqual(
      batch.Records.filter((r, i) => i >= aFirst && r.attributes.MessageGroupId === batch.Records[aFirst].attributes.MessageGroupId).map((r) => r.messageId),
    );
    await sameAsSite('Shot', [b.id], ['description', 'updated_at']);
  });
});
