// Calibration in the sync pipeline: the import measures the site's rules before types come into service, the reconciler
// re-measures them on its schedule, `fpt-cache calibrate` shows them; the engine follows what was measured.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { calibrateCommand } from '../../local/commands/calibrate.js';
import { calibrationFor, importerFor, Reconciler } from '../../shared/sync/index.js';
import { both, cond, engine, readParams, schema, startRig, type Rig } from './helpers.js';

let rig: Rig;

beforeAll(async () => {
  rig = await startRig('calibrate', {
    entities: 150,
    seed: 5,
    semantics: { nullsAsc: 'first', nullsDesc: 'last', negationNulls: 'exclude', multiNegation: 'some', inNullScalar: 'sql' },
  });
}, 120_000);
afterAll(() => rig?.close());

async function capture(run: () => Promise<number>): Promise<{ code: number; text: string }> {
  let text = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    text += String(s);
    return true;
  });
  try {
    return { code: await run(), text };
  } finally {
    spy.mockRestore();
  }
}

describe('calibration in the sync pipeline', () => {
  it('the import measures the rules before the types are served, and the engine then answers as the site does', async () => {
    expect((await rig.ctx.readiness.load()).siteRules.status('nullsAsc')).toBe('assumed');
    expect((await importerFor(rig.ctx).run({ typeConcurrency: 2 })).complete).toBe(true);
    const rules = (await rig.ctx.readiness.load()).siteRules;
    expect(rules.report().nullsAsc).toMatchObject({ status: 'measured', value: 'first' });
    expect(rules.report().nullsDesc).toMatchObject({ status: 'measured', value: 'last' });
    expect(rules.report().negationNulls).toMatchObject({ status: 'measured', value: 'exclude' });
    expect(rules.report().nullsAsc.probe).toMatch(/sorted by .* asc/);
    expect(rules.report().multiNegation).toMatchObject({ status: 'measured', value: 'some' });
    expect(rules.report().inNullScalar).toMatchObject({ status: 'measured', value: 'sql' });
    // A sort on a nullable field, a negation over NULL rows, one through a multi-entity path, a None among not_in
    // values: served, and identical to the site.
    for (const params of [
      readParams('Shot', [], ['code', 'description'], { sorts: [{ field_name: 'description', direction: 'asc' }] }),
      readParams('Shot', [], ['code', 'description'], { sorts: [{ field_name: 'description', direction: 'desc' }] }),
      readParams('Task', [cond('due_date', 'is_not', '2025-01-01')], ['content', 'due_date']),
      readParams('Task', [cond('task_assignees.HumanUser.login', 'is_not', 'artist1')], ['content']),
      readParams('Task', [cond('due_date', 'not_in', '2025-01-01', null)], ['content']),
    ]) {
      const out = await engine(rig).read(params);
      expect(out.served).toBe(true);
      const { site, cache } = await both(rig, params);
      expect(JSON.stringify(cache)).toBe(JSON.stringify(site));
    }
  }, 120_000);

  it('the reconciler re-measures on its schedule: a site whose behaviour changed is followed on the next due pass', async () => {
    const reconciler = new Reconciler({
      schema,
      store: rig.ctx.store,
      readiness: rig.ctx.readiness,
      fetcher: rig.ctx.fetcher,
      events: rig.ctx.events,
      lease: rig.ctx.lease,
      doc: rig.ctx.doc,
      stateTable: rig.ctx.tables.state,
      calibrate: calibrationFor(rig.ctx),
    });
    rig.site.control.setSemantics({ nullsAsc: 'last', nullsDesc: 'first' });
    const first = await reconciler.run({ sweep: 'never' });
    expect(first.calibrated).toBe(true);
    expect((await rig.ctx.readiness.load()).siteRules.values).toMatchObject({ nullsAsc: 'last', nullsDesc: 'first', negationNulls: 'exclude' });
    // Not due again within the interval.
    expect((await reconciler.run({ sweep: 'never' })).calibrated).toBeUndefined();
    expect((await reconciler.run({ sweep: 'never', calibrationIntervalMs: 1 })).calibrated).toBe(true);
  }, 120_000);

  it('fpt-cache calibrate probes and shows each rule as measured or assumed; --show prints the stored rules', async () => {
    rig.site.control.setSemantics({ missingReturnField: 'null' });
    const probed = await capture(() => calibrateCommand([], rig.env));
    expect(probed.code).toBe(0);
    expect(probed.text).toMatch(/missingReturnField +null +measured/);
    expect(probed.text).toMatch(/probe: read .* return_fields \[id, fpt_cache_calibration_no_such_field, \w+\.\w+\.fpt_cache_calibration_no_such_field\]/);
    const shown = await capture(() => calibrateCommand(['--show'], rig.env));
    expect(shown.text).toMatch(/negationNulls +exclude +measured/);
    expect(shown.text).toMatch(/multiNegation +some +measured.*\n +probe: read \w+ id in \[E \d+ \(no \w+\), A \d+/);
    await expect(calibrateCommand(['--bogus'], rig.env)).rejects.toThrow(/unknown argument --bogus/);
  }, 120_000);
});
