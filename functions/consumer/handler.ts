// placeholder until the sync pipeline lands
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';

/** Applies nothing: every message is reported failed, so no event is lost before the real consumer exists (they reach the DLQ). */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  console.log(JSON.stringify({ level: 'WARN', message: 'consumer placeholder: events not applied', records: event.Records.length }));
  return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
}
