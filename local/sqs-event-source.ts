// Lambda's SQS FIFO event source mapping, emulated over the local SQS: group locking, batches, partial failures, receive counts, DLQ redrive.
//
// What it reproduces (aws-anchors.md §2):
// - one batch in flight per message group; other groups proceed in parallel (up to maxConcurrency batches);
// - batches of up to batchSize (<= 10) records in each group's order; a batch starts with the group holding the
//   oldest message and, when it has room, continues with other idle groups (as FIFO receives do);
// - records in the exact SQSRecord shape, with ApproximateReceiveCount counted here (local-aws-sqs counts
//   ChangeMessageVisibility as a receive and only returns system attributes for the deprecated AttributeNames)
//   and SequenceNumber assigned here in queue order (local-aws-sqs's are random);
// - ReportBatchItemFailures: {batchItemFailures:[{itemIdentifier}]}; a thrown error, a timeout or a malformed
//   response fails the whole batch. Within a group, the first failed message and every later one are retried,
//   in order, after retryDelayMs (the visibility timeout stand-in); earlier ones are deleted;
// - redrive: a message delivered maxReceiveCount times that fails again goes to the DLQ (sent there, then deleted
//   here), and its group moves on, as in AWS.
// How: received messages are held under a long visibility timeout in per-group buffers (local-aws-sqs does not lock
// groups), so only this emulator decides when each group's next batch runs.
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { invokeLocal, type LambdaHandler, type LocalFunction } from './lambda-invoke.js';
import { failedIds, sqsRecord } from './sqs-records.js';

export type SqsHandler = LambdaHandler<SQSEvent, SQSBatchResponse | void | undefined | null>;

export interface SqsEventSourceOptions {
  endpoint: string;
  region?: string;
  queueUrl: string;
  dlqUrl: string;
  fn: LocalFunction;
  handler: SqsHandler;
  /** Records per batch, 1..10 (the FIFO maximum; default 10). */
  batchSize?: number;
  /** The queue's RedrivePolicy.maxReceiveCount (default 5). */
  maxReceiveCount?: number;
  /** Batches in flight at once (ScalingConfig.MaximumConcurrency; default 5). */
  maxConcurrency?: number;
  /** How long failed messages stay invisible before their retry (the visibility timeout; default 1000 ms). */
  retryDelayMs?: number;
  /** Idle wait between receives when the queue is empty (default 50 ms). */
  pollIntervalMs?: number;
  /** Messages held in memory at most (default 1000). */
  maxBuffered?: number;
  onError?: (message: string, error?: unknown) => void;
  /** The credentials it receives and deletes with (in AWS: the function's role; default the local stack's). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export interface SqsEventSourceStats {
  buffered: number;
  inFlightBatches: number;
  batches: number;
  recordsDelivered: number;
  recordsSucceeded: number;
  recordsRetried: number;
  movedToDlq: number;
}

export interface SqsEventSource {
  stats(): SqsEventSourceStats;
  /**
   * Stops receiving and waits for the batches in flight. With `drainMs`, first keeps delivering until the queue and
   * this source's buffers are empty, for at most that long: a clean stop of the local stack, whose SQS lives in
   * memory, must not take queued events down with it (AWS keeps them; locally they would be lost, and their pending
   * markers would keep their types passing until they expire).
   */
  stop(opts?: { drainMs?: number }): Promise<void>;
}

interface Held {
  message: Message;
  receiveCount: number;
  firstReceivedAt?: number;
  /** Position in the queue, for picking the group with the oldest message. */
  order: number;
}

interface Group {
  id: string;
  messages: Held[];
  inFlight: boolean;
  availableAt: number;
}

/** Longest visibility timeout SQS allows: messages stay held until the emulator deletes or releases them. */
const HOLD_SECONDS = 43_200;

export function startSqsEventSource(opts: SqsEventSourceOptions): SqsEventSource {
  const region = opts.region ?? 'us-east-1';
  const batchSize = Math.min(10, Math.max(1, opts.batchSize ?? 10));
  const maxReceiveCount = opts.maxReceiveCount ?? 5;
  const maxConcurrency = Math.max(1, opts.maxConcurrency ?? 5);
  const retryDelayMs = opts.retryDelayMs ?? 1000;
  const pollIntervalMs = opts.pollIntervalMs ?? 50;
  const maxBuffered = opts.maxBuffered ?? 1000;
  const queueName = opts.queueUrl.split('/').pop() ?? 'queue';
  const fifo = queueName.endsWith('.fifo');
  const queueArn = `arn:aws:sqs:${region}:123456789012:${queueName}`;
  const sqs = new SQSClient({
    endpoint: opts.endpoint,
    region,
    credentials: opts.credentials ?? { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 2,
    // A receive or delete the local SQS accepted and never answered would stop this source for good: bounded, it fails
    // and the loop's retry goes on.
    requestHandler: { requestTimeout: 15_000, throwOnRequestTimeout: true, connectionTimeout: 5_000 },
  });
  const onError = opts.onError ?? (() => {});

  const groups = new Map<string, Group>();
  const known = new Set<string>();
  const running = new Set<Promise<void>>();
  let buffered = 0;
  let arrival = 0;
  let stopped = false;
  const shutdown = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let wakeAt = Infinity;
  let ticking = false;
  /** The receive-and-dispatch round in progress: stop() waits for it, so nothing it receives is left held. */
  let current: Promise<void> | undefined;
  let rerun = false;
  const counters = { batches: 0, recordsDelivered: 0, recordsSucceeded: 0, recordsRetried: 0, movedToDlq: 0 };

  /** Messages in the queue, visible or not (held ones included); -1 when the queue cannot say. */
  async function queueDepth(): Promise<number> {
    try {
      const names = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] as const;
      const r = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: opts.queueUrl, AttributeNames: [...names] }));
      return names.reduce((n, k) => n + Number(r.Attributes?.[k] ?? 0), 0);
    } catch {
      return -1;
    }
  }

  async function receive(): Promise<void> {
    while (!stopped && buffered < maxBuffered) {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: opts.queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 0,
          VisibilityTimeout: HOLD_SECONDS,
          AttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      const messages = out.Messages ?? [];
      for (const m of messages) {
        if (!m.MessageId || known.has(m.MessageId)) continue;
        known.add(m.MessageId);
        // A standard queue has no groups: every message is its own (no ordering, full parallelism).
        const groupId = fifo ? (m.Attributes?.MessageGroupId ?? '') : m.MessageId;
        let g = groups.get(groupId);
        if (!g) groups.set(groupId, (g = { id: groupId, messages: [], inFlight: false, availableAt: 0 }));
        // Receive order is queue order (local-aws-sqs's SequenceNumbers are random, so they cannot order anything).
        g.messages.push({ message: m, receiveCount: 0, order: arrival++ });
        buffered++;
      }
      if (messages.length < 10) return;
    }
  }

  /** Starts batches for idle groups while concurrency allows; returns when the next retry delay ends (or Infinity). */
  function dispatch(): number {
    let next = Infinity;
    while (!stopped && running.size < maxConcurrency) {
      const now = Date.now();
      const ready = [...groups.values()]
        .filter((g) => {
          if (g.inFlight || g.messages.length === 0) return false;
          if (g.availableAt > now) {
            next = Math.min(next, g.availableAt);
            return false;
          }
          return true;
        })
        .sort((a, b) => a.messages[0].order - b.messages[0].order);
      if (ready.length === 0) break;
      const batch: Array<{ group: Group; held: Held[] }> = [];
      let room = batchSize;
      for (const g of ready) {
        if (room === 0) break;
        const held = g.messages.slice(0, room);
        room -= held.length;
        g.inFlight = true;
        batch.push({ group: g, held });
      }
      const p = runBatch(batch)
        .catch((e) => onError('event source batch bookkeeping failed', e))
        .finally(() => {
          running.delete(p);
          schedule(0);
        });
      running.add(p);
    }
    return next;
  }

  /** SQS FIFO sequence numbers grow with queue order; local-aws-sqs's are random, so the emulator numbers messages itself. */
  const sequenceBase = BigInt(Date.now()) * 1_000_000n;
  const sequenceNumber = (order: number) => String(sequenceBase + BigInt(order)).padStart(20, '0');

  const record = (h: Held): SQSRecord =>
    sqsRecord(h.message, { receiveCount: h.receiveCount, firstReceivedAt: h.firstReceivedAt!, sequenceNumber: sequenceNumber(h.order), queueArn, region });

  async function deleteMessages(held: Held[]): Promise<void> {
    for (let i = 0; i < held.length; i += 10) {
      const chunk = held.slice(i, i + 10);
      const out = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: opts.queueUrl,
          Entries: chunk.map((h, j) => ({ Id: String(j), ReceiptHandle: h.message.ReceiptHandle! })),
        }),
      );
      for (const f of out.Failed ?? []) onError(`could not delete message ${chunk[Number(f.Id)].message.MessageId}: ${f.Message}`);
    }
  }

  async function moveToDlq(h: Held): Promise<void> {
    const m = h.message;
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: opts.dlqUrl,
        MessageBody: m.Body ?? '',
        ...(fifo ? { MessageGroupId: m.Attributes?.MessageGroupId, MessageDeduplicationId: m.Attributes?.MessageDeduplicationId ?? m.MessageId } : {}),
        MessageAttributes: m.MessageAttributes,
      }),
    );
    await deleteMessages([h]);
  }

  function forget(g: Group, held: Held[]): void {
    const drop = new Set(held);
    g.messages = g.messages.filter((h) => !drop.has(h));
    for (const h of held) known.delete(h.message.MessageId!);
    buffered -= held.length;
  }

  async function runBatch(batch: Array<{ group: Group; held: Held[] }>): Promise<void> {
    const now = Date.now();
    const all = batch.flatMap((b) => b.held);
    for (const h of all) {
      h.receiveCount++;
      h.firstReceivedAt ??= now;
    }
    counters.batches++;
    counters.recordsDelivered += all.length;
    const records = all.map(record);
    let failed: Set<string> | 'all';
    try {
      const response = await invokeLocal(opts.fn, opts.handler, { Records: records }, shutdown.signal);
      failed = failedIds(response, new Set(records.map((r) => r.messageId)));
      if (failed === 'all') onError(`${opts.fn.name} returned a malformed batch response; the whole batch is retried`);
    } catch (e) {
      onError(`${opts.fn.name} failed; the whole batch is retried`, e);
      failed = 'all';
    }
    const outcome = batch.map(({ group, held }) => {
      const firstFailed = failed === 'all' ? 0 : held.findIndex((h) => (failed as Set<string>).has(h.message.MessageId!));
      return { group, done: firstFailed < 0 ? held : held.slice(0, firstFailed), retry: firstFailed < 0 ? [] : held.slice(firstFailed) };
    });
    // The batch's succeeded records deleted together (10 per call), as Lambda's event source does.
    await deleteMessages(outcome.flatMap((o) => o.done));
    for (const { group, done, retry } of outcome) {
      if (done.length) {
        forget(group, done);
        counters.recordsSucceeded += done.length;
      }
      const exhausted = retry.filter((h) => h.receiveCount >= maxReceiveCount);
      for (const h of exhausted) {
        await moveToDlq(h);
        forget(group, [h]);
        counters.movedToDlq++;
      }
      counters.recordsRetried += retry.length - exhausted.length;
      if (retry.length > exhausted.length) group.availableAt = Date.now() + retryDelayMs;
      group.inFlight = false;
      if (group.messages.length === 0) groups.delete(group.id);
    }
  }

  /** One receive-and-dispatch round; never two at once (concurrent receives could reorder a group's messages). */
  async function tick(): Promise<void> {
    timer = undefined;
    wakeAt = Infinity;
    if (stopped) return;
    if (ticking) {
      rerun = true;
      return;
    }
    ticking = true;
    let received = false;
    let next: number;
    try {
      const before = buffered;
      await receive();
      received = buffered > before;
    } catch (e) {
      onError('receiving from the local SQS failed', e);
    } finally {
      next = dispatch();
      ticking = false;
    }
    if (rerun || received) {
      rerun = false;
      return schedule(0);
    }
    schedule(Math.min(pollIntervalMs, Math.max(0, next - Date.now())));
  }

  function schedule(delayMs: number): void {
    if (stopped) return;
    const at = Date.now() + delayMs;
    if (timer && at >= wakeAt) return;
    if (timer) clearTimeout(timer);
    wakeAt = at;
    timer = setTimeout(() => {
      current = tick();
    }, delayMs);
  }

  schedule(0);

  return {
    stats: () => ({ buffered, inFlightBatches: running.size, ...counters }),
    async stop(stopOpts: { drainMs?: number } = {}) {
      if (stopOpts.drainMs && !stopped) {
        const deadline = Date.now() + stopOpts.drainMs;
        while (Date.now() < deadline && !(buffered === 0 && running.size === 0 && (await queueDepth()) <= 0)) {
          schedule(0);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      stopped = true;
      shutdown.abort();
      if (timer) clearTimeout(timer);
      // A receive in flight still takes its messages (the queue made them invisible for HOLD_SECONDS): it is waited
      // for, so they are held here and handed back below instead of stranded for hours.
      await current?.catch(() => {});
      await Promise.allSettled([...running]);
      // Hand held messages back to the queue (they would otherwise stay invisible for HOLD_SECONDS).
      let held = [...groups.values()].flatMap((g) => g.messages);
      try {
        for (let attempt = 1; held.length && attempt <= 3; attempt++) {
          const refused: Held[] = [];
          for (let i = 0; i < held.length; i += 10) {
            const chunk = held.slice(i, i + 10);
            const out = await sqs.send(
              new ChangeMessageVisibilityBatchCommand({
                QueueUrl: opts.queueUrl,
                Entries: chunk.map((h, j) => ({ Id: String(j), ReceiptHandle: h.message.ReceiptHandle!, VisibilityTimeout: 0 })),
              }),
            );
            for (const f of out.Failed ?? []) refused.push(chunk[Number(f.Id)]);
          }
          held = refused;
        }
        if (held.length) onError(`${held.length} held message(s) could not be handed back to the queue`);
      } catch {
        // The queue server may already be gone; its messages go with it.
      }
      sqs.destroy();
    },
  };
}
