// Whole-type and whole-project reads over MAX_SCAN_ENTITIES pass through (reason scan-too-large), byte-identical to the site, and the response cache keeps them; narrower reads stay hits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCRIPT_AUTH, cond, readPayload, results, siteReads, startHarness, type Harness } from './harness.js';

const CAP = 10;
let h: Harness;
let shotCount: number;
let project: { type: string; id: number };

beforeAll(async () => {
  h = await startHarness('scan-limit', { api: { maxScanEntities: CAP }, responseCache: { enabled: true } });
  const shots = results<{ entities: Array<{ id: number; project: { type: string; id: number } }> }>(
    await h.direct(readPayload(SCRIPT_AUTH, 'Shot', [], ['project'])),
  );
  shotCount = shots.entities.length;
  const perProject = new Map<number, number>();
  for (const s of shots.entities) perProject.set(s.project.id, (perProject.get(s.project.id) ?? 0) + 1);
  const [pid] = [...perProject].sort((a, b) => b[1] - a[1])[0];
  project = { type: 'Project', id: pid };
  expect(shotCount).toBeGreaterThan(CAP);
  expect(perProject.get(pid)!).toBeGreaterThan(CAP);
}, 120_000);
afterAll(async () => {
  await h?.close();
});

describe('MAX_SCAN_ENTITIES', () => {
  it("a whole-type read over the cap passes through with the site's own bytes, then comes from the response cache", async () => {
    const payload = readPayload(SCRIPT_AUTH, 'Shot', [cond('sg_status_list', 'is', 'ip')], ['code', 'sg_status_list']);
    const first = await h.rpc(payload);
    expect(first.headers['x-fpt-cache']).toBe('pass');
    expect(first.headers['x-fpt-cache-reason']).toBe('scan-too-large:Shot');
    expect(first.body.equals((await h.direct(payload)).body)).toBe(true);
    const before = siteReads(h.sim);
    const second = await h.rpc(payload);
    expect(second.headers['x-fpt-cache-reason']).toBe('response-cache');
    expect(siteReads(h.sim)).toBe(before);
    expect(second.body.equals(first.body)).toBe(true);
  });

  it('a whole-project read over the cap passes through too', async () => {
    const r = await h.rpc(readPayload(SCRIPT_AUTH, 'Shot', [cond('project', 'is', project)], ['code']));
    expect(r.headers['x-fpt-cache-reason']).toBe('scan-too-large:Shot');
  });

  it('reads that gather fewer entities stay hits: a small type, an id, a link', async () => {
    const projects = await h.rpc(readPayload(SCRIPT_AUTH, 'Project', [], ['name']));
    expect(results<{ entities: unknown[] }>(projects).entities.length).toBeLessThanOrEqual(CAP);
    expect(projects.headers['x-fpt-cache']).toBe('hit');
    const shot = results<{ entities: Array<{ type: string; id: number }> }>(await h.direct(readPayload(SCRIPT_AUTH, 'Shot', [], ['code']))).entities[0];
    const byId = await h.rpc(readPayload(SCRIPT_AUTH, 'Shot', [cond('id', 'is', shot.id)], ['code']));
    expect(byId.headers['x-fpt-cache']).toBe('hit');
    const tasks = await h.rpc(readPayload(SCRIPT_AUTH, 'Task', [cond('entity', 'is', { type: 'Shot', id: shot.id })], ['content']));
    expect(tasks.headers['x-fpt-cache-reason']).toBe('access:link');
  });
});
