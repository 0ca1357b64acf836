// Schema changes end to end: a field's type changed on the simulated site -> DisplayColumn event -> the consumer's diff records drift
// (reads touching the field pass through over HTTP, /status and SchemaDrift report it) -> a deploy matching the site clears it and the
// field is backfilled before it is served; a field newly added to the schema file is not served until backfilled.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSEvent } from 'aws-lambda';
import { createApiHandler } from '../../functions/api/app.js';
import { createConsumerHandler, type ConsumerHandler } from '../../functions/consumer/app.js';
import { createReconcileRunner } from '../../functions/reconciler/app.js';
import { startLocalApiGateway, type LocalApiGateway } from '../../local/api-gateway.js';
import { API_FUNCTION } from '../../local/functions.js';
import { DEFAULT_SCRIPT } from '../../local/sim/credentials.js';
import { parseAccessRules } from '../../shared/reads/index.js';
import { readParams, updateParams, wireCondition as cond } from '../../shared/site/index.js';
import type { CachedSchema } from '../../shared/schema/index.js';
import {
  type ApplyOutcome,
  messageGroupId,
  type EventRow,
  Importer,
  importPending,
  syncContextFromEnv,
  type SyncContext,
  MemorySyncMetrics,
} from '../../shared/sync/index.js';
import { EntityStore } from '../../shared/store/index.js';
import { postRpc, httpRequest, type RawResponse } from '../stack/http.js';
import { importAll, schema, startRig, type Rig } from './helpers.js';
import { editedSchema } from './schema-edits.js';

type Row = Record<string, any>;
const SCRIPT = { script_name: DEFAULT_SCRIPT.name, script_key: DEFAULT_SCRIPT.key };
const quiet = () => new Logger({ serviceName: 'test-schema-changes', logLevel: 'SILENT' });
const lambdaContext = { getRemainingTimeInMillis: () => 300_000, functionName: 'test', awsRequestId: 'test' } as unknown as Context;

interface Api {
  gw: LocalApiGateway;
  read(params: Row): Promise<RawResponse>;
  status(): Promise<Row>;
  close(): Promise<void>;
}

/** The real API handler behind the local API Gateway, deployed with `deployed` over the rig's tables. */
async function startApi(rig: Rig, deployed: CachedSchema): Promise<Api> {
  const handler = createApiHandler({
    shotgun: { url: rig.site.url, timeoutMs: 10_000, maxAttempts: 2 },
    logger: quiet(),
    api: { readinessCacheMs: 1 },
    cache: {
      schema: deployed,
      ddb: rig.ctx.ddb,
      tables: rig.ctx.tables,
      accessRules: parseAccessRules(undefined),
      scriptAuth: async () => SCRIPT,
      responseCache: { enabled: false },
    },
  });
  const gw = await startLocalApiGateway({ port: 0, fn: API_FUNCTION.fn, handler });
  return {
    gw,
    read: (params) => postRpc(`${gw.url}/api3/json`, { method_name: 'read', params: [SCRIPT, params] }),
    status: async () => (await httpRequest(`${gw.url}/status`, { method: 'GET', headers: { 'x-fpt-cache-script-key': DEFAULT_SCRIPT.key } })).json() as Row,
    close: () => gw.close(),
  };
}

/** Feeds the events after `afterId` to the consumer handler as one SQS FIFO batch (none may fail); returns the last id. */
async function consume(rig: Rig, consumer: ConsumerHandler, afterId: number): Promise<number> {
  const rows = await rig.ctx.events.readAfter(afterId, 500);
  const event: SQSEvent = {
    Records: rows.map((ev: EventRow) => ({
      messageId: `m-${ev.id}`,
      receiptHandle: `r-${ev.id}`,
      body: JSON.stringify(ev),
      md5OfBody: '',
      messageAttributes: {},
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: '0',
        SenderId: 'test',
        ApproximateFirstReceiveTimestamp: '0',
        MessageGroupId: messageGroupId(ev),
        MessageDeduplicationId: `evt-${ev.id}`,
        SequenceNumber: String(ev.id),
      },
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:events.fifo',
      awsRegion: 'us-east-1',
    })),
  };
  const r = await consumer(event, lambdaContext);
  expect(r.batchItemFailures).toEqual([]);
  return rows.length ? rows[rows.length - 1].id : afterId;
}

const verdict = (r: RawResponse) => ({ cache: r.headers['x-fpt-cache'], reason: r.headers['x-fpt-cache-reason'] });
const results = (r: RawResponse) => (r.json() as { results: Row }).results;

describe('a cached field changes type on the site', () => {
  let rig: Rig;
  let api: Api;
  let consumer: ConsumerHandler;
  const outcomes = new Map<number, ApplyOutcome>();
  const metrics = new MemorySyncMetrics();
  const logger = quiet();
  const warn = vi.spyOn(logger, 'warn');
  let cursor = 0;
  let shots: Row[] = [];

  beforeAll(async () => {
    rig = await startRig('schema-changes', { entities: 120, seed: 11 });
    expect((await importAll(rig)).complete).toBe(true);
    cursor = await rig.ctx.events.latestId();
    api = await startApi(rig, schema);
    consumer = await createConsumerHandler(rig.env, { ctx: rig.ctx, metrics, logger, onApplied: (ev, o) => outcomes.set(ev.id, o) });
    shots = (await rig.sg.call<{ entities: Row[] }>('read', readParams('Shot', [cond('sg_cut_order', 'is_not', null)], ['code', 'sg_cut_order']))).entities;
    expect(shots.length).toBeGreaterThan(3);
  });
  afterAll(async () => {
    await api?.close();
    await rig?.close();
  });

  const byCutOrder = () => readParams('Shot', [cond('sg_cut_order', 'is_not', null)], ['code'], { sorts: [{ field_name: 'id', direction: 'asc' }] });
  const returning = () => readParams('Shot', [], ['code', 'sg_cut_order'], { sorts: [{ field_name: 'id', direction: 'asc' }] });
  const otherFields = () =>
    readParams('Shot', [cond('sg_cut_in', 'greater_than', 0)], ['code', 'sg_cut_in', 'sg_sequence'], { sorts: [{ field_name: 'id', direction: 'asc' }] });

  it('before: reads of the field are hits', async () => {
    for (const p of [byCutOrder(), returning(), otherFields()]) expect(verdict(await api.read(p)).cache).toBe('hit');
  });

  it('the DisplayColumn event makes the consumer diff the schema: the field is drifted, passes through, and /status reports it', async () => {
    const eventId = rig.site.control.changeField({ type: 'Shot', field: 'sg_cut_order', data_type: 'text' });
    cursor = await consume(rig, consumer, cursor);
    expect(outcomes.get(eventId)).toMatchObject({ action: 'schema-change', drift: { detected: 1, total: 1 } });

    for (const p of [byCutOrder(), returning()]) {
      const r = await api.read(p);
      expect(verdict(r).cache).toBe('pass');
      expect(r.body.toString()).toBe((await postRpc(`${rig.site.url}/api3/json`, { method_name: 'read', params: [SCRIPT, p] })).body.toString());
    }
    expect(verdict(await api.read(otherFields())).cache).toBe('hit');

    const status = await api.status();
    expect(status.schemaDrift).toEqual([
      expect.objectContaining({ type: 'Shot', field: 'sg_cut_order', kind: 'type-changed', deployed: 'number', site: 'text' }),
    ]);
    expect(status.types.Shot).toMatchObject({ ready: true, drifted: ['sg_cut_order'] });
    expect(status.types.Shot.fields).toBe(status.types.Shot.of - 1);
    expect(metrics.last.get('SchemaDrift')?.value).toBe(1);
    const line = warn.mock.calls.find(([m]) => String(m).includes('fpt-cache schema dump'));
    expect(line?.[1]).toMatchObject({ schemaDrift: true, type: 'Shot', field: 'sg_cut_order', kind: 'type-changed', deployed: 'number', site: 'text' });
  });

  it('the consumer stops applying the drifted field but keeps applying the others; the import does not try to backfill it', async () => {
    const [a, b] = shots;
    await rig.sg.call('update', updateParams('Shot', a.id, { sg_cut_order: 'A-7', sg_cut_in: 1234 }));
    await rig.sg.call('update', updateParams('Shot', b.id, { sg_cut_order: null }));
    cursor = await consume(rig, consumer, cursor);
    const reasons = [...outcomes.values()].map((o) => o.reason);
    expect(reasons).toContain('drifted field Shot.sg_cut_order');
    const stored = await rig.ctx.store.get('Shot', a.id);
    expect(stored?.record.values.sg_cut_in).toBe(1234);
    expect(stored?.record.values.sg_cut_order).toBe(a.sg_cut_order);
    expect(await rig.importer.plan()).toEqual([]);
    expect(await importPending({ schema, readiness: rig.ctx.readiness, state: rig.ctx.importState })).toBe(false);
  });

  it('a deploy matching the site clears the drift; the field is backfilled (new values, unset ones unset) and only then served', async () => {
    const deployed = editedSchema((t) => {
      t.Shot.fields.sg_cut_order.data_type = 'text';
    });
    const ctx2: SyncContext = await syncContextFromEnv(rig.env, { schema: deployed });
    const api2 = await startApi(rig, deployed);
    try {
      const reconcileMetrics = new MemorySyncMetrics();
      const { reconciler } = createReconcileRunner({ ctx: ctx2, metrics: reconcileMetrics, logger: quiet() });
      const pass = await reconciler.run({ sweep: 'never' });
      expect(pass.schemaDiff).toMatchObject({ drifted: 0, cleared: 1 });
      expect(reconcileMetrics.last.get('SchemaDrift')?.value).toBe(0);
      expect((await api2.status()).schemaDrift).toBeUndefined();
      // The full diff runs at most every SCHEMA_DIFF_INTERVAL_MS; with no drift recorded the next pass runs none.
      expect((await reconciler.run({ sweep: 'never' })).schemaDiff).toBeUndefined();

      // Not served until rebuilt.
      expect(verdict(await api2.read(byCutOrder())).cache).toBe('pass');
      const importer = new Importer({
        schema: deployed,
        store: ctx2.store,
        readiness: ctx2.readiness,
        state: ctx2.importState,
        lease: ctx2.lease,
        events: ctx2.events,
        fetcher: ctx2.fetcher,
      });
      expect(await importer.plan()).toEqual([{ type: 'Shot', mode: 'backfill', fields: ['sg_cut_order'] }]);
      expect((await importer.run()).complete).toBe(true);

      const exact = async (p: Row) => {
        const r = await api2.read(p);
        expect(verdict(r).cache, JSON.stringify(p.filters)).toBe('hit');
        const site = await postRpc(`${rig.site.url}/api3/json`, { method_name: 'read', params: [SCRIPT, p] });
        expect(results(r)).toEqual(results(site));
        return results(r);
      };
      const all = await exact(returning());
      const [a, b] = shots;
      expect(all.entities.find((e: Row) => e.id === a.id).sg_cut_order).toBe('A-7');
      expect(all.entities.find((e: Row) => e.id === b.id).sg_cut_order).toBeNull();
      expect(all.entities.filter((e: Row) => e.sg_cut_order !== null).every((e: Row) => typeof e.sg_cut_order === 'string')).toBe(true);
      await exact(readParams('Shot', [cond('sg_cut_order', 'is', 'A-7')], ['code', 'sg_cut_order']));
      await exact(byCutOrder());
      await exact(otherFields());

      // The previous deployment (field still `number`) no longer serves it: the recorded definition differs from its own.
      expect(verdict(await api.read(byCutOrder())).cache).toBe('pass');
      expect(verdict(await api.read(otherFields())).cache).toBe('hit');

      // The new deployment's consumer applies the field again.
      const consumer2 = await createConsumerHandler(rig.env, { ctx: ctx2, metrics: new MemorySyncMetrics(), logger: quiet() });
      await rig.sg.call('update', updateParams('Shot', a.id, { sg_cut_order: 'A-8' }));
      cursor = await consume(rig, consumer2, cursor);
      await exact(readParams('Shot', [cond('id', 'is', a.id)], ['code', 'sg_cut_order']));
    } finally {
      await api2.close();
      ctx2.destroy();
    }
  });
});

describe('a field added to the schema file', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig('schema-new-field', { entities: 60, seed: 12 });
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('is not served until backfilled, then is served exactly', async () => {
    const before = editedSchema((t) => {
      delete t.Shot.fields.sg_frame_rate;
    });
    const ctx1 = await syncContextFromEnv(rig.env, { schema: before });
    const importer1 = new Importer({
      schema: before,
      store: ctx1.store,
      readiness: ctx1.readiness,
      state: ctx1.importState,
      lease: ctx1.lease,
      events: ctx1.events,
      fetcher: ctx1.fetcher,
    });
    expect((await importer1.run()).complete).toBe(true);
    ctx1.destroy();

    const api = await startApi(rig, schema);
    try {
      const p = readParams('Shot', [cond('sg_frame_rate', 'is_not', null)], ['code', 'sg_frame_rate']);
      expect(verdict(await api.read(readParams('Shot', [], ['code']))).cache).toBe('hit');
      expect(verdict(await api.read(p)).cache).toBe('pass');
      expect((await api.status()).types.Shot).toMatchObject({ ready: true, of: Object.keys(schema.site.type('Shot')!.fields).length });
      expect(await rig.importer.plan()).toEqual([{ type: 'Shot', mode: 'backfill', fields: ['sg_frame_rate'] }]);
      expect((await importAll(rig)).complete).toBe(true);
      const r = await api.read(p);
      expect(verdict(r).cache).toBe('hit');
      const site = await postRpc(`${rig.site.url}/api3/json`, { method_name: 'read', params: [SCRIPT, p] });
      expect(results(r)).toEqual(results(site));
      expect(results(r).entities.length).toBeGreaterThan(0);
    } finally {
      await api.close();
    }
  });

  it("values stored under a field's previous data type do not break reading the entity, and the backfill replaces them", async () => {
    const changed = editedSchema((t) => {
      t.Shot.fields.sg_sequence = { data_type: 'text', name: 'Sequence' };
      t.Shot.fields.description = { data_type: 'entity', name: 'Description', valid_types: ['Sequence'] };
    });
    const [seq] = (await rig.sg.call<{ entities: Row[] }>('read', readParams('Sequence', [], ['code']))).entities;
    const id = 990_001;
    await rig.ctx.store.putEntity(
      { type: 'Shot', id, retired: false, values: { code: 'OLD', description: 'text before', sg_sequence: { type: 'Sequence', id: seq.id, name: seq.code } } },
      1,
    );
    const after = new EntityStore(rig.ctx.ddb, rig.ctx.tables, changed);
    const read = await after.get('Shot', id);
    expect(read?.record.values).toEqual({ code: 'OLD' });
    await after.applyChange('Shot', id, { sg_sequence: 'SEQ text', description: { type: 'Sequence', id: seq.id, name: seq.code } }, 2, { refresh: true });
    const rebuilt = await after.get('Shot', id);
    expect(rebuilt?.record.values).toMatchObject({ code: 'OLD', sg_sequence: 'SEQ text', description: { type: 'Sequence', id: seq.id } });
    await after.removeEntity('Shot', id);
  });

  it("a field deleted on the site (no event) is found by the reconciler's periodic diff and passes through", async () => {
    const api = await startApi(rig, schema);
    try {
      const p = readParams('Shot', [], ['code', 'sg_hero']);
      expect(verdict(await api.read(p)).cache).toBe('hit');
      const metrics = new MemorySyncMetrics();
      const { reconciler } = createReconcileRunner({ ctx: rig.ctx, metrics, logger: quiet() });
      // The whole-schema digest: kept by a first full diff, unchanged by the next.
      await reconciler.run({ sweep: 'never', schemaDiff: 'always' });
      expect((await reconciler.run({ sweep: 'never', schemaDiff: 'always' })).schemaDiff).toMatchObject({ full: true, schemaChanged: false });
      const generation = await rig.ctx.readiness.schemaGeneration();
      await rig.ctx.readiness.recordSiteFields('Shot', ['code', 'sg_hero'], generation);
      expect(rig.site.control.changeField({ type: 'Shot', field: 'sg_hero', remove: true })).toBe(0);
      const pass = await reconciler.run({ sweep: 'always', schemaDiff: 'always' });
      expect(pass.schemaDiff).toMatchObject({ full: true, drifted: 1, detected: 1, schemaChanged: true });
      // Schema replies and the site's field names read before no longer stand; the names recorded were read again.
      expect(await rig.ctx.readiness.schemaGeneration()).toBe(generation + 1);
      expect((await rig.ctx.readiness.load()).siteFields.lacks('Shot', 'sg_hero')).toBe(true);
      expect(pass.types.Shot.swept).toBe(true);
      expect(metrics.last.get('SchemaDrift')?.value).toBe(1);
      expect(verdict(await api.read(p)).cache).toBe('pass');
      expect(verdict(await api.read(readParams('Shot', [], ['code']))).cache).toBe('hit');
      expect((await api.status()).schemaDrift).toEqual([expect.objectContaining({ type: 'Shot', field: 'sg_hero', kind: 'removed', site: null })]);
      // Not due again, but drift is recorded: the next pass diffs the drifted types only.
      expect((await reconciler.run({ sweep: 'never' })).schemaDiff).toMatchObject({ full: false, types: 1, drifted: 1, detected: 0 });
    } finally {
      await api.close();
    }
  });
});
