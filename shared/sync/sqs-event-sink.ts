// The poller's sink adapter: EventLogEntry rows onto the SQS FIFO queue, one message group per entity, one dedup id per event.
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { deduplicationId, messageGroupId, type EventRow } from './event-log.js';
import type { EventSink } from './poller.js';

const MAX_ATTEMPTS = 5;

export class SqsEventSink implements EventSink {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
  ) {}

  /** Sends in id order, ten at a time; a batch's failed entries are retried before the next batch goes, so a group keeps its order. */
  async send(events: EventRow[], run?: string): Promise<void> {
    for (let i = 0; i < events.length; i += 10) {
      let pending = events.slice(i, i + 10).map((ev, j) => ({
        Id: String(j),
        MessageBody: JSON.stringify(ev),
        MessageGroupId: messageGroupId(ev),
        MessageDeduplicationId: deduplicationId(ev, run),
      }));
      for (let attempt = 1; pending.length; attempt++) {
        const out = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: pending }));
        const failed = new Set((out.Failed ?? []).map((f) => f.Id));
        if (!failed.size) break;
        if (attempt >= MAX_ATTEMPTS) {
          const f = out.Failed?.[0];
          throw new Error(`SQS refused ${failed.size} event(s) after ${attempt} attempts: ${f?.Code ?? ''} ${f?.Message ?? ''}`.trim());
        }
        pending = pending.filter((e) => failed.has(e.Id));
        await this.sleep(100 * 2 ** attempt);
      }
    }
  }
}
