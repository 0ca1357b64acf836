// A completed full re-import puts a quarantined type back in service; an import run with nothing to do leaves it quarantined.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importerFor } from '../../shared/sync/index.js';
import { ShadowLedger } from '../../shared/shadow/index.js';
import { importAll, startRig, type Rig } from '../sync/helpers.js';

let rig: Rig;
beforeAll(async () => {
  rig = await startRig('reimport', { entities: 40 });
});
afterAll(async () => {
  await rig?.close();
});

describe('re-import and the shadow quarantine', () => {
  it('clears the quarantine of every type a full import completes', async () => {
    expect((await importAll(rig)).complete).toBe(true);
    const ledger = new ShadowLedger(rig.ctx.ddb, rig.ctx.tables.state);
    await ledger.record('mismatch', ['Shot', 'Sequence'], { shape: 'read Shot [sg_sequence.Sequence.code is]', ids: [1] });
    expect((await ledger.report()).quarantined.map((q) => q.type)).toEqual(['Sequence', 'Shot']);

    // Nothing to import: the quarantine stays.
    expect((await importerFor(rig.ctx).run()).complete).toBe(true);
    expect((await ledger.report()).quarantined.map((q) => q.type)).toEqual(['Sequence', 'Shot']);

    // `fpt-cache import --full`: every type re-imported, both back in service.
    await rig.ctx.importState.requestFull('test');
    const outcome = await importerFor(rig.ctx).run({ typeConcurrency: 2 });
    expect(outcome.complete).toBe(true);
    expect(outcome.written).toBeGreaterThan(0);
    expect((await ledger.report()).quarantined).toEqual([]);
  }, 120_000);
});
