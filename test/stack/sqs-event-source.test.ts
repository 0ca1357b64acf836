// The SQS FIFO event source emulation over the real local SQS: ordering, group locking, partial failures, redrive.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { startLocalSqs, type LocalSqs } from '../../local/sqs-local.js';
import { startSqsEventSource, type SqsEventSource, type SqsEventSourceOptions } from '../../local/sqs-event-source.js';
import { failedIds } from '../../local/sqs-records.js';
import { deferred, waitFor } from './wait.js';

interface Rig {
  sqs: LocalSqs;
  client: SQSClient;
  es?: SqsEventSource;
}
const rigs: Rig[] = [];

afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await r.es?.stop();
    r.client.destroy();
    await r.sqs.close();
  }
});

async function rig(): Promise<Rig> {
  const sqs = await startLocalSqs({ port: 0 });
  const client = new SQSClient({ endpoint: sqs.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const r: Rig = { sqs, client };
  rigs.push(r);
  return r;
}

let dedup = 0;
async function send(r: Rig, group: string, body: string, url = r.sqs.queueUrl): Promise<void> {
  await r.client.send(
    new SendMessageCommand({
      QueueUrl: url,
      MessageBody: body,
      MessageGroupId: group,
      MessageDeduplicationId: `d${++dedup}`,
      MessageAttributes: { kind: { DataType: 'String', StringValue: 'test' } },
    }),
  );
}

function start(r: Rig, handler: SqsEventSourceOptions['handler'], extra: Partial<SqsEventSourceOptions> = {}): SqsEventSource {
  r.es = startSqsEventSource({
    endpoint: r.sqs.endpoint,
    queueUrl: r.sqs.queueUrl,
    dlqUrl: r.sqs.dlqUrl,
    fn: { name: 'test-consumer', timeoutMs: 10_000 },
    handler,
    retryDelayMs: 20,
    pollIntervalMs: 10,
    ...extra,
  });
  return r.es;
}

const group = (rec: SQSRecord) => rec.attributes.MessageGroupId!;

describe('SQS FIFO event source emulation', () => {
  it('delivers every group in order, groups interleaved, as SQSRecords', async () => {
    const r = await rig();
    const sent: Record<string, string[]> = { A: [], B: [], C: [] };
    for (let i = 0; i < 8; i++) {
      for (const g of ['A', 'B', 'C']) {
        await send(r, g, `${g}${i}`);
        sent[g].push(`${g}${i}`);
      }
    }
    const seen: Record<string, string[]> = { A: [], B: [], C: [] };
    const records: SQSRecord[] = [];
    let maxBatch = 0;
    const es = start(
      r,
      async (event: SQSEvent) => {
        maxBatch = Math.max(maxBatch, event.Records.length);
        for (const rec of event.Records) {
          seen[group(rec)].push(rec.body);
          records.push(rec);
        }
      },
      { batchSize: 4 },
    );
    await waitFor('all 24 messages done', () => es.stats().recordsSucceeded === 24);
    expect(seen).toEqual(sent);
    expect(maxBatch).toBeLessThanOrEqual(4);
    const rec = records[0];
    expect(rec).toMatchObject({
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:fpt-cache-events.fifo',
      awsRegion: 'us-east-1',
      md5OfBody: createHash('md5').update(rec.body).digest('hex'),
      messageAttributes: { kind: { dataType: 'String', stringValue: 'test', stringListValues: [], binaryListValues: [] } },
      attributes: { ApproximateReceiveCount: '1', MessageGroupId: 'A', MessageDeduplicationId: expect.stringMatching(/^d\d+$/) },
    });
    expect(rec.attributes.SequenceNumber).toMatch(/^\d{20}$/);
    for (const g of ['A', 'B', 'C']) {
      const seqs = records.filter((x) => group(x) === g).map((x) => BigInt(x.attributes.SequenceNumber!));
      expect(seqs.every((v, i) => i === 0 || v > seqs[i - 1])).toBe(true);
    }
    expect(Number(rec.attributes.SentTimestamp)).toBeGreaterThan(0);
    expect(Number(rec.attributes.ApproximateFirstReceiveTimestamp)).toBeGreaterThanOrEqual(Number(rec.attributes.SentTimestamp));
    expect(es.stats()).toMatchObject({ recordsDelivered: 24, recordsSucceeded: 24, recordsRetried: 0, movedToDlq: 0 });
  });

  it('keeps one batch in flight per group: a slow group A does not block B, and A waits for its own batch', async () => {
    const r = await rig();
    const releaseA = deferred();
    const seen: string[] = [];
    start(r, async (event: SQSEvent) => {
      for (const rec of event.Records) seen.push(rec.body);
      if (event.Records.some((rec) => rec.body === 'A1')) await releaseA.promise;
    });
    await send(r, 'A', 'A1');
    await waitFor('A1 in flight', () => seen.includes('A1'));
    // A2 is queued before B1, so once B1 has been handled, A2 has been received too and is held back by the group lock.
    await send(r, 'A', 'A2');
    await send(r, 'B', 'B1');
    await send(r, 'B', 'B2');
    await waitFor('group B handled while A is busy', () => seen.includes('B2'));
    expect(seen).not.toContain('A2');
    releaseA.resolve();
    await waitFor('A2 after A1 finished', () => seen.includes('A2'));
    expect(seen.filter((b) => b.startsWith('A'))).toEqual(['A1', 'A2']);
  });

  it('a stop with drainMs delivers what is queued first (a clean stop of the local stack loses no queued event)', async () => {
    const r = await rig();
    const seen: string[] = [];
    const es = start(r, async (event: SQSEvent) => {
      await new Promise((res) => setTimeout(res, 30));
      for (const rec of event.Records) seen.push(rec.body);
    });
    const sent: string[] = [];
    for (let i = 0; i < 5; i++) {
      for (const g of ['A', 'B', 'C', 'D']) {
        await send(r, g, `${g}${i}`);
        sent.push(`${g}${i}`);
      }
    }
    await es.stop({ drainMs: 10_000 });
    expect([...seen].sort()).toEqual([...sent].sort());
    expect(es.stats()).toMatchObject({ buffered: 0, recordsSucceeded: sent.length });
    const left = await r.client.send(new ReceiveMessageCommand({ QueueUrl: r.sqs.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    expect(left.Messages ?? []).toEqual([]);
  });

  it('retries the failed message and every later one of its group, in order; earlier ones and other groups are done', async () => {
    const r = await rig();
    for (const b of ['A1', 'A2', 'B1', 'A3', 'A4']) await send(r, b[0], b);
    const batches: Array<Array<[string, string]>> = [];
    let failedOnce = false;
    const es = start(r, async (event: SQSEvent): Promise<SQSBatchResponse> => {
      batches.push(event.Records.map((rec) => [rec.body, rec.attributes.ApproximateReceiveCount]));
      const a2 = event.Records.find((rec) => rec.body === 'A2');
      if (a2 && !failedOnce) {
        failedOnce = true;
        // Reports only A2: A3 and A4 "succeeded" but come after A2 in the group, so they are retried too.
        return { batchItemFailures: [{ itemIdentifier: a2.messageId }] };
      }
      return { batchItemFailures: [] };
    });
    await waitFor('all done', () => es.stats().recordsSucceeded === 5);
    expect(batches[0].map(([b]) => b)).toEqual(['A1', 'A2', 'A3', 'A4', 'B1']);
    expect(batches[1]).toEqual([
      ['A2', '2'],
      ['A3', '2'],
      ['A4', '2'],
    ]);
    expect(batches).toHaveLength(2);
    expect(es.stats()).toMatchObject({ recordsDelivered: 8, recordsRetried: 3, movedToDlq: 0 });
  });

  it('retries the whole batch when the handler throws or answers with an unknown id', async () => {
    const r = await rig();
    for (const b of ['A1', 'A2']) await send(r, 'A', b);
    const counts: string[] = [];
    let calls = 0;
    const es = start(
      r,
      async (event: SQSEvent) => {
        calls++;
        counts.push(event.Records.map((rec) => `${rec.body}:${rec.attributes.ApproximateReceiveCount}`).join(','));
        if (calls === 1) throw new Error('boom');
        if (calls === 2) return { batchItemFailures: [{ itemIdentifier: 'not-in-this-batch' }] };
        return undefined;
      },
      { onError: () => {} },
    );
    await waitFor('done', () => es.stats().recordsSucceeded === 2);
    expect(counts).toEqual(['A1:1,A2:1', 'A1:2,A2:2', 'A1:3,A2:3']);
  });

  it('moves a message to the DLQ after maxReceiveCount deliveries, then its group moves on', async () => {
    const r = await rig();
    await send(r, 'C', 'poison');
    await send(r, 'C', 'C2');
    const deliveries: string[] = [];
    const es = start(
      r,
      async (event: SQSEvent): Promise<SQSBatchResponse> => {
        for (const rec of event.Records) deliveries.push(`${rec.body}:${rec.attributes.ApproximateReceiveCount}`);
        const poison = event.Records.filter((rec) => rec.body === 'poison');
        return { batchItemFailures: poison.map((rec) => ({ itemIdentifier: rec.messageId })) };
      },
      { maxReceiveCount: 3, batchSize: 1 },
    );
    await waitFor('C2 handled', () => deliveries.includes('C2:1'));
    expect(deliveries).toEqual(['poison:1', 'poison:2', 'poison:3', 'C2:1']);
    expect(es.stats().movedToDlq).toBe(1);
    const dlq = await r.client.send(
      new ReceiveMessageCommand({ QueueUrl: r.sqs.dlqUrl, MaxNumberOfMessages: 10, AttributeNames: ['All'], MessageAttributeNames: ['All'] }),
    );
    expect(dlq.Messages?.map((m) => [m.Body, m.Attributes?.MessageGroupId, m.MessageAttributes?.kind?.StringValue])).toEqual([['poison', 'C', 'test']]);
  });

  it('reads batch responses by Lambda rules', () => {
    const ids = new Set(['a', 'b']);
    expect(failedIds(undefined, ids)).toEqual(new Set());
    expect(failedIds({}, ids)).toEqual(new Set());
    expect(failedIds({ batchItemFailures: null }, ids)).toEqual(new Set());
    expect(failedIds({ batchItemFailures: [{ itemIdentifier: 'b' }] }, ids)).toEqual(new Set(['b']));
    expect(failedIds({ batchItemFailures: [{ itemIdentifier: '' }] }, ids)).toBe('all');
    expect(failedIds({ batchItemFailures: [{ id: 'a' }] }, ids)).toBe('all');
    expect(failedIds({ batchItemFailures: 'a' }, ids)).toBe('all');
    expect(failedIds('ok', ids)).toBe('all');
  });
});
