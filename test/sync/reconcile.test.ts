// Reconciliation (writes by a script with events off, the id sweep) and validation (counts and field-by-field drift).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createParams, deleteParams, updateParams, ShotgunClient } from '../../shared/site/index.js';
import { Reconciler, Validator, MemorySyncMetrics } from '../../shared/sync/index.js';
import { NO_EVENTS_SCRIPT } from '../../local/sim/credentials.js';
import { both, cond, importAll, readParams, schema, startRig, type Rig } from './helpers.js';

type Row = Record<string, any>;
let rig: Rig;
let quiet: ShotgunClient;
let reconciler: Reconciler;
let validator: Validator;
const metrics = new MemorySyncMetrics();

async function find(type: string, conditions: unknown[], fields: string[]): Promise<Row[]> {
  return (await rig.sg.call<{ entities: Row[] }>('read', readParams(type, conditions, fields))).entities;
}
async function same(type: string, conditions: unknown[], fields: string[], extra: Row = {}): Promise<void> {
  const { site, cache } = await both(rig, readParams(type, conditions, fields, extra));
  expect(JSON.stringify(cache)).toBe(JSON.stringify(site));
}

beforeAll(async () => {
  let clock = Date.parse('2025-06-10T10:00:00Z');
  rig = await startRig('reconcile', { entities: 120, seed: 31, now: () => new Date((clock += 1000)) });
  quiet = new ShotgunClient({ url: rig.site.url, scriptName: NO_EVENTS_SCRIPT.name, scriptKey: NO_EVENTS_SCRIPT.key });
  expect((await importAll(rig)).complete).toBe(true);
  reconciler = new Reconciler({
    schema,
    store: rig.ctx.store,
    readiness: rig.ctx.readiness,
    fetcher: rig.ctx.fetcher,
    events: rig.ctx.events,
    lease: rig.ctx.lease,
    doc: rig.ctx.doc,
    stateTable: rig.ctx.tables.state,
    metrics,
  });
  validator = new Validator({ schema, store: rig.ctx.store, readiness: rig.ctx.readiness, fetcher: rig.ctx.fetcher, client: rig.ctx.client, metrics });
  // The first pass records where the scans start (and sweeps once).
  await reconciler.run({ now: () => clock });
});
afterAll(() => rig?.close());

describe('reconciliation', () => {
  it('catches writes by a script with events off (changes, creations, renames) on the next pass', async () => {
    const [shot] = await find('Shot', [cond('sg_sequence', 'is_not', null)], ['code', 'sg_sequence', 'project']);
    const before = await rig.ctx.events.latestId();
    await quiet.call('update', updateParams('Shot', shot.id, { description: 'written without events', sg_cut_in: 777 }));
    const created = await quiet.call<Row>('create', createParams('Shot', { code: 'SH_QUIET', project: shot.project, sg_sequence: shot.sg_sequence }));
    await quiet.call('update', updateParams('Sequence', shot.sg_sequence.id, { code: 'SEQ_QUIET' }));
    expect(await rig.ctx.events.latestId()).toBe(before);

    // The validator sees the drift before reconciliation (and exits non-zero in the CLI).
    const drift = await validator.run({ types: ['Shot', 'Sequence'], data: 50, recheckMs: 0 });
    expect(drift.drift).toBeGreaterThan(0);
    expect(drift.types.find((t) => t.type === 'Shot')!.differing.some((d) => d.id === shot.id && d.fields.includes('description'))).toBe(true);

    const out = await reconciler.run({ sweep: 'never' });
    expect(out.types.Shot.applied).toBeGreaterThanOrEqual(2);
    await same('Shot', [cond('id', 'in', shot.id, created.id)], ['code', 'description', 'sg_cut_in', 'sg_sequence', 'updated_at', 'updated_by']);
    await same('Shot', [cond('sg_sequence', 'is', shot.sg_sequence)], ['code', 'sg_sequence']);
    expect(metrics.total('ReconciledEntities')).toBeGreaterThan(0);

    const clean = await validator.run({ types: ['Shot', 'Sequence'], data: 'all', recheckMs: 0 });
    expect(clean.drift).toBe(0);
    expect(metrics.last.get('Drift')?.value).toBe(0);
  });

  it('sweeps ids: a retirement without events is corrected, an id the site no longer has is removed', async () => {
    const [task] = await find('Task', [], ['content']);
    await quiet.call('delete', deleteParams('Task', task.id));
    // A cached entity the site does not have at all (as after a hard delete).
    await rig.ctx.store.putEntity({ type: 'Task', id: 99_999_999, retired: false, values: { content: 'ghost' } }, 1);
    const counts = await validator.run({ types: ['Task'], data: 0, recheckMs: 0 });
    expect(counts.drift).toBe(1);
    const out = await reconciler.run({ sweep: 'always', types: ['Task'] });
    expect(out.types.Task).toMatchObject({ refetched: 1, vanished: 1 });
    expect(await rig.ctx.store.get('Task', 99_999_999)).toBeUndefined();
    await same('Task', [cond('id', 'is', task.id)], ['content'], { return_only: 'retired' });
    await same('Task', [cond('id', 'is', task.id)], ['content']);
    expect((await validator.run({ types: ['Task'], data: 0, recheckMs: 0 })).drift).toBe(0);
  });
});
