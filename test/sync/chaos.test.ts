// Chaos: a writer under transport faults and late commits, a poller that crashes between queueing and saving its
// cursor, a second poller taking over (and both running at once), then validation finds zero drift.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Logger } from '@aws-lambda-powertools/logger';
import { createParams, deleteParams, reviveParams, updateParams } from '../../shared/site/index.js';
import { runPoller, SqsEventSink, MemorySyncMetrics, Validator } from '../../shared/sync/index.js';
import { createConsumerHandler } from '../../functions/consumer/app.js';
import { createPollerHandler } from '../../functions/poller/app.js';
import { startLocalSqs, type LocalSqs } from '../../local/sqs-local.js';
import { startSqsEventSource, type SqsEventSource } from '../../local/sqs-event-source.js';
import { startScheduler, type Scheduler } from '../../local/scheduler.js';
import { prng } from '../store/helpers.js';
import { importAll, NO_POLLER_METRICS, readParams, schema, startRig, waitUntil, type Rig } from './helpers.js';

type Row = Record<string, any>;
let rig: Rig;
let sqs: LocalSqs;
let es: SqsEventSource;
const schedulers: Scheduler[] = [];
const metrics = new MemorySyncMetrics();
const quiet = new Logger({ serviceName: 'chaos', logLevel: 'CRITICAL' });
const noMetrics = NO_POLLER_METRICS;

beforeAll(async () => {
  sqs = await startLocalSqs({ port: 0 });
  rig = await startRig(
    'chaos',
    { entities: 60, seed: 51 },
    {
      EVENTS_QUEUE_URL: sqs.queueUrl,
      EVENTS_DLQ_URL: sqs.dlqUrl,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      POLL_INTERVAL_MS: '100',
      POLL_LOOP_MS: '2000',
      POLLER_LEASE_MS: '1500',
    },
  );
  expect((await importAll(rig)).complete).toBe(true);
  const consumer = await createConsumerHandler(rig.env, { metrics, logger: quiet, ctx: rig.ctx });
  es = startSqsEventSource({
    endpoint: sqs.endpoint,
    queueUrl: sqs.queueUrl,
    dlqUrl: sqs.dlqUrl,
    fn: { name: 'consumer', timeoutMs: 60_000 },
    handler: consumer,
    retryDelayMs: 200,
  });
});
afterAll(async () => {
  for (const s of schedulers) await s.stop();
  await es?.stop();
  await rig?.close();
  await sqs?.close();
});

async function writer(rounds: number): Promise<number> {
  const random = prng(99);
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
  const read = async (type: string, fields: string[], retired = false) =>
    (await rig.sg.call<{ entities: Row[] }>('read', readParams(type, [], fields, { return_only: retired ? 'retired' : 'active' }))).entities;
  const [shots, tasks, users, sequences] = await Promise.all([
    read('Shot', ['project']),
    read('Task', ['content']),
    read('HumanUser', ['name']),
    read('Sequence', ['code']),
  ]);
  let ok = 0;
  for (let i = 0; i < rounds; i++) {
    const shot = pick(shots);
    const task = pick(tasks);
    const op = Math.floor(random() * 8);
    try {
      if (op === 0)
        shots.push(
          await rig.sg.call<Row>(
            'create',
            createParams('Shot', { code: `CH_${i}`, project: shot.project, sg_sequence: { type: 'Sequence', id: pick(sequences).id } }, ['project']),
          ),
        );
      else if (op === 1) await rig.sg.call('update', updateParams('Shot', shot.id, { sg_cut_in: i, description: `round ${i}` }));
      else if (op === 2)
        await rig.sg.call(
          'update',
          updateParams('Task', task.id, { task_assignees: [{ type: 'HumanUser', id: pick(users).id }] }, { task_assignees: random() < 0.5 ? 'add' : 'set' }),
        );
      else if (op === 3)
        await rig.sg.call('update', updateParams('Task', task.id, { entity: { type: 'Shot', id: shot.id }, sg_status_list: pick(['wtg', 'ip', 'fin']) }));
      else if (op === 4) await rig.sg.call('update', updateParams('Sequence', pick(sequences).id, { code: `SEQ_${i}` }));
      else if (op === 5) await rig.sg.call('update', updateParams('Shot', shot.id, { sg_sequence: { type: 'Sequence', id: pick(sequences).id } }));
      else if (op === 6) await rig.sg.call('delete', deleteParams('Shot', shot.id));
      else {
        const retired = await read('Shot', ['code'], true);
        if (retired.length) await rig.sg.call('revive', reviveParams('Shot', pick(retired).id));
      }
      ok++;
    } catch {
      // A fault on the write path (lost reply, refused write, a retired target): the site's state is the truth either way.
    }
  }
  return ok;
}

/**
 * On drift, what a maintainer needs to find the cause (printed only then): both sides of each drifting entity and
 * every logged event that names it (as the entity, in its meta, or as a link value).
 */
async function explainDrift(entities: Array<{ type: string; id: number; fields: string[] }>): Promise<void> {
  const events: Awaited<ReturnType<typeof rig.ctx.events.readAfter>> = [];
  for (let after = 0; ;) {
    const page = await rig.ctx.events.readAfter(after, 500);
    events.push(...page);
    if (page.length < 500) break;
    after = page[page.length - 1].id;
  }
  for (const e of entities) {
    const fields = e.fields.filter((f) => !f.startsWith('('));
    const [site, cached] = await Promise.all([rig.ctx.fetcher.one(e.type, e.id, fields), rig.ctx.store.get(e.type, e.id)]);
    const needle = `"type":"${e.type}","id":${e.id}`;
    const named = events.filter((ev) => JSON.stringify(ev).includes(needle) || JSON.stringify(ev).includes(`"entity_type":"${e.type}","entity_id":${e.id}`));
    console.error(
      JSON.stringify(
        {
          drift: e,
          site: site?.values,
          siteRetired: site?.retired,
          cache: cached?.record.values,
          cacheRetired: cached?.record.retired,
          events: named.map((ev) => ({ id: ev.id, event_type: ev.event_type, attribute: ev.attribute_name, entity: ev.entity, meta: ev.meta })),
        },
        null,
        1,
      ),
    );
  }
}

describe('chaos', () => {
  it('ends with zero drift after faults, late commits, a crashed poller and a second one', async () => {
    rig.site.control.setFaultRates({ http502: 0.03, reset: 0.02 });
    rig.site.control.setEventDelay({ probability: 0.2, delayMs: 300 });

    // Poller A queues events, then crashes before saving its cursor twice in a row: its lease stays until it expires.
    let sends = 0;
    const real = new SqsEventSink(rig.ctx.sqs, sqs.queueUrl);
    const crashing = {
      send: async (evs: Parameters<SqsEventSink['send']>[0]) => {
        await real.send(evs);
        if (++sends >= 3) throw new Error('poller A killed');
      },
    };
    const pollerA = runPoller({
      lease: rig.ctx.lease,
      source: rig.ctx.events,
      sink: crashing,
      schema: schema.site,
      metrics: noMetrics,
      pollIntervalMs: 100,
      deadline: Date.now() + 60_000,
    });
    const writing = writer(100);
    await expect(pollerA).rejects.toThrow('poller A killed');

    // Pollers B and C (two schedules at once, as overlapping Lambda invocations would be): the lease lets one work.
    for (const name of ['B', 'C']) {
      const handler = await createPollerHandler(rig.env, { metrics, logger: quiet });
      const s = startScheduler([{ fn: { name: `poller-${name}`, timeoutMs: 15_000 }, handler, everyMs: 50 }]);
      schedulers.push(s);
    }
    expect(await writing).toBeGreaterThan(40);
    rig.site.control.clearFaults();
    rig.site.control.setEventDelay({ probability: 0, delayMs: 0 });

    // Drain: every event logged is forwarded and applied.
    const latest = await rig.ctx.events.latestId();
    await waitUntil(
      'the cursor to reach the last event',
      async () => {
        const c = (await rig.ctx.lease.read()).cursor;
        return c !== null && c.maxSeen >= latest && Object.keys(c.backlog).length === 0;
      },
      60_000,
    );
    await waitUntil(
      'the queue to drain',
      () => {
        const st = es.stats();
        return st.buffered === 0 && st.inFlightBatches === 0;
      },
      60_000,
    );
    expect(es.stats().movedToDlq).toBe(0);

    const validator = new Validator({ schema, store: rig.ctx.store, readiness: rig.ctx.readiness, fetcher: rig.ctx.fetcher, client: rig.ctx.client });
    const report = await validator.run({ data: 'all', recheckMs: 2000 });
    const drifting = report.types.filter((t) => t.differing.length || t.site.active !== t.cache.active || t.site.retired !== t.cache.retired);
    if (drifting.length) await explainDrift(drifting.flatMap((t) => t.differing.slice(0, 3).map((d) => ({ type: t.type, id: d.id, fields: d.fields }))));
    expect(JSON.stringify(drifting.map((t) => ({ type: t.type, site: t.site, cache: t.cache, differing: t.differing.slice(0, 5) })))).toBe('[]');
    expect(report.drift).toBe(0);
  }, 180_000);
});
