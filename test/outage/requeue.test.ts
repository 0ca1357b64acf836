// The whole local stack killed while events wait in its in-memory queue: at the next start they are queued again from the pending markers, so nothing is lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { requeueLostEvents } from '../../local/sync-local.js';
import { PendingEvents } from '../../shared/store/index.js';
import { schema, waitUntil } from '../sync/helpers.js';
import { changeSite, compareWithSite, expectConverged, killCache, probeReads, startOutageRig, type OutageRig } from './rig.js';

let o: OutageRig;
beforeAll(async () => {
  o = await startOutageRig('requeue');
}, 120_000);
afterAll(() => o?.close());

/** Empties the event queue as a restart of the in-memory local SQS does. */
async function loseQueue(): Promise<number> {
  let lost = 0;
  for (;;) {
    const r = await o.rig.ctx.sqs.send(new ReceiveMessageCommand({ QueueUrl: o.sqs.queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }));
    const msgs = r.Messages ?? [];
    if (!msgs.length) return lost;
    await o.rig.ctx.sqs.send(
      new DeleteMessageBatchCommand({ QueueUrl: o.sqs.queueUrl, Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }),
    );
    lost += msgs.length;
  }
}

describe('the local stack killed with events queued and not applied', () => {
  it('queues them again at the next start from the pending markers, and converges', async () => {
    await waitUntil('every read to be a hit', async () => (await compareWithSite(o)).hits === probeReads().length);
    // The consumer stopped first: the poller forwards the changes, which wait in the queue (marked pending).
    await o.cache.events.stop();
    const before = (await o.rig.ctx.lease.read()).cursor!.maxSeen;
    await changeSite(o, 12, 300);
    const latest = await o.rig.ctx.events.latestId();
    expect(latest).toBeGreaterThan(before);
    await waitUntil('the poller to forward the changes', async () => (await o.rig.ctx.lease.read()).cursor!.maxSeen >= latest);
    await killCache(o);
    const pending = new PendingEvents(o.rig.ctx.ddb, o.env.STATE_TABLE);
    const marked = await pending.list([...schema.site.typeNames, '*']);
    expect(marked.length).toBeGreaterThan(0);
    // The in-memory queue is gone with the process.
    expect(await loseQueue()).toBeGreaterThan(0);

    // The next start: what the markers name is queued again before the poller resumes (local/stack.ts does this).
    const lines: string[] = [];
    expect(await requeueLostEvents(o.env, (l) => lines.push(l))).toBe(new Set(marked.map((m) => m.id)).size);
    await o.start();
    const { differing } = await compareWithSite(o);
    expect(differing).toEqual([]);
    await expectConverged(o);
    expect(await pending.list([...schema.site.typeNames, '*'])).toEqual([]);
  }, 120_000);
});
