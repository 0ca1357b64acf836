// The simulated site's knobs: injected HTTP faults, hangs and resets, latency, the /__sim control endpoints, and out-of-order event commits.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SimSite } from '../../local/sim/server.js';
import { HttpStatusError, type TestShotgun } from '../support/api3-client.js';
import { eventsAfter, scriptClient, startTestSite } from '../support/sim-site.js';

let site: SimSite;
let sg: TestShotgun;

beforeAll(async () => {
  site = await startTestSite();
  sg = await scriptClient(site);
});
afterAll(async () => {
  await site.close();
});
beforeEach(() => {
  site.control.reset();
});

async function status(p: Promise<unknown>): Promise<number | string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    if (e instanceof HttpStatusError) return e.status;
    return (e as Error).name;
  }
}

describe('transport faults', () => {
  it.each([
    ['http502', 502],
    ['http503', 503],
    ['http504', 504],
    ['http429', 429],
  ] as const)('failNext %s answers HTTP %i once', async (kind, code) => {
    site.control.failNext({ kind });
    expect(await status(sg.find('Step', [], ['code']))).toBe(code);
    expect(await status(sg.find('Step', [], ['code']))).toBe('ok');
    expect(site.control.stats()).toMatchObject({ faults: { [kind]: 1 } });
  });

  it('a 502 is retried away by a client that retries like shotgun_api3', async () => {
    const retrying = await scriptClient(site, { retry5xx: true });
    site.control.failNext({ kind: 'http502', count: 2 });
    const before = (site.control.stats().byMethod as Record<string, number>).read ?? 0;
    expect(await retrying.find('Step', [], ['code'], null, { limit: 1 })).toHaveLength(1);
    expect((site.control.stats().byMethod as Record<string, number>).read).toBe(before + 3);
  });

  it('only fails the method named, and `after` lets the write land before the reply is lost', async () => {
    site.control.failNext({ kind: 'http504', method: 'create', after: true });
    expect(await status(sg.find('Step', [], ['code'], null, { limit: 1 }))).toBe('ok');
    expect(await status(sg.create('Shot', { code: 'KNOB_LOST_REPLY' }))).toBe(504);
    expect(await sg.find('Shot', [['code', 'is', 'KNOB_LOST_REPLY']], ['code'])).toHaveLength(1);
  });

  it('a timeout hangs until the client gives up; a reset drops the connection; the site keeps serving', async () => {
    const impatient = await scriptClient(site, { timeoutMs: 300 });
    site.control.failNext({ kind: 'timeout' });
    expect(await status(impatient.find('Step', [], ['code']))).toMatch(/TimeoutError|AbortError/);
    site.control.failNext({ kind: 'reset' });
    expect(await status(sg.find('Step', [], ['code']))).toBe('TypeError'); // fetch failed: socket hang up
    expect(await status(sg.find('Step', [], ['code']))).toBe('ok');
    expect(site.control.stats()).toMatchObject({ faults: { timeout: 1, reset: 1 } });
  });

  it('fails by rate', async () => {
    site.control.setFaultRates({ http503: 1 });
    expect(await status(sg.find('Step', [], ['code']))).toBe(503);
    expect(await status(sg.find('Step', [], ['code']))).toBe(503);
    site.control.setFaultRates({});
    expect(await status(sg.find('Step', [], ['code']))).toBe('ok');
  });
});

describe('latency', () => {
  it('delays each request by latencyMs (+ jitter) and reports it', async () => {
    site.control.setLatency(120, 30);
    const t0 = performance.now();
    await sg.find('Step', [], ['code'], null, { limit: 1 });
    const elapsed = performance.now() - t0;
    const last = site.control.stats().lastLatencyMs as number;
    expect(last).toBeGreaterThanOrEqual(120);
    expect(last).toBeLessThanOrEqual(150);
    expect(elapsed).toBeGreaterThanOrEqual(115); // a lower bound only
    expect(site.control.stats().knobs).toMatchObject({ latencyMs: 120, jitterMs: 30 });
  });
});

describe('the HTTP control endpoints', () => {
  const post = (path: string, body: unknown) => fetch(`${site.url}${path}`, { method: 'POST', body: JSON.stringify(body) });

  it('POST /__sim/control sets knobs, GET /__sim/stats counts requests per method, POST /__sim/reset clears', async () => {
    const r = await post('/__sim/control', { latencyMs: 5, failNext: { kind: 'http503', method: 'read' }, legacyVersion: true });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { stats: { knobs: unknown } }).stats.knobs).toMatchObject({
      latencyMs: 5,
      legacyVersion: true,
      queuedFaults: [{ kind: 'http503', method: 'read', count: 1 }],
    });
    expect(await status(sg.find('Step'))).toBe(503);
    const stats = (await (await fetch(`${site.url}/__sim/stats`)).json()) as {
      byMethod: Record<string, number>;
      requests: number;
      faults: Record<string, number>;
    };
    expect(stats.byMethod.read).toBe(1);
    expect(stats.faults.http503).toBe(1);
    expect((await post('/__sim/reset', {})).status).toBe(200);
    const after = (await (await fetch(`${site.url}/__sim/stats`)).json()) as { requests: number; knobs: { latencyMs: number; legacyVersion: boolean } };
    expect(after.requests).toBe(0);
    expect(after.knobs).toMatchObject({ latencyMs: 0, legacyVersion: false });
  });

  it('POST /__sim/reset {"data": true} reseeds the site', async () => {
    await sg.create('Shot', { code: 'KNOB_BEFORE_RESEED' });
    expect(await sg.find('Shot', [['code', 'is', 'KNOB_BEFORE_RESEED']])).toHaveLength(1);
    expect((await post('/__sim/reset', { data: true })).status).toBe(200);
    expect(await sg.find('Shot', [['code', 'is', 'KNOB_BEFORE_RESEED']])).toEqual([]);
    expect((site.control.stats().entities as Record<string, number>).EventLogEntry).toBe(0);
  });

  it('POST /__sim/control {"semantics"} changes how reads sort NULLs and text; reset restores the defaults', async () => {
    const codes = async () => (await sg.find('Asset', [], ['code'], [{ column: 'description', direction: 'asc' }], { limit: 500 })).map((e) => e.id);
    const before = await codes();
    const r = await post('/__sim/control', { semantics: { nullsAsc: 'first', textOrder: 'code-point' } });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { stats: { knobs: { semantics: unknown } } }).stats.knobs.semantics).toMatchObject({
      nullsAsc: 'first',
      nullsDesc: 'first',
      textOrder: 'code-point',
    });
    const after = await codes();
    expect(after).not.toEqual(before);
    expect([...after].sort()).toEqual([...before].sort());
    expect((await post('/__sim/control', { semantics: { textOrder: 'alphabetical' } })).status).toBe(400);
    expect((await post('/__sim/control', { semantics: { bogus: 'x' } })).status).toBe(400);
    site.control.reset();
    expect(await codes()).toEqual(before);
  });

  it("the operand knobs answer as docs/sim.md defines each value, on the site's own data", async () => {
    type Rec = Record<string, unknown> & { id: number };
    const all = async (filters: unknown[], fields: string[] = ['id']) => (await sg.find('Shot', filters as never, fields, null, { limit: 5000 })) as Rec[];
    const ids = async (filters: unknown[]) => (await all(filters)).map((e) => e.id).sort((a, b) => a - b);
    const where = (rows: Rec[], test: (r: Rec) => boolean) =>
      rows
        .filter(test)
        .map((r) => r.id)
        .sort((a, b) => a - b);
    const set = (semantics: Record<string, string>) => post('/__sim/control', { semantics });
    // A Shot with no sequence, description or assets (the seed puts every Shot in a sequence).
    await sg.create('Shot', { code: 'KNOB_OPERAND' });
    const shots = await all([], ['assets', 'description', 'sg_sequence']);
    const assets = (r: Rec) => (r.assets as Array<{ id: number }>).map((a) => a.id);
    // An Asset some Shot links together with others: Shots linking none, only it, it and others, and others only all exist.
    const x = shots.map(assets).find((l) => l.length > 1)![0];
    const negations: Record<string, (l: number[]) => boolean> = {
      none: (l) => !l.includes(x),
      some: (l) => l.some((a) => a !== x),
      'none-nonempty': (l) => l.length > 0 && !l.includes(x),
      'some-or-empty': (l) => l.length === 0 || l.some((a) => a !== x),
    };
    // The data tells the four apart, and has NULL and set descriptions, cut ins and sequences (else a case proves nothing).
    expect(new Set(Object.values(negations).map((t) => JSON.stringify(where(shots, (r) => t(assets(r)))))).size).toBe(4);
    for (const f of ['description', 'sg_sequence']) expect(new Set(shots.map((r) => r[f] === null)).size, f).toBe(2);
    for (const [value, test] of Object.entries(negations)) {
      await set({ multiNegation: value });
      expect(await ids([['assets.Asset.id', 'is_not', x]]), value).toEqual(where(shots, (r) => test(assets(r))));
    }
    const described = (r: Rec) => r.description !== null;
    const everyShot = where(shots, () => true);
    await set({ multiNegation: 'none', emptyOperand: 'set' });
    expect([await ids([['description', 'contains', '']]), await ids([['description', 'not_contains', '']])]).toEqual([
      where(shots, described),
      where(shots, (r) => !described(r)),
    ]);
    await set({ emptyOperand: 'ignored' });
    expect([await ids([['description', 'starts_with', '']]), await ids([['description', 'not_contains', '']])]).toEqual([everyShot, everyShot]);
    await set({ emptyOperand: 'none', negationNulls: 'exclude' });
    expect([await ids([['description', 'ends_with', '']]), await ids([['description', 'not_contains', '']])]).toEqual([[], where(shots, described)]);
    const cut = shots.find(described)!.description;
    const seq = shots.find((r) => r.sg_sequence !== null)!.sg_sequence as { type: string; id: number };
    const isCut = (r: Rec) => r.description === cut;
    const isSeq = (r: Rec) => (r.sg_sequence as { id: number } | null)?.id === seq.id;
    const inNull = async () => [
      await ids([['description', 'in', [cut, null]]]),
      await ids([['description', 'not_in', [cut, null]]]),
      await ids([['sg_sequence', 'in', [{ type: seq.type, id: seq.id }, null]]]),
      await ids([['sg_sequence', 'not_in', [{ type: seq.type, id: seq.id }, null]]]),
    ];
    await set({ emptyOperand: 'set', negationNulls: 'include', inNullScalar: 'unset', inNullLink: 'unset' });
    expect(await inNull()).toEqual([
      where(shots, (r) => isCut(r) || !described(r)),
      where(shots, (r) => !isCut(r) && described(r)),
      where(shots, (r) => isSeq(r) || r.sg_sequence === null),
      where(shots, (r) => !isSeq(r) && r.sg_sequence !== null),
    ]);
    await set({ inNullScalar: 'ignored', inNullLink: 'sql' });
    expect(await inNull()).toEqual([where(shots, isCut), where(shots, (r) => !isCut(r)), where(shots, isSeq), []]);
    await set({ inNullScalar: 'sql', inNullLink: 'ignored', negationNulls: 'exclude' });
    expect(await inNull()).toEqual([where(shots, isCut), [], where(shots, isSeq), where(shots, (r) => !isSeq(r) && r.sg_sequence !== null)]);
    expect((await set({ multiNegation: 'every' })).status).toBe(400);
  });

  it('rejects a bad control body with 400', async () => {
    expect((await post('/__sim/control', { latencyMs: -1 })).status).toBe(400);
    expect((await post('/__sim/control', { failNext: { kind: 'http418' } })).status).toBe(400);
    expect((await post('/__sim/control', { bogus: true })).status).toBe(400);
    expect((await fetch(`${site.url}/__sim/nothing`)).status).toBe(404);
  });
});

describe('out-of-order event commits', () => {
  it('held rows keep their (earlier) ids and appear only on release', async () => {
    const start = (site.control.stats().nextEventId as number) - 1;
    site.control.holdEvents(1);
    const slow = await sg.create('Shot', { code: 'KNOB_SLOW' });
    const fast = await sg.create('Shot', { code: 'KNOB_FAST' });
    const visible = await eventsAfter(sg, start, ['meta']);
    expect(visible.length).toBeGreaterThan(0);
    expect(visible.every((e) => e.meta.entity_id === fast.id)).toBe(true);
    expect(visible[0].id).toBeGreaterThan(start + 1); // a gap where the slow write's ids are
    expect(site.control.stats().pendingEvents).toBeGreaterThan(0);
    const released = site.control.releaseEvents();
    expect(released).toBe(visible[0].id - start - 1);
    const all = await eventsAfter(sg, start, ['meta']);
    expect(all.map((e) => e.id)).toEqual(all.map((_, i) => start + 1 + i));
    expect(all[0].meta).toEqual({ type: 'new_entity', entity_type: 'Shot', entity_id: slow.id });
  });

  it('a random delay publishes rows later, in id order', async () => {
    const start = (site.control.stats().nextEventId as number) - 1;
    site.control.setEventDelay({ probability: 1, delayMs: 150 });
    const s = await sg.create('Shot', { code: 'KNOB_DELAYED' });
    expect(await eventsAfter(sg, start)).toEqual([]);
    site.control.setEventDelay({ probability: 0, delayMs: 0 });
    let rows: Array<Record<string, any>> = [];
    for (let i = 0; i < 100 && rows.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      rows = await eventsAfter(sg, start, ['meta']);
    }
    expect(rows[0]).toMatchObject({ id: start + 1, meta: { entity_id: s.id } });
  });
});

describe('the legacy version switch', () => {
  it('makes clients page with return_paging_info and entity_count', async () => {
    site.control.setLegacyVersion(true);
    const legacy = await scriptClient(site, { recordsPerPage: 5 });
    const steps = await legacy.find('Step', [], ['code']);
    const modern = await sg.find('Step', [], ['code']);
    expect(steps).toEqual(modern);
    const reads = legacy.sent.filter((s) => s.method === 'read');
    expect(reads).toHaveLength(Math.ceil(modern.length / 5));
    expect(reads[0].payload.params[1]).toMatchObject({ return_paging_info: true });
  });
});
