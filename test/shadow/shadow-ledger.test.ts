// The shadow ledger on DynamoDB Local: outcome counts, mismatches per type, quarantine at the threshold, suspects kept, and clearing.
import { describe, expect, it } from 'vitest';
import { ShadowLedger } from '../../shared/shadow/index.js';
import { dynamo, freshTables } from '../store/helpers.js';

describe('ShadowLedger', () => {
  it('counts outcomes, quarantines every type a request reads once the threshold is reached, and clears', async () => {
    const ddb = dynamo();
    const tables = await freshTables(ddb, 'ledger');
    const ledger = new ShadowLedger(ddb, tables.state, 2);
    const shape = 'read Task [entity.Shot.code is]';
    expect(await ledger.record('matched', ['Task'], { shape })).toEqual([]);
    expect(await ledger.record('converged', ['Task'], { shape })).toEqual([]);
    expect(await ledger.record('unsettled', ['Task'], { shape })).toEqual([]);
    // One mismatch is below the threshold of 2; the second quarantines both types the request reads.
    expect(await ledger.record('mismatch', ['Task', 'Shot'], { shape, ids: [7, 9] })).toEqual([]);
    expect((await ledger.report()).quarantined).toEqual([]);
    expect(await ledger.record('mismatch', ['Task', 'Shot'], { shape, ids: [9, 11] })).toEqual(['Task', 'Shot']);
    // A third does not quarantine again.
    expect(await ledger.record('mismatch', ['Task'], { shape })).toEqual([]);
    const report = await ledger.report();
    expect(report.counts).toEqual({ checked: 6, matched: 2, converged: 1, mismatched: 3, stale: 0, unsettled: 1, skipped: 0 });
    expect(report.quarantined.map((q) => [q.type, q.reason, q.mismatches, q.suspects])).toEqual([
      ['Shot', 'shadow-mismatch', 2, []],
      ['Task', 'shadow-mismatch', 3, [7, 9, 11]],
    ]);

    const quarantine = ledger.quarantine(0);
    expect([...(await quarantine())].sort()).toEqual(['Shot', 'Task']);
    expect(await ledger.clear('Task', 'validate')).toBe(true);
    expect(await ledger.clear('Task', 'validate')).toBe(false);
    expect([...(await quarantine())]).toEqual(['Shot']);
    // Cleared, the count starts again from zero: one new mismatch is below the threshold.
    expect(await ledger.record('mismatch', ['Task'], { shape })).toEqual([]);
    expect((await ledger.report()).quarantined.map((q) => q.type)).toEqual(['Shot']);
    ddb.destroy();
  });
});
