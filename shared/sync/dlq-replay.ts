// Moving dead-lettered events back onto the event queue (`fpt-cache dlq replay`): same message group, a fresh deduplication id.
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';

export interface ReplayResult {
  moved: number;
  /** Event ids of the moved messages, when their bodies are events. */
  eventIds: number[];
}

/**
 * Receives every visible dead letter and re-sends it to the queue in the order received, then deletes it from the
 * DLQ. Versioned writes make the late (and possibly reordered) delivery harmless. The deduplication id gets a
 * replay suffix: the original `evt-<id>` may still be inside SQS's five-minute deduplication window.
 */
export async function replayDeadLetters(sqs: SQSClient, urls: { dlqUrl: string; queueUrl: string }, now = Date.now()): Promise<ReplayResult> {
  const out: ReplayResult = { moved: 0, eventIds: [] };
  for (;;) {
    const r = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: urls.dlqUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 120,
        AttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = r.Messages ?? [];
    if (!messages.length) return out;
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: urls.queueUrl,
        Entries: messages.map((m, i) => ({
          Id: String(i),
          MessageBody: m.Body ?? '',
          MessageGroupId: m.Attributes?.MessageGroupId ?? 'replayed',
          MessageDeduplicationId: `${m.Attributes?.MessageDeduplicationId ?? m.MessageId}-replay-${now}`.slice(0, 128),
          MessageAttributes: m.MessageAttributes,
        })),
      }),
    );
    const failed = new Set((sent.Failed ?? []).map((f) => Number(f.Id)));
    const done = messages.filter((_, i) => !failed.has(i));
    if (done.length) {
      await sqs.send(
        new DeleteMessageBatchCommand({ QueueUrl: urls.dlqUrl, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }),
      );
    }
    out.moved += done.length;
    for (const m of done) {
      try {
        const id = (JSON.parse(m.Body ?? '') as { id?: unknown }).id;
        if (typeof id === 'number') out.eventIds.push(id);
      } catch {
        /* not an event body */
      }
    }
    if (failed.size) throw new Error(`SQS refused ${failed.size} replayed message(s): ${sent.Failed?.[0]?.Message ?? ''}`);
  }
}
