// Toolkit's reads over HTTP against the simulated site: include_archived_projects false served exactly (and after an archive), info byte for byte.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updateParams } from '../../shared/site/index.js';
import { SCRIPT_AUTH, cond, readPayload, results, startHarness, type Harness } from '../api/harness.js';

let h: Harness;
let projects: Array<{ type: string; id: number; name: string }>;
const HIT = { 'x-fpt-cache-require': 'hit' };
const NOT_ARCHIVED = { include_archived_projects: false };

beforeAll(async () => {
  h = await startHarness('toolkit-archived');
  projects = (results(await h.direct(readPayload(SCRIPT_AUTH, 'Project', [], ['name']))) as { entities: any[] }).entities;
});
afterAll(async () => {
  await h?.close();
});

/** The payload through the API (must be a hit) and at the site: identical bytes. Returns the results. */
async function servedSame(payload: unknown): Promise<any> {
  const viaApi = await h.rpc(payload, HIT);
  expect(viaApi.headers['x-fpt-cache'], viaApi.body.toString('utf8')).toBe('hit');
  const fromSite = await h.direct(payload);
  expect(viaApi.body.toString('utf8')).toBe(fromSite.body.toString('utf8'));
  return results(viaApi);
}

const setArchived = async (id: number, archived: boolean) => {
  const r = await h.rpc({ method_name: 'update', params: [SCRIPT_AUTH, updateParams('Project', id, { archived })] });
  expect(r.headers['x-fpt-cache-write-through']).toBe('applied');
};

const shapes = () => [
  readPayload(SCRIPT_AUTH, 'Shot', [], ['code', 'project'], NOT_ARCHIVED),
  readPayload(SCRIPT_AUTH, 'Task', [cond('project', 'is', projects[0])], ['content', 'entity'], NOT_ARCHIVED),
  readPayload(SCRIPT_AUTH, 'Project', [cond('archived', 'is_not', true)], ['name', 'sg_status'], NOT_ARCHIVED),
  readPayload(SCRIPT_AUTH, 'HumanUser', [], ['login', 'name'], NOT_ARCHIVED),
  {
    method_name: 'summarize',
    params: [
      SCRIPT_AUTH,
      { type: 'Shot', summaries: [{ field: 'id', type: 'count' }], filters: { logical_operator: 'and', conditions: [] }, include_archived_projects: false },
    ],
  },
];

describe('include_archived_projects: false', () => {
  it('is served from the cache, byte-identical to the site, for project-linked types, Project and types without a project', async () => {
    for (const p of shapes()) await servedSame(p);
  });

  it("leaves out an archived project's rows exactly, and re-evaluates when archived changes", async () => {
    const all = (await servedSame(readPayload(SCRIPT_AUTH, 'Shot', [], ['project']))).entities as any[];
    await setArchived(projects[0].id, true);
    try {
      const kept = (await servedSame(readPayload(SCRIPT_AUTH, 'Shot', [], ['project'], NOT_ARCHIVED))).entities as any[];
      expect(kept.length).toBeLessThan(all.length);
      expect(kept.length).toBeGreaterThan(0);
      expect(kept.every((s) => s.project.id !== projects[0].id)).toBe(true);
      expect(kept.length).toBe(all.filter((s) => s.project.id !== projects[0].id).length);
      const proj = (await servedSame(readPayload(SCRIPT_AUTH, 'Project', [], ['name'], NOT_ARCHIVED))).entities as any[];
      expect(proj.map((p) => p.id)).not.toContain(projects[0].id);
      for (const p of shapes()) await servedSame(p);
    } finally {
      await setArchived(projects[0].id, false);
    }
    const back = (await servedSame(readPayload(SCRIPT_AUTH, 'Shot', [], ['project'], NOT_ARCHIVED))).entities as any[];
    expect(back.length).toBe(all.length);
  });
});
