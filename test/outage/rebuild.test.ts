// The rebuild after a trimmed event log: updated_at scans and id diffs only where the learned write-stamp facts prove them complete, full re-imports elsewhere, identical to the site either way.
import { afterAll, describe, expect, it } from 'vitest';
import { createParams, deleteParams, readParams, reviveParams, updateParams } from '../../shared/site/index.js';
import { ImportState, RebuildState, SiteBehaviour } from '../../shared/store/index.js';
import { importerFor, Validator } from '../../shared/sync/index.js';
import type { SimWriteStampsInput } from '../../local/sim/write-stamps.js';
import { schema, waitUntil } from '../sync/helpers.js';
import { compareWithSite, expectConverged, probeReads, SCRIPT, startOutageRig, type OutageRig } from './rig.js';
import { rpcPayload } from '../../shared/site/index.js';

const rigs: OutageRig[] = [];
afterAll(async () => {
  for (const o of rigs) await o.close();
});

type Row = Record<string, any> & { id: number };
const read = async (o: OutageRig, type: string, fields: string[], retired = false): Promise<Row[]> =>
  (
    await o.site.call<{ entities: Row[] }>(
      'read',
      readParams(type, [], fields, { return_only: retired ? 'retired' : 'active', sorts: [{ field_name: 'id', direction: 'asc' }] }),
    )
  ).entities;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const behaviour = (o: OutageRig) => new SiteBehaviour(o.rig.ctx.doc, o.rig.ctx.tables.state);
const rebuildState = (o: OutageRig) => new RebuildState(o.rig.ctx.doc, o.rig.ctx.tables.state);
/** The probe reads plus the other sides of the connections the gap writes (Asset.shots, Sequence.shots). */
const probes = () => [
  ...probeReads(),
  rpcPayload(
    'read',
    SCRIPT,
    readParams('Asset', [], ['code', 'shots'], { paging: { entities_per_page: 500, current_page: 1 }, sorts: [{ field_name: 'id', direction: 'asc' }] }),
  ),
];
type Counts = { calls: number; idCalls: number; rows: number; fieldRows: number };
/** The site's read counters for entity types (EventLogEntry polls apart): calls, calls for `id` alone, entities returned, those with fields. */
function entityReads(o: OutageRig): Counts {
  const st = o.rig.site.control.stats() as Record<'readsByType' | 'idReadsByType' | 'rowsByType' | 'fieldRowsByType', Record<string, number>>;
  const sum = (m: Record<string, number>) => Object.entries(m).reduce((n, [t, v]) => (t === 'EventLogEntry' ? n : n + v), 0);
  return { calls: sum(st.readsByType), idCalls: sum(st.idReadsByType), rows: sum(st.rowsByType), fieldRows: sum(st.fieldRowsByType) };
}
const minus = (a: Counts, b: Counts): Counts => ({
  calls: a.calls - b.calls,
  idCalls: a.idCalls - b.idCalls,
  rows: a.rows - b.rows,
  fieldRows: a.fieldRows - b.fieldRows,
});

async function rig(label: string, stamps: SimWriteStampsInput): Promise<OutageRig> {
  const o = await startOutageRig(label);
  rigs.push(o);
  o.rig.site.control.apply({ stamps });
  await waitUntil('every read to be a hit', async () => (await compareWithSite(o)).hits === probeReads().length);
  return o;
}

/**
 * Normal sync shows the consumer three relinks (back-references on distinct Sequences) and three revives (a second
 * after their retirements, so the retirement is not in the revive's second); waits for the facts to be learned.
 */
async function teach(o: OutageRig, expected: { backRef: string; revive: string }): Promise<void> {
  const [shots, seqs] = await Promise.all([read(o, 'Shot', ['sg_sequence']), read(o, 'Sequence', ['code'])]);
  for (let i = 0; i < 3; i++) {
    const to = seqs[(seqs.findIndex((s) => s.id === shots[i].sg_sequence?.id) + 1 + i) % seqs.length];
    await o.site.call('update', updateParams('Shot', shots[i].id, { sg_sequence: { type: 'Sequence', id: to.id } }));
  }
  for (let i = 3; i < 6; i++) await o.site.call('delete', deleteParams('Shot', shots[i].id));
  await sleep(1100);
  for (let i = 3; i < 6; i++) await o.site.call('revive', reviveParams('Shot', shots[i].id));
  await waitUntil('the write-stamp facts to be learned', async () => {
    const f = await behaviour(o).facts();
    return f.backRef.fact === expected.backRef && f.revive.fact === expected.revive;
  });
}

/**
 * What a studio does while the cache is away: a direct edit, a relink (Sequence.shots on both sides), a Shot.assets
 * edit (Asset.shots on the other side), a Sequence renamed (Shot.sg_sequence's name), a retirement, a revival of a
 * Shot retired before the gap (its Sequence lists it again), a new Shot, a retired Asset that a Shot links.
 */
async function gap(o: OutageRig, retiredBefore: number): Promise<void> {
  const [shots, seqs, assets] = await Promise.all([read(o, 'Shot', ['sg_sequence', 'assets']), read(o, 'Sequence', ['code']), read(o, 'Asset', ['code'])]);
  const project = (await read(o, 'Project', ['name']))[0];
  await o.site.call('update', updateParams('Shot', shots[0].id, { description: 'edited in the gap', sg_cut_in: 7 }));
  await o.site.call(
    'update',
    updateParams('Shot', shots[1].id, { sg_sequence: { type: 'Sequence', id: seqs.find((s) => s.id !== shots[1].sg_sequence?.id)!.id } }),
  );
  const unlinked = assets.find((a) => a.id !== assets[1].id && !(shots[2].assets ?? []).some((l: { id: number }) => l.id === a.id))!;
  await o.site.call('update', { ...updateParams('Shot', shots[2].id, { assets: [{ type: 'Asset', id: unlinked.id }] }), multi_entity_update_mode: 'add' });
  await o.site.call('update', updateParams('Sequence', seqs[0].id, { code: `${String(seqs[0].code)} renamed` }));
  await o.site.call('delete', deleteParams('Shot', shots[3].id));
  await o.site.call('revive', reviveParams('Shot', retiredBefore));
  await o.site.call(
    'create',
    createParams('Shot', { code: 'born in the gap', project: { type: 'Project', id: project.id }, sg_sequence: { type: 'Sequence', id: seqs[1].id } }),
  );
  await o.site.call('update', { ...updateParams('Shot', shots[4].id, { assets: [{ type: 'Asset', id: assets[1].id }] }), multi_entity_update_mode: 'add' });
  await o.site.call('delete', deleteParams('Asset', assets[1].id));
}

/**
 * Retires a Shot (before the gap, applied by normal sync; one no Asset links, so its revival re-reads no Asset), stops the
 * cache, runs the gap, trims the log past the cursor, starts the cache. `probe`: compares reads with the site meanwhile.
 * Returns the site's read counters just before the start.
 */
async function trimmedGap(o: OutageRig, probe = true): Promise<Counts> {
  const shots = await read(o, 'Shot', ['assets']);
  const retiredBefore = (shots.slice(5).find((s) => !s.assets?.length) ?? shots[5]).id;
  await o.site.call('delete', deleteParams('Shot', retiredBefore));
  await waitUntil('the retirement to be applied', async () => (await o.rig.ctx.store.get('Shot', retiredBefore))?.record.retired === true);
  await waitUntil('the cursor to have seen it', async () => {
    const c = (await o.rig.ctx.lease.read()).cursor;
    return c?.seenAt !== undefined && c.maxSeen >= (await o.rig.ctx.events.latestId());
  });
  await o.cache.stop();
  await gap(o, retiredBefore);
  const last = await o.rig.ctx.events.latestId();
  o.rig.site.chaos.apply({ trimBelow: last });
  const before = entityReads(o);
  await o.start();
  await waitUntil('the gap to be detected', () => o.cache.sync.total('CursorBeyondRetention') > 0);
  // Until rebuilt, every answer is the site's (passed), never the store's pre-gap state.
  if (probe) for (let i = 0; i < 2; i++) expect((await compareWithSite(o, probes())).differing).toEqual([]);
  return before;
}

async function lastRun(o: OutageRig) {
  await waitUntil('the rebuild to finish', async () => (await rebuildState(o).last()) !== undefined, 120_000);
  return (await rebuildState(o).last())!;
}

describe("a cursor older than the site's event retention: the rebuild", () => {
  it('uses updated_at scans where back-references and revives are proven to move updated_at, with fewer full-entity reads than a re-import, and converges', async () => {
    const o = await rig('rebuild-bumps', { backRefBumpsUpdatedAt: true, reviveBumpsUpdatedAt: true });
    await teach(o, { backRef: 'bumps', revive: 'bumps' });
    const before = await trimmedGap(o, false);
    const run = await lastRun(o);
    const rebuild = minus(entityReads(o), before);
    // Every type with updated_at cached (PublishedFileDependency and Reply have none: re-imported whole).
    expect(Object.entries(run.run.plan).filter(([, p]) => p.mode !== 'scan')).toEqual(
      ['PublishedFileDependency', 'Reply'].map((t) => [t, { mode: 'full', why: 'updated_at not cached' }]),
    );
    await expectConverged(o);
    expect((await compareWithSite(o, probes())).differing).toEqual([]);
    // The same state's full re-import (the cache stopped: only the importer asks the site), for comparison.
    await o.cache.stop();
    await new ImportState(o.rig.ctx.doc, o.rig.ctx.tables.state).requestFull('comparison');
    const beforeImport = entityReads(o);
    expect((await importerFor(o.rig.ctx).run()).complete).toBe(true);
    const full = minus(entityReads(o), beforeImport);
    if (process.env.DEBUG_OUTAGE) console.log(JSON.stringify({ rebuild, full }));
    // Entities read with their fields: what changed (scans, the id diff's re-reads, revived targets' referrers), not everything.
    expect(rebuild.fieldRows).toBeLessThan(full.fieldRows / 2);
    await o.start();
  }, 300_000);

  it('re-imports the types whose fields may change without an updated_at move, when back-references are shown not to move it, and converges', async () => {
    const o = await rig('rebuild-keeps', { backRefBumpsUpdatedAt: false, reviveBumpsUpdatedAt: true });
    await teach(o, { backRef: 'keeps', revive: 'bumps' });
    await trimmedGap(o);
    const run = await lastRun(o);
    // Each side of a connection is re-imported whole; a type with no link that may point back is scanned.
    for (const t of ['Shot', 'Sequence', 'Asset', 'Task', 'Note', 'Version']) expect(run.run.plan[t]?.mode, t).toBe('full');
    expect(Object.values(run.run.plan).some((p) => p.mode === 'scan')).toBe(true);
    await expectConverged(o);
    expect((await compareWithSite(o, probes())).differing).toEqual([]);
  }, 300_000);

  it('would serve stale links if it scanned where back-references do not move updated_at (the convergence check catches the wrong assumption)', async () => {
    const o = await rig('rebuild-wrong', { backRefBumpsUpdatedAt: false, reviveBumpsUpdatedAt: false });
    // The wrong assumption, forced: both facts recorded as proven while the site moves neither.
    await behaviour(o).set('backRef', 'bumps');
    await behaviour(o).set('revive', 'bumps');
    await trimmedGap(o);
    const run = await lastRun(o);
    expect(
      Object.entries(run.run.plan)
        .filter(([, p]) => p.mode !== 'scan')
        .map(([t]) => t),
    ).toEqual(['PublishedFileDependency', 'Reply']);
    const report = await new Validator({ schema, store: o.rig.ctx.store, readiness: o.rig.ctx.readiness, fetcher: o.rig.ctx.fetcher, client: o.site }).run({
      data: 'all',
      recheckMs: 1000,
    });
    const stale = report.types.filter((t) => t.differing.length).map((t) => t.type);
    // Asset.shots gained a Shot by a Shot.assets edit, Sequence.shots by a relink: their updated_at did not move, the scans never saw them.
    expect(stale).toEqual(expect.arrayContaining(['Asset', 'Sequence']));
  }, 300_000);
});
