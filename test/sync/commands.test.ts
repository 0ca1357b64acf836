// The operator commands' output: the import progress (a bar on a terminal, plain lines otherwise) and the local /status sync report.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { progressRenderer } from '../../local/commands/sync.js';
import { releaseStackSync, stackSync, syncStatus } from '../../local/sync-local.js';
import type { ImportProgress } from '../../shared/sync/index.js';
import { importAll, startRig, type Rig } from './helpers.js';

const progress = (done: number, written: number, startedAt: number): ImportProgress => ({
  types: {
    Shot: { pass: 'done', mode: 'full', done: 100, total: 100 },
    Task: { pass: done < 400 ? 'active' : 'done', mode: 'full', done: done - 100, total: 300 },
  },
  done,
  total: 400,
  written,
  startedAt,
});

describe('import progress', () => {
  it('draws a bar with entities, rate and ETA on a terminal', () => {
    let screen = '';
    const bar = progressRenderer(
      true,
      (s) => {
        screen += s;
      },
      () => 10_000,
    );
    bar.update(progress(200, 200, 0));
    expect(screen).toContain('\r');
    expect(screen).toMatch(/\[#{12}-{12}\] 200\/400 entities {2}50% {2}20\/s {2}ETA 10s {2}Task$/);
    bar.done();
    expect(screen.endsWith('\n')).toBe(true);
  });

  it('writes plain lines, at most every 5 s and at the end, when not a terminal', () => {
    const lines: string[] = [];
    let now = 10_000;
    const bar = progressRenderer(
      false,
      (s) => {
        lines.push(s);
      },
      () => now,
    );
    bar.update(progress(100, 100, 0));
    now += 1000;
    bar.update(progress(150, 150, 0));
    now += 1000;
    bar.update(progress(400, 400, 0));
    expect(lines).toEqual(['import: 100/400 entities  25%  10/s  ETA 30s  (Task)\n', 'import: 400/400 entities  100%  33/s  ETA 0s\n']);
  });
});

describe('the local /status sync report', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig('status', { entities: 40, seed: 61 });
  });
  afterAll(async () => {
    await releaseStackSync(rig.env);
    await rig?.close();
  });

  it('is not ready before the import, reports per-type counts after it, and ready once the poller follows', async () => {
    const before = await syncStatus(rig.env);
    expect(before.ready).toBe(false);
    expect(Object.values(before.types).every((t) => !t.ready)).toBe(true);
    // Interrupted part-way (a crash or the Lambda timeout): the run's progress is reported, then resumed to the end.
    expect((await importAll(rig, { pageSize: 5, maxPages: 3, typeConcurrency: 1 })).complete).toBe(false);
    const partway = await syncStatus(rig.env);
    expect(partway.importing).toBe(true);
    const checkpointed = [...(await rig.ctx.importState.checkpoints()).values()].reduce((n, c) => n + c.active + c.retired, 0);
    expect(checkpointed).toBeGreaterThan(0);
    expect(partway.import!.done).toBe(checkpointed);
    expect(partway.import!.total).toBeGreaterThan(checkpointed);
    expect(partway.import!.percent).toBe(Math.floor((checkpointed / partway.import!.total) * 1000) / 10);
    expect((await importAll(rig)).complete).toBe(true);
    const imported = await syncStatus(rig.env);
    expect(imported.import).toBeNull();
    expect(Object.values(imported.types).every((t) => t.ready)).toBe(true);
    expect(imported.types.Shot.entities).toBeGreaterThan(0);
    // The import took the cursor, but no poller has saved it recently: not following yet.
    expect(imported.following).toBe(false);
    expect(imported.ready).toBe(false);
    const holder = (await rig.ctx.lease.acquire('test-poller', Date.now()))!;
    await rig.ctx.lease.save(holder, Date.now(), holder.cursor!);
    stackSync(rig.env).metrics.add('SyncLagSeconds', 0.5);
    const following = await syncStatus(rig.env);
    expect(following).toMatchObject({ ready: true, following: true, importing: false, lagSeconds: 0.5 });
    expect(following.cursor?.backlog).toBe(0);
  });
});
