// Validation's count windows (issue 25): a type larger than the window is counted one id range per run, the ranges cover every id once per cycle, and a count drift anywhere is found in the run whose range holds it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountWindows } from '../../shared/store/index.js';
import { Validator, type TypeValidation } from '../../shared/sync/index.js';
import { importAll, schema, startRig, type Rig } from './helpers.js';

let rig: Rig;
let validator: Validator;
let stored: { active: number; retired: number; ids: number[] };
const WINDOW = 10;

beforeAll(async () => {
  rig = await startRig('windows', { entities: 120, seed: 33 });
  expect((await importAll(rig)).complete).toBe(true);
  validator = new Validator({
    schema,
    store: rig.ctx.store,
    readiness: rig.ctx.readiness,
    fetcher: rig.ctx.fetcher,
    client: rig.ctx.client,
    windows: new CountWindows(rig.ctx.doc, rig.ctx.tables.state),
  });
  const s = await rig.ctx.store.typeSummary('Task');
  stored = { active: s.ids.length - s.retired.size, retired: s.retired.size, ids: s.ids };
});
afterAll(() => rig?.close());

/** One validation run of Task's counts. */
const countRun = async (extra: { countWindow?: number | 'all' } = {}): Promise<TypeValidation> =>
  (await validator.run({ types: ['Task'], data: 0, recheckMs: 0, countWindow: WINDOW, ...extra })).types[0];

/** Runs until the window is back at the start; every run of one cycle. */
async function cycle(): Promise<TypeValidation[]> {
  const runs: TypeValidation[] = [];
  do runs.push(await countRun());
  while (runs[runs.length - 1].ids?.upTo !== undefined);
  return runs;
}

describe('validation count windows', () => {
  it('counts one window of ids per run, reading at most the window, and covers every id once per cycle', async () => {
    expect(stored.ids.length).toBeGreaterThan(3 * WINDOW);
    const w = await rig.ctx.store.countWindow('Task', 0, WINDOW);
    expect(w.stats.items).toBe(WINDOW);
    const runs = await cycle();
    expect(runs.length).toBe(Math.floor(stored.ids.length / WINDOW) + 1);
    for (let i = 0; i < runs.length; i++) {
      expect(runs[i].ids!.after).toBe(i === 0 ? 0 : runs[i - 1].ids!.upTo);
      expect(runs[i].cache).toEqual(runs[i].site);
    }
    const sum = (k: 'active' | 'retired') => runs.reduce((n, r) => n + r.cache[k], 0);
    expect({ active: sum('active'), retired: sum('retired') }).toEqual({ active: stored.active, retired: stored.retired });
    // Whole-type counts on request (and with data 'all'), as before windows.
    const whole = await countRun({ countWindow: 'all' });
    expect(whole.ids).toBeUndefined();
    expect(whole.cache).toEqual({ active: stored.active, retired: stored.retired });
    expect(whole.site).toEqual(whole.cache);
  });

  it('a missing and an extra entity are each found by the run whose window holds them, once per cycle', async () => {
    const gone = stored.ids[Math.floor(stored.ids.length / 2)];
    await rig.ctx.store.removeEntity('Task', gone);
    await rig.ctx.store.putEntity({ type: 'Task', id: 99_999_999, retired: false, values: { content: 'ghost' } }, 1);
    const runs = await cycle();
    const drifting = runs.filter((r) => r.site.active !== r.cache.active || r.site.retired !== r.cache.retired);
    expect(drifting.length).toBe(2);
    const holds = (r: TypeValidation, id: number) => id > r.ids!.after && (r.ids!.upTo === undefined || id <= r.ids!.upTo);
    expect(drifting.some((r) => holds(r, gone) && r.site.active + r.site.retired === r.cache.active + r.cache.retired + 1)).toBe(true);
    expect(drifting.some((r) => holds(r, 99_999_999) && r.cache.active === r.site.active + 1)).toBe(true);
  });
});
