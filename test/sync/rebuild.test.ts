// The trimmed-log rebuild's bookkeeping: killed mid-way it resumes from its checkpoints (same plan, nothing served meanwhile), and its plan follows the learned write-stamp facts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteParams, readParams, reviveParams, updateParams } from '../../shared/site/index.js';
import { nextFact, RebuildState, SiteBehaviour, type StampFact } from '../../shared/store/index.js';
import { CLOCK_MARGIN_MS, gapSince, importerFor, planRebuild, rebuilderFor, Validator } from '../../shared/sync/index.js';
import { importAll, schema, startRig, type Rig } from './helpers.js';

let rig: Rig;
beforeAll(async () => {
  rig = await startRig('rebuild', { entities: 60, seed: 17, stamps: { backRefBumpsUpdatedAt: true, reviveBumpsUpdatedAt: true } });
  expect((await importAll(rig)).complete).toBe(true);
}, 120_000);
afterAll(() => rig?.close());

type Row = { id: number; sg_sequence?: { id: number } | null };
const fact = (f: StampFact['fact']): StampFact => ({ fact: f, owners: [], kept: 0, at: 0, w: 0 });

describe('the rebuild after a trimmed event log', () => {
  it('killed mid-way, resumes from its checkpoints with the same plan; types stay out of service until it is done', async () => {
    const { ctx } = rig;
    const behaviour = new SiteBehaviour(ctx.doc, ctx.tables.state);
    await behaviour.set('backRef', 'bumps');
    await behaviour.set('revive', 'bumps');
    const since = Date.now() - CLOCK_MARGIN_MS;
    // The gap (no consumer runs: nothing of it reaches the store but through the rebuild).
    const shots = (await rig.sg.call<{ entities: Row[] }>('read', readParams('Shot', [], ['sg_sequence']))).entities;
    const seqs = (await rig.sg.call<{ entities: Row[] }>('read', readParams('Sequence', [], ['code']))).entities;
    await rig.sg.call('update', updateParams('Shot', shots[0].id, { description: 'gap' }));
    await rig.sg.call(
      'update',
      updateParams('Shot', shots[1].id, { sg_sequence: { type: 'Sequence', id: seqs.find((s) => s.id !== shots[1].sg_sequence?.id)!.id } }),
    );
    await rig.sg.call('delete', deleteParams('Shot', shots[2].id));
    const state = new RebuildState(ctx.doc, ctx.tables.state);
    await state.request({ since, reason: 'test', at: Date.now() });

    const first = await rebuilderFor(ctx).run({ maxPages: 8 });
    expect(first.complete).toBe(false);
    const saved = await state.checkpoints();
    expect([...saved.values()].some((c) => c.phase !== 'scan-active' || c.lastId > 0)).toBe(true);
    const ready = await ctx.readiness.load();
    expect(ready.readyTypes).toEqual([]);
    // A retirement and a revival while it was down.
    await rig.sg.call('revive', reviveParams('Shot', shots[2].id));
    await rig.sg.call('delete', deleteParams('Shot', shots[3].id));

    // Another process (a new rebuilder) picks it up: the same run, each type from its checkpoint.
    const second = await rebuilderFor(ctx).run();
    expect(second.complete).toBe(true);
    expect(second.run!.startedAt).toBe(first.run!.startedAt);
    for (const [type, cp] of saved) expect(second.checkpoints[type].scanned).toBeGreaterThanOrEqual(cp.scanned);
    // Scan types are back; the two without updated_at wait for the importer, which re-imports them whole.
    expect((await ctx.readiness.load()).readyTypes.length).toBe(schema.site.typeNames.length - 2);
    expect((await importerFor(ctx).run()).complete).toBe(true);
    const report = await new Validator({ schema, store: ctx.store, readiness: ctx.readiness, fetcher: ctx.fetcher, client: rig.sg }).run({
      data: 'all',
      recheckMs: 0,
    });
    expect(report.types.filter((t) => t.differing.length || t.site.active !== t.cache.active || t.site.retired !== t.cache.retired).map((t) => t.type)).toEqual(
      [],
    );
    expect(await state.run()).toBeUndefined();
  }, 120_000);

  it("plans a scan only where the facts prove it: back-references for a connection's sides, revives for links to uncached types", async () => {
    const ready = await rig.ctx.readiness.load();
    const plan = (backRef: StampFact['fact'], revive: StampFact['fact']) =>
      planRebuild(schema, ready, rig.ctx.client, { backRef: fact(backRef), revive: fact(revive) }, Date.now());
    const unknown = await plan('unknown', 'unknown');
    expect(unknown.Shot).toMatchObject({ mode: 'full' });
    // created_by may point to ApiUser (not cached): nothing with such a link is scanned until revives are proven.
    expect(Object.values(unknown).filter((p) => p.mode === 'scan')).toEqual([]);
    const revives = await plan('keeps', 'bumps');
    expect(revives.Asset.why).toMatch(/other side of a connection/);
    expect(revives.Step).toEqual({ mode: 'scan' });
    const both = await plan('bumps', 'bumps');
    expect(
      Object.entries(both)
        .filter(([, p]) => p.mode === 'full')
        .map(([t]) => t),
    ).toEqual(['PublishedFileDependency', 'Reply']);
    // No time for the cursor's last event: nothing can bound the scan.
    const blind = await planRebuild(schema, ready, rig.ctx.client, { backRef: fact('bumps'), revive: fact('bumps') }, undefined);
    expect(Object.values(blind).every((p) => p.mode === 'full')).toBe(true);
  });

  it('learns `keeps` from one observation for good, `bumps` only from three distinct entities', () => {
    const o = (owner: string, bumped: boolean) => ({ kind: 'backRef' as const, owner, bumped, eventId: 1 });
    let f = fact('unknown');
    f = nextFact(f, o('Asset#1', true), 1);
    f = nextFact(f, o('Asset#1', true), 2);
    f = nextFact(f, o('Asset#2', true), 3);
    expect(f.fact).toBe('unknown');
    f = nextFact(f, o('Asset#3', true), 4);
    expect(f.fact).toBe('bumps');
    f = nextFact(f, o('Asset#4', false), 5);
    expect(f.fact).toBe('keeps');
    expect(nextFact(f, o('Asset#5', true), 6).fact).toBe('keeps');
  });

  it("bounds the scan by the cursor's last event less the margin, or an older id it still waited for", () => {
    expect(gapSince({ maxSeen: 10, backlog: {} })).toBeUndefined();
    expect(gapSince({ maxSeen: 10, backlog: {}, seenAt: 1_000_000_000 })).toBe(1_000_000_000 - CLOCK_MARGIN_MS);
    expect(gapSince({ maxSeen: 10, backlog: { '8': 999_000_000 }, seenAt: 1_000_000_000 })).toBe(999_000_000 - CLOCK_MARGIN_MS);
  });
});
