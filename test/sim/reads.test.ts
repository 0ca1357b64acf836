// Reads on the simulated site end to end (semantics from shared/semantics/read-semantics.ts): paging loops, deep fields, retired rows, the event-log poll, summarize.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimSite } from '../../local/sim/server.js';
import type { TestShotgun } from '../support/api3-client.js';
import { EVENT_FIELDS, scriptClient, startTestSite } from '../support/sim-site.js';

let site: SimSite;
let sg: TestShotgun;

beforeAll(async () => {
  site = await startTestSite();
  sg = await scriptClient(site);
});
afterAll(async () => {
  await site.close();
});

describe('reads', () => {
  it('pages with has_next_page exactly as shotgun_api3 loops, and returns what one big page returns', async () => {
    const all = await sg.find('Shot', [], ['code']);
    const small = await scriptClient(site, { recordsPerPage: 7 });
    expect(await small.find('Shot', [], ['code'])).toEqual(all);
    const reads = small.sent.filter((s) => s.method === 'read').map((s) => s.payload.params[1] as { paging: { current_page: number } });
    expect(reads.map((p) => p.paging.current_page)).toEqual(Array.from({ length: Math.ceil(all.length / 7) }, (_, i) => i + 1));
    expect(await small.find('Shot', [], ['code'], null, { limit: 10 })).toEqual(all.slice(0, 10));
    expect(await sg.find('Shot', [], ['code'], null, { page: 2, limit: 5 })).toEqual(all.slice(5, 10));
    expect(all.map((s) => s.id)).toEqual([...all.map((s) => s.id as number)].sort((a, b) => a - b)); // default order id asc
  });

  it('follows deep fields through single-entity links', async () => {
    const tasks = await sg.find(
      'Task',
      [['entity', 'type_is', 'Shot']],
      ['entity.Shot.sg_sequence.Sequence.code', 'entity.Shot.code', 'project.Project.name'],
      null,
      { limit: 5 },
    );
    expect(tasks).toHaveLength(5);
    for (const t of tasks) {
      expect(String(t['entity.Shot.sg_sequence.Sequence.code'])).toBe(String(t['entity.Shot.code']).split('_').slice(0, 2).join('_'));
      expect(typeof t['project.Project.name']).toBe('string');
    }
    const byDeep = await sg.find('Shot', [['sg_sequence.Sequence.code', 'is', String(tasks[0]['entity.Shot.sg_sequence.Sequence.code'])]], ['sg_sequence']);
    expect(byDeep.length).toBeGreaterThan(0);
    expect(byDeep.every((s) => (s.sg_sequence as { name: string }).name === tasks[0]['entity.Shot.sg_sequence.Sequence.code'])).toBe(true);
  });

  it('keeps retired rows out of normal reads and returns them with retired_only', async () => {
    const s = await sg.create('Shot', { code: 'READ_RETIRED' });
    await sg.delete('Shot', s.id as number);
    expect(await sg.find('Shot', [['code', 'is', 'READ_RETIRED']])).toEqual([]);
    expect(await sg.find('Shot', [['code', 'is', 'READ_RETIRED']], ['code'], null, { retiredOnly: true })).toEqual([
      { type: 'Shot', id: s.id, code: 'READ_RETIRED' },
    ]);
  });

  it('serves the shotgunEvents poll: newest id first, then id greater_than n in id order, 500 at a time', async () => {
    const latest = await sg.findOne('EventLogEntry', [], ['id'], [{ column: 'id', direction: 'desc' }]);
    const from = latest ? (latest.id as number) : 0;
    for (let i = 0; i < 3; i++) await sg.create('Shot', { code: `READ_POLL_${i}` });
    const batch = await sg.find('EventLogEntry', [['id', 'greater_than', from]], EVENT_FIELDS, [{ column: 'id', direction: 'asc' }], { limit: 500 });
    expect(batch.filter((e) => e.event_type === 'Shotgun_Shot_New')).toHaveLength(3);
    expect(batch.map((e) => e.id)).toEqual([...batch.map((e) => e.id as number)].sort((a, b) => a - b));
    const read = sg.sent.at(-1)!.payload.params[1] as Record<string, unknown>;
    expect(read).toMatchObject({
      paging: { entities_per_page: 500, current_page: 1 },
      return_paging_info_without_counts: false,
      sorts: [{ field_name: 'id', direction: 'asc' }],
    });
    await expect(sg.find('EventLogEntry', [['meta', 'is', null]])).rejects.toThrow(/meta/);
  });

  it('summarizes', async () => {
    const shots = await sg.find('Shot', [], ['sg_status_list']);
    const r = (await sg.summarize('Shot', [], [{ field: 'id', type: 'count' }], [{ field: 'sg_status_list', type: 'exact', direction: 'asc' }])) as {
      summaries: { id: number };
      groups: Array<{ group_name: string; summaries: { id: number } }>;
    };
    expect(r.summaries.id).toBe(shots.length);
    for (const g of r.groups) expect(g.summaries.id).toBe(shots.filter((s) => s.sg_status_list === g.group_name).length);
  });

  it("answers schema_read, schema_entity_read and schema_field_read in the site's {value, editable} shape", async () => {
    const full = await sg.schemaRead();
    expect(Object.keys(full)).toEqual(expect.arrayContaining(['Shot', 'Task', 'EventLogEntry', 'HumanUser']));
    expect(full.Shot.sg_status_list).toEqual({
      data_type: { value: 'status_list', editable: false },
      description: { value: '', editable: true },
      editable: { value: true, editable: false },
      entity_type: { value: 'Shot', editable: false },
      mandatory: { value: false, editable: false },
      name: { value: 'Status', editable: true },
      properties: {
        default_value: { value: 'wtg', editable: true },
        summary_default: { value: 'status_list', editable: true },
        valid_values: { value: ['wtg', 'rdy', 'ip', 'rev', 'fin', 'hld', 'omt', 'cbb'], editable: true },
      },
      unique: { value: false, editable: false },
      visible: { value: true, editable: false },
    });
    expect((full.Task.entity as { properties: { valid_types: { value: string[] } } }).properties.valid_types.value).toEqual(['Asset', 'Sequence', 'Shot']);
    expect((await sg.schemaEntityRead()).Step).toEqual({ name: { value: 'Pipeline Step', editable: false }, visible: { value: true, editable: false } });
    expect(Object.keys(await sg.schemaFieldRead('Shot', 'code'))).toEqual(['code']);
    expect(Object.keys(await sg.schemaFieldRead('Shot'))).toEqual(Object.keys(full.Shot));
    await expect(sg.schemaFieldRead('Shot', 'sg_nope')).rejects.toThrow(/sg_nope/);
  });
});
