// Test helper: one poll of the real poll loop over the site's event log with the hook the poller function installs (generation bumps; events go nowhere else).
import { expect } from 'vitest';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { generationBumper } from '../../shared/reads/index.js';
import { PollerLease, runPoller, ShotgunEventSource } from '../../shared/sync/index.js';
import { NO_POLLER_METRICS } from '../sync/helpers.js';
import { schema, type Harness } from './harness.js';

/** Polls once; returns how many events it saw. */
export async function pollOnce(h: Harness, ddb: DynamoDBClient): Promise<number> {
  let polls = 0;
  const run = await runPoller({
    lease: new PollerLease(DynamoDBDocumentClient.from(ddb), h.tables.state, 30_000),
    source: new ShotgunEventSource(h.site),
    sink: { send: async () => {} },
    schema: schema.site,
    metrics: NO_POLLER_METRICS,
    pollIntervalMs: 1,
    deadline: Date.now() + 60_000,
    clock: { now: () => Date.now(), sleep: async () => {} },
    shouldStop: () => polls > 0,
    onPoll: () => {
      polls++;
    },
    onEvents: generationBumper(ddb, h.tables.state),
  });
  expect(run.status).toBe('done');
  return run.forwarded + run.dropped;
}
