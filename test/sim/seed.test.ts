// The sim's seed: deterministic for a seed, realistic (every type, the field types real sites use, both sides of connections), and scalable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simOptionsFromEnv, type SimSite } from '../../local/sim/server.js';
import type { TestShotgun } from '../support/api3-client.js';
import { scriptClient, startTestSite } from '../support/sim-site.js';

let site: SimSite;
let sg: TestShotgun;

beforeAll(async () => {
  site = await startTestSite();
  sg = await scriptClient(site);
});
afterAll(async () => {
  await site.close();
});

const allFields = (type: string) => Object.keys(site.schema.type(type)!.fields);

describe('seed', () => {
  it('is the same site for the same seed, and another for another seed', async () => {
    const again = await startTestSite();
    const other = await startTestSite({ seed: 2 });
    try {
      const read = async (s: SimSite) => (await scriptClient(s)).find('Shot', [], allFields('Shot'), null, { retiredOnly: false });
      const mine = await read(site);
      expect(await read(again)).toEqual(mine);
      expect(await read(other)).not.toEqual(mine);
    } finally {
      await again.close();
      await other.close();
    }
  });

  it('has every production type, no events, and ids that do not start at 1', async () => {
    const counts = site.control.stats().entities as Record<string, number>;
    for (const t of [
      'Project',
      'Sequence',
      'Shot',
      'Asset',
      'Task',
      'Step',
      'HumanUser',
      'Group',
      'Version',
      'PublishedFile',
      'PublishedFileType',
      'Note',
      'Playlist',
      'ApiUser',
    ]) {
      expect(counts[t], t).toBeGreaterThan(0);
    }
    expect(counts.EventLogEntry).toBe(0);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBeGreaterThan(300);
    expect(site.control.stats().nextEventId).toBeGreaterThan(2_000_000);
    expect((await sg.findOne('Shot', [], ['id'], [{ field_name: 'id', direction: 'asc' }]))!.id).toBeGreaterThan(1000);
  });

  it('fills the field types real sites use', async () => {
    const shots = await sg.find('Shot', [], allFields('Shot'));
    const some = (f: string, test: (v: unknown) => boolean) =>
      expect(
        shots.some((s) => s[f] !== null && test(s[f])),
        f,
      ).toBe(true);
    some('sg_frame_rate', (v) => typeof v === 'number' && !Number.isInteger(v));
    some('sg_timecode_in', (v) => Number.isInteger(v));
    some('sg_vfx_complexity', (v) => typeof v === 'number');
    some('sg_plate_uuid', (v) => /^[0-9a-f-]{36}$/.test(String(v)));
    some('sg_editorial_data', (v) => typeof v === 'object');
    some('sg_due_date', (v) => /^\d{4}-\d{2}-\d{2}$/.test(String(v)));
    some('created_at', (v) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(String(v)));
    some('image', (v) => String(v).startsWith('https://'));
    some('tag_list', (v) => Array.isArray(v) && v.length > 0);
    some('sg_shot_type', (v) => typeof v === 'string');
    expect(shots.every((s) => typeof s.sg_hero === 'boolean')).toBe(true);
    const v = (await sg.find('Version', [], ['sg_uploaded_movie', 'sg_frames_aspect_ratio'])).find((x) => x.sg_uploaded_movie !== null);
    expect(v!.sg_uploaded_movie).toMatchObject({ url: expect.stringMatching(/^https:/), link_type: 'upload' });
    const task = await sg.findOne('Task', [['step', 'is_not', null]], ['color', 'duration', 'time_percent_of_est', 'step', 'content']);
    expect(task).toMatchObject({ color: expect.any(String), duration: expect.any(Number), step: { type: 'Step', name: expect.any(String) } });
    const pf = await sg.findOne('PublishedFile', [], ['path']);
    expect(pf!.path).toMatchObject({
      link_type: 'local',
      local_path_linux: expect.stringMatching(/^\/mnt\//),
      local_storage: { type: 'LocalStorage', name: 'primary' },
    });
    const step = await sg.findOne('Step', [], ['entity_type']);
    expect(['Shot', 'Asset', 'Sequence']).toContain(step!.entity_type);
  });

  it('links name their target by its identifier, and both sides of a connection agree', async () => {
    const tasks = await sg.find('Task', [['entity', 'type_is', 'Shot']], ['entity', 'content']);
    const shots = await sg.find('Shot', [], ['tasks', 'code', 'sg_sequence']);
    const byId = new Map(shots.map((s) => [s.id, s]));
    for (const t of tasks) {
      const e = t.entity as { id: number; name: string };
      const s = byId.get(e.id)!;
      expect(e.name).toBe(s.code);
      expect((s.tasks as Array<{ id: number; name: string }>).find((x) => x.id === t.id)?.name).toBe(t.content);
    }
    const seqs = await sg.find('Sequence', [], ['shots']);
    const shotCount = seqs.reduce((n, s) => n + (s.shots as unknown[]).length, 0);
    expect(shotCount).toBe(shots.filter((s) => s.sg_sequence !== null).length);
    const notes = await sg.find('Note', [], ['user', 'subject']);
    expect(notes.every((n) => typeof n.subject === 'string' && (n.user as { type: string }).type === 'HumanUser')).toBe(true);
  });

  it('has some retired rows and an archived project at larger scales', async () => {
    const big = await startTestSite({ entities: 12_000 });
    try {
      const c = big.control.stats().entities as Record<string, number>;
      const total = Object.values(c).reduce((a, b) => a + b, 0);
      expect(total).toBeGreaterThan(10_000);
      // The Toolkit types (seed-toolkit.ts: filesystem locations, configurations, ...) come on top of the budget.
      expect(total).toBeLessThan(15_000);
      const bsg = await scriptClient(big);
      expect((await bsg.find('Task', [], ['id'], null, { retiredOnly: true })).length).toBeGreaterThan(0);
      expect(await bsg.find('Project', [['archived', 'is', true]], ['name'])).toHaveLength(1);
      const active = await bsg.find('Project', [], ['name'], null, { includeArchivedProjects: false });
      expect(active.length).toBe(c.Project - 1);
    } finally {
      await big.close();
    }
  });

  it("a studio's mix (SIM_MIX=studio): Versions, PublishedFiles, Notes and Tasks dominate; the default mix is unchanged by it", async () => {
    const [studio, production] = await Promise.all([startTestSite({ entities: 20_000, mix: 'studio' }), startTestSite({ entities: 20_000 })]);
    try {
      const s = studio.control.stats().entities as Record<string, number>;
      const p = production.control.stats().entities as Record<string, number>;
      const work = (c: Record<string, number>) => c.Version + c.PublishedFile + c.Note + c.Task;
      const seeded = (c: Record<string, number>) =>
        ['Sequence', 'Shot', 'Asset', 'Task', 'Version', 'PublishedFile', 'Note', 'Playlist'].reduce((n, t) => n + c[t], 0);
      expect(work(s) / seeded(s)).toBeGreaterThan(0.85);
      expect(s.Version).toBeGreaterThan(s.Task);
      expect(s.PublishedFile).toBeGreaterThan(s.Shot * 3);
      expect(s.Note).toBeGreaterThan(s.Shot);
      // The tests' sites keep their production mix: Tasks first, Notes a few percent.
      expect(p.Task).toBeGreaterThan(p.Version);
      expect(p.Note).toBeLessThan(p.Shot);
      expect(() => simOptionsFromEnv({ SIM_MIX: 'huge' })).toThrow(/SIM_MIX/);
      expect(simOptionsFromEnv({ SIM_MIX: 'studio' }).mix).toBe('studio');
    } finally {
      await Promise.all([studio.close(), production.close()]);
    }
  });
});
