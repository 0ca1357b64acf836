// The simulated site keeps its data across a restart when it has a dataDir (snapshot file), and seeds afresh without one.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestShotgun } from '../support/api3-client.js';
import { eventsAfter, lastEventId, scriptClient, startTestSite } from '../support/sim-site.js';

const dir = mkdtempSync(join(tmpdir(), 'fpt-sim-snapshot-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('snapshot', () => {
  it('a restart with the same dataDir keeps entities, retirements, events, id sequences and sessions', async () => {
    const first = await startTestSite({ dataDir: dir, entities: 120, snapshotDebounceMs: 20 });
    expect(existsSync(join(dir, 'site.json'))).toBe(true);
    const sg = await scriptClient(first);
    const start = await lastEventId(sg);
    const s = await sg.create('Shot', { code: 'SNAP_001', sg_cut_in: 1001 });
    const gone = await sg.create('Shot', { code: 'SNAP_002' });
    await sg.delete('Shot', gone.id as number);
    const token = await sg.getSessionToken();
    const events = await eventsAfter(sg, start);
    await first.control.flush();
    expect(JSON.parse(readFileSync(join(dir, 'site.json'), 'utf8'))).toMatchObject({ format: 'fpt-cache-sim/1', seed: 1 });
    await first.close();

    const second = await startTestSite({ dataDir: dir, entities: 120, seed: 99 });
    try {
      expect(second.seedMs).toBe(0); // loaded, not seeded
      const sg2 = await scriptClient(second);
      expect(await sg2.find('Shot', [['id', 'is', s.id]], ['code', 'sg_cut_in'])).toEqual([{ type: 'Shot', id: s.id, code: 'SNAP_001', sg_cut_in: 1001 }]);
      expect(await sg2.find('Shot', [['id', 'is', gone.id]], ['code'], null, { retiredOnly: true })).toHaveLength(1);
      expect(await eventsAfter(sg2, start)).toEqual(events);
      const next = await sg2.create('Shot', { code: 'SNAP_003' });
      expect(next.id).toBeGreaterThan(gone.id as number);
      expect((await eventsAfter(sg2, start)).at(-1)!.id).toBeGreaterThan(events.at(-1)!.id as number);
      const viaToken = await TestShotgun.connect(second.url, { sessionToken: token });
      expect(await viaToken.find('Shot', [['id', 'is', s.id]])).toHaveLength(1);
    } finally {
      await second.close();
    }
  });

  it('without a dataDir, every start is the fresh seed', async () => {
    const a = await startTestSite({ entities: 80 });
    const sga = await scriptClient(a);
    await sga.create('Shot', { code: 'MEM_ONLY' });
    await a.close();
    const b = await startTestSite({ entities: 80 });
    try {
      expect(await (await scriptClient(b)).find('Shot', [['code', 'is', 'MEM_ONLY']])).toEqual([]);
    } finally {
      await b.close();
    }
  });
});
