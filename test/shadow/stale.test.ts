// Stale is not wrong, on a virtual clock: a quiet write (a script with events off) sampled before the reconcile pass is a stale verdict, repaired at once, never quarantined; a corrupted cached entity (same version, different value) still quarantines; a quarantine lifts once a reconcile pass brought its suspects back; the adaptive reconcile interval speeds up under quiet writes and settles back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context, SQSEvent } from 'aws-lambda';
import { createVerifier } from '../../functions/verifier/app.js';
import { NO_EVENTS_SCRIPT } from '../../local/sim/credentials.js';
import { cacheStatus } from '../../shared/reads/index.js';
import { ShotgunClient, updateParams } from '../../shared/site/index.js';
import { MemoryShadowMetrics, QuarantineHealer, ShadowLedger, ShadowVerifier, shadowSample, type ShadowVerdict } from '../../shared/shadow/index.js';
import { ReconcilePace } from '../../shared/store/index.js';
import { Reconciler, shadowPorts, validatorFor } from '../../shared/sync/index.js';
import { applyEventsAfter, cond, engine, importAll, readParams, schema, startRig, type Rig } from '../sync/helpers.js';

type Row = Record<string, any>;
/** One timeline for the site's clock (updated_at, event created_at), the verifier's rounds and the reconciler's passes. */
let clock = Date.parse('2025-06-10T10:00:00Z');
const now = () => clock;
let rig: Rig;
let quiet: ShotgunClient;
let ledger: ShadowLedger;
let pace: ReconcilePace;
let reconciler: Reconciler;
const metrics = new MemoryShadowMetrics();
const verdicts: Array<ShadowVerdict & { type: string }> = [];
const silent = { error: () => {}, warn: () => {}, debug: () => {} };
let handle: ReturnType<typeof createVerifier>;

const shotParams = (id: number) => readParams('Shot', [cond('id', 'is', id)], ['code', 'description', 'sg_cut_in', 'sg_sequence', 'updated_at']);
async function shots(): Promise<Row[]> {
  return (await rig.sg.call<{ entities: Row[] }>('read', readParams('Shot', [], ['code']))).entities;
}

/** What the API does on a hit: the cache's answer now, as the sample the verifier gets. */
async function sampleOfHit(params: Record<string, unknown>) {
  const r = await engine(rig).read(params);
  if (!r.served) throw new Error(`not served: ${r.reason}`);
  return { sample: shadowSample('read', params, r.result, 'ids', now()), answered: r.result as { entities: Row[] } };
}

/** One sample through the verifier function (the SQS record shape), as the shadow queue delivers it. */
async function verify(sample: unknown): Promise<ShadowVerdict & { type: string }> {
  const before = verdicts.length;
  const event = {
    Records: [
      {
        messageId: `m${before}`,
        body: JSON.stringify(sample),
        receiptHandle: 'r',
        attributes: {},
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn',
        awsRegion: 'us-east-1',
      },
    ],
  } as unknown as SQSEvent;
  const r = await handle(event, { getRemainingTimeInMillis: () => 60_000 } as Context);
  expect(r.batchItemFailures).toEqual([]);
  return verdicts[before];
}

beforeAll(async () => {
  rig = await startRig('stale', { entities: 60, seed: 19, now: () => new Date(clock) });
  quiet = new ShotgunClient({ url: rig.site.url, scriptName: NO_EVENTS_SCRIPT.name, scriptKey: NO_EVENTS_SCRIPT.key });
  expect((await importAll(rig)).complete).toBe(true);
  ledger = new ShadowLedger(rig.ctx.ddb, rig.ctx.tables.state);
  pace = new ReconcilePace(rig.ctx.doc, rig.ctx.tables.state);
  reconciler = new Reconciler({
    schema,
    store: rig.ctx.store,
    readiness: rig.ctx.readiness,
    fetcher: rig.ctx.fetcher,
    events: rig.ctx.events,
    lease: rig.ctx.lease,
    doc: rig.ctx.doc,
    stateTable: rig.ctx.tables.state,
  });
  // The verifier on the virtual clock: 4 s of rounds from 250 ms; the test applies events itself, so the poller's cursor is the site's head.
  const verifier = new ShadowVerifier({
    ...shadowPorts(rig.ctx, { onRepair: (n) => metrics.repaired(n) }),
    cursorHead: () => rig.ctx.events.latestId(),
    settleMs: 4000,
    roundMs: 250,
    now,
    sleep: async (ms) => {
      clock += ms;
    },
  });
  handle = createVerifier({ verifier, ledger, metrics, pace, now, logger: silent, onVerdict: (v) => verdicts.push(v) });
  // The first reconcile pass records where the scans start.
  await reconciler.run({ now, sweep: 'never', schemaDiff: 'never' });
  clock += 60_000;
}, 120_000);
afterAll(() => rig?.close());

describe('stale or wrong', () => {
  it('a quiet write sampled before the reconcile pass: stale verdict, repaired at once, no quarantine', async () => {
    const [shot] = await shots();
    clock += 5_000;
    await quiet.call('update', updateParams('Shot', shot.id, { description: 'written by a script with events off', sg_cut_in: 4321 }));
    // The cache still answers the old copy (a hit inside the sync window) ...
    const { sample, answered } = await sampleOfHit(shotParams(shot.id));
    expect(answered.entities[0].description).not.toBe('written by a script with events off');
    clock += 1_000;
    // ... and the verifier, seeing the site's newer updated_at, calls it stale and repairs the entity.
    const v = await verify(sample);
    expect(v.outcome).toBe('stale');
    expect(v.stale?.map((e) => [e.type, e.id])).toEqual([['Shot', shot.id]]);
    expect((v.stale?.[0].by as Row).name).toBe(NO_EVENTS_SCRIPT.name);
    expect(metrics.total('ShadowStale')).toBe(1);
    expect(metrics.staleByType.get('Shot')).toBe(1);
    expect(metrics.total('ShadowRepaired')).toBe(1);
    expect(metrics.total('ShadowMismatch')).toBe(0);
    // Repaired: the cache answers the site's values now, before any reconcile pass.
    const again = await engine(rig).read(shotParams(shot.id));
    const site = await rig.sg.call<{ entities: Row[] }>('read', shotParams(shot.id));
    expect(again.served && JSON.stringify(again.result)).toBe(JSON.stringify(site));
    // Not quarantined; counted; the writer recorded and the type's next scan asked for at once.
    const report = await ledger.report();
    expect(report.quarantined).toEqual([]);
    expect(report.counts).toMatchObject({ stale: 1, mismatched: 0 });
    const p = await pace.get('Shot');
    expect(p.hints).toBe(1);
    expect(p.nextAt).toBeLessThanOrEqual(now());
    expect(p.writers.map((w) => w.name)).toEqual([NO_EVENTS_SCRIPT.name]);
    // The measured window: the write had been unseen for the time since it (6 s and the verifier's rounds).
    expect(p.windows.length).toBe(1);
    expect(p.windows[0]).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('a quiet rename of a linked entity (the entity itself untouched) is stale too', async () => {
    const [shot] = (await rig.sg.call<{ entities: Row[] }>('read', readParams('Shot', [cond('sg_sequence', 'is_not', null)], ['sg_sequence']))).entities;
    clock += 5_000;
    await quiet.call('update', updateParams('Sequence', shot.sg_sequence.id, { code: 'SEQ_RENAMED_QUIETLY' }));
    const { sample } = await sampleOfHit(shotParams(shot.id));
    const v = await verify(sample);
    expect(v.outcome).toBe('stale');
    expect(v.stale?.map((e) => [e.type, e.id])).toEqual([['Sequence', shot.sg_sequence.id]]);
    expect((await ledger.report()).quarantined).toEqual([]);
  }, 60_000);

  it('an ordinary write whose event is not applied yet is left to the consumer: no repair, converged once it is applied', async () => {
    const [, shot] = await shots();
    const head = await rig.ctx.events.latestId();
    clock += 5_000;
    await rig.sg.call('update', updateParams('Shot', shot.id, { description: 'an ordinary write' }));
    const { sample } = await sampleOfHit(shotParams(shot.id));
    const repairedBefore = metrics.total('ShadowRepaired');
    // The consumer applies the event only after the verifier has classified a few rounds (a slow queue).
    let rounds = 0;
    const slow = new ShadowVerifier({
      ...shadowPorts(rig.ctx, { onRepair: (n) => metrics.repaired(n) }),
      cursorHead: () => rig.ctx.events.latestId(),
      async cacheAnswer(method, params) {
        if (++rounds === 4) await applyEventsAfter(rig, head);
        const r = await engine(rig).read(params);
        return r.served ? { results: r.result } : undefined;
      },
      settleMs: 4000,
      roundMs: 250,
      now,
      sleep: async (ms) => {
        clock += ms;
      },
    });
    const v = await slow.verify(sample);
    expect(v.outcome).toBe('converged');
    expect(rounds).toBe(4);
    expect(metrics.total('ShadowRepaired')).toBe(repairedBefore);
  }, 60_000);

  it('a corrupted cached entity (same version, different value) still quarantines the type; nothing is repaired', async () => {
    const [, , shot] = await shots();
    const repairedBefore = metrics.total('ShadowRepaired');
    // The cached copy only, at a version no event or re-read beats, updated_at untouched: as a misapplied write would leave it.
    expect((await rig.ctx.store.applyChange('Shot', shot.id, { description: 'corrupted in the cache' }, 2_000_000_000)).status).toBe('applied');
    const { sample } = await sampleOfHit(shotParams(shot.id));
    const v = await verify(sample);
    expect(v.outcome).toBe('mismatch');
    expect(v.evidence?.differences).toEqual([{ id: shot.id, fields: ['description'] }]);
    expect(metrics.total('ShadowRepaired')).toBe(repairedBefore);
    expect((await ledger.report()).quarantined.map((q) => [q.type, q.suspects])).toEqual([['Shot', [shot.id]]]);

    // A reconcile pass cannot beat the corruption's version, so the re-check after it still differs: quarantined, next re-check on the backoff.
    const healer = healerOf();
    await reconciler.run({ now, sweep: 'never', schemaDiff: 'never', types: ['Shot'] });
    expect(await healer.run(new Set(['Shot']))).toMatchObject({ checked: ['Shot'], lifted: [] });
    const [q] = (await ledger.report()).quarantined;
    expect(q).toMatchObject({ type: 'Shot', rechecks: 1 });
    expect(Date.parse(q.nextRecheckAt!)).toBe(now() + 30_000);
    // Not due before the backoff; then still differing, the backoff doubles.
    expect(await healer.run(new Set())).toMatchObject({ checked: [], waiting: ['Shot'] });
    clock += 30_000;
    expect(await healer.run(new Set())).toMatchObject({ checked: ['Shot'], lifted: [] });
    expect(Date.parse((await ledger.report()).quarantined[0].nextRecheckAt!)).toBe(now() + 60_000);

    // The truth written over it (an operator's repair), the next due re-check lifts the quarantine.
    const truth = await rig.ctx.fetcher.one('Shot', shot.id);
    expect((await rig.ctx.store.putEntity(truth!, 2_000_000_001)).status).toBe('applied');
    clock += 60_000;
    expect(await healer.run(new Set())).toMatchObject({ checked: ['Shot'], lifted: ['Shot'] });
    expect((await ledger.report()).quarantined).toEqual([]);
    expect(metrics.total('ShadowLifted')).toBe(1);
  }, 60_000);

  it('a quiet write in the same second as an applied event looks wrong (equal updated_at): quarantined, and lifted after the next reconcile pass', async () => {
    const [, , , shot] = await shots();
    clock += 5_000;
    const head = await rig.ctx.events.latestId();
    // An ordinary write, applied by the consumer, then a quiet one within the same second of the site's clock.
    await rig.sg.call('update', updateParams('Shot', shot.id, { description: 'ordinary write' }));
    await applyEventsAfter(rig, head);
    await quiet.call('update', updateParams('Shot', shot.id, { description: 'quiet write, same second' }));
    const { sample } = await sampleOfHit(shotParams(shot.id));
    const v = await verify(sample);
    expect(v.outcome).toBe('mismatch');
    expect((await ledger.report()).quarantined.map((q) => q.type)).toEqual(['Shot']);

    // Before any pass nothing is re-checked; the pass scans Shot (its pace asks for it at once), then the re-check matches and lifts it.
    const healer = healerOf();
    expect(await healer.run(new Set())).toMatchObject({ checked: [], waiting: ['Shot'] });
    clock += 15_000;
    const out = await reconciler.run({ now, sweep: 'never', schemaDiff: 'never', pace: { baseMs: 60_000, floorMs: 10_000 } });
    expect(Object.keys(out.types)).toContain('Shot');
    const heal = await healer.run(new Set(Object.keys(out.types)));
    expect(heal).toMatchObject({ checked: ['Shot'], lifted: ['Shot'] });
    expect((await ledger.report()).quarantined).toEqual([]);
    expect(metrics.total('ShadowLifted')).toBe(2);
  }, 60_000);
});

function healerOf(): QuarantineHealer {
  const verifier = new ShadowVerifier({ ...shadowPorts(rig.ctx), settleMs: 0, roundMs: 1 });
  const validator = validatorFor(rig.ctx);
  return new QuarantineHealer({
    ledger,
    metrics,
    now,
    recheck: (method, type, params) => verifier.recheck(method, type, params),
    suspectsDiffering: async (type, ids) => (await validator.differing(type, ids)).length,
  });
}

describe('the adaptive reconcile interval', () => {
  it('speeds up while scans find writes without events, down to the floor, and settles back to the base', async () => {
    const settings = { baseMs: 60_000, floorMs: 10_000 };
    const pass = async () => (await reconciler.run({ now, sweep: 'never', schemaDiff: 'never', types: ['Asset'], pace: settings })).types.Asset;
    const [asset] = (await rig.sg.call<{ entities: Row[] }>('read', readParams('Asset', [], ['code']))).entities;
    // A pass with nothing quiet: at the base.
    clock += 120_000;
    expect(await pass()).toMatchObject({ quiet: 0, intervalMs: 60_000 });
    const intervals: number[] = [];
    const windows: number[] = [];
    for (let i = 0; i < 4; i++) {
      const p = await pace.get('Asset');
      clock += 1_000;
      const wrote = Math.floor(clock / 1000) * 1000; // updated_at has 1 s resolution
      await quiet.call('update', updateParams('Asset', asset.id, { description: `quiet ${i}` }));
      // The pass when due, and at least IN_FLIGHT_MS after the write (a younger one may still have an event on the way).
      clock = Math.max(p.nextAt!, wrote + 20_000);
      windows.push(Math.round((clock - wrote) / 100) / 10);
      const r = await pass();
      expect(r.quiet).toBe(1);
      intervals.push(r.intervalMs!);
    }
    expect(intervals).toEqual([30_000, 15_000, 10_000, 10_000]);
    // Not due before its interval: the pass skips the type.
    const out = await reconciler.run({ now, sweep: 'never', schemaDiff: 'never', types: ['Asset'], pace: settings });
    expect(out.notDue).toEqual(['Asset']);
    // Quiet again: doubling back to the base.
    const settle: number[] = [];
    for (let i = 0; i < 4; i++) {
      clock = (await pace.get('Asset')).nextAt!;
      settle.push((await pass()).intervalMs!);
    }
    expect(settle).toEqual([20_000, 40_000, 60_000, 60_000]);
    // Who made them and the measured window: from each write's updated_at to the pass that found it.
    const report = (await pace.report(now())).Asset;
    expect(report.writers.map((w) => w.name)).toEqual([NO_EVENTS_SCRIPT.name]);
    expect(report.quietWrites).toBe(4);
    const sorted = [...windows].sort((a, b) => a - b);
    expect(report.windowSeconds).toEqual({ last: windows[3], median: sorted[2], max: sorted[3], samples: 4 });
    expect(report.intervalSeconds).toBe(60);
    // GET /status carries it as syncWindow (types never paced are not listed).
    const status = cacheStatus(schema, await rig.ctx.readiness.load(), { version: 'test', upstream: rig.site.url, syncWindow: await pace.report(now()) });
    expect(status.syncWindow?.Asset).toEqual(report);
    expect(cacheStatus(schema, await rig.ctx.readiness.load(), { version: 'test', upstream: rig.site.url, syncWindow: {} }).syncWindow).toBeUndefined();
  }, 60_000);
});
