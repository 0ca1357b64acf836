// Events a queue kept only in memory lost: the ones still marked pending are read from the site's event log again and queued, before the poller resumes.
//
// The local stack's SQS lives in memory (local/sqs-local.ts): a stop or a kill of the whole stack loses whatever was queued
// and not applied yet. The poller's markers (shared/store/pending-events.ts) are in DynamoDB and name exactly those events
// (written before each send, cleared once applied), so at the next start every marker left names an event to queue again.
// Re-queued events are applied as any redelivery is (versioned writes: one already applied is a no-op). In AWS the queue
// is durable and this never runs.
import type { SiteSchema } from '../schema/index.js';
import { ANY_TYPE, type PendingEvents } from '../store/index.js';
import type { EventRow } from './event-log.js';
import { isRelevant, type EventSink, type EventSource } from './poller.js';

export interface RequeueDeps {
  pending: Pick<PendingEvents, 'list' | 'migrateLegacy'>;
  source: Pick<EventSource, 'readIds'>;
  sink: EventSink;
  schema: SiteSchema;
  now?: () => number;
}

/** Queues again, in id order, every event a pending marker names; returns how many. Rows the site no longer has are skipped (their markers expire; the reconciler repairs). */
export async function requeuePending(d: RequeueDeps): Promise<number> {
  const keys = [...d.schema.typeNames, ANY_TYPE];
  await d.pending.migrateLegacy(keys);
  const marked = await d.pending.list(keys);
  const ids = [...new Set(marked.map((m) => m.id))].sort((a, b) => a - b);
  if (!ids.length) return 0;
  const rows: EventRow[] = [];
  for (let i = 0; i < ids.length; i += 100) rows.push(...(await d.source.readIds(ids.slice(i, i + 100))));
  const events = rows.filter((ev) => isRelevant(d.schema, ev)).sort((a, b) => a.id - b.id);
  if (events.length) await d.sink.send(events, `requeue-${(d.now ?? Date.now)()}`);
  return events.length;
}
