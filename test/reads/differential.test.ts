import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EntityStore, Readiness } from '../../shared/store/index.js';
import { loadCachedSchema } from '../../shared/schema/index.js';
import { ReadEngine } from '../../shared/query/index.js';
import { ShotgunClient, readParams as read, wireCondition as cond } from '../../shared/site/index.js';
import { startSimSite, type SimSite } from '../../local/sim/server.js';
import { DEFAULT_SCRIPT } from '../../local/sim/credentials.js';
import { dynamo, freshTables } from '../store/helpers.js';
import { importSite } from './importer.js';
import { answerDifference } from '../support/same-answer.js';

// The same `read` against the simulated site and against the cache's engine over the imported data must give
// byte-identical JSON. Both run the shared semantics model; what this pins is that the store, the planner's
// candidate sets and the link facts feed it exactly what the site's own store holds.
const schema = loadCachedSchema('schema/default.yml');
const ddb = dynamo();
let site: SimSite;
let client: ShotgunClient;
let engine: ReadEngine;
let counts: Record<string, number>;
const NOW = new Date('2025-06-02T12:00:00Z');

beforeAll(async () => {
  site = await startSimSite({ port: 0, entities: 400, seed: 3, now: () => NOW });
  client = new ShotgunClient({ url: site.url, scriptName: DEFAULT_SCRIPT.name, scriptKey: DEFAULT_SCRIPT.key });
  const tables = await freshTables(ddb, 'reads');
  const store = new EntityStore(ddb, tables, schema);
  counts = await importSite(client, store, schema);
  const ready = Readiness.all(Object.fromEntries(schema.site.typeNames.map((t) => [t, Object.keys(schema.site.type(t)!.fields)])));
  engine = new ReadEngine(store, schema, { readiness: () => ready, now: () => NOW });
});
afterAll(async () => {
  await site?.close();
  ddb.destroy();
});

type Params = Record<string, unknown>;

async function both(params: Params) {
  const fromSite = await client.call('read', params);
  const fromCache = await engine.read(params);
  return { fromSite, fromCache };
}

/** Picks real ids from the site so the queries hit data. */
async function first(type: string, fields: string[], filters: unknown[] = []): Promise<Record<string, any>> {
  const r = await client.call<{ entities: Array<Record<string, any>> }>(
    'read',
    read(type, filters, fields, { paging: { entities_per_page: 1, current_page: 1 } }),
  );
  return r.entities[0];
}

describe('differential: site vs cache engine, byte-identical', () => {
  it('imported every cached type', () => {
    expect(counts.Shot).toBeGreaterThan(10);
    expect(counts.Task).toBeGreaterThan(10);
    expect(Object.keys(counts).sort()).toEqual([...schema.site.typeNames].sort());
  });

  it('answers each query shape exactly, through the index the planner picks', async () => {
    const task = await first('Task', ['entity', 'project', 'task_assignees', 'step']);
    const shot = await first('Shot', ['sg_sequence', 'project'], [cond('sg_sequence', 'is_not', null)]);
    const version = await first('Version', ['entity', 'sg_task', 'user'], [cond('sg_task', 'is_not', null)]);
    const pf = await first('PublishedFile', ['task', 'entity'], [cond('task', 'is_not', null)]);
    const note = await first('Note', ['note_links'], [cond('note_links', 'is_not', null)]);
    const assignee = (await first('Task', ['task_assignees'], [cond('task_assignees', 'is_not', null)])).task_assignees[0];
    const ids = [task.id, task.id + 3, task.id + 7, 99999999];
    const cases: Array<{ name: string; params: Params; access: string }> = [
      { name: 'all shots, default order', params: read('Shot', [], ['code', 'sg_sequence', 'sg_status_list', 'tasks', 'project']), access: 'type' },
      {
        name: 'id in, sorted desc by code',
        params: read('Task', [cond('id', 'in', ...ids)], ['content', 'entity', 'step'], { sorts: [{ field_name: 'content', direction: 'desc' }] }),
        access: 'ids',
      },
      {
        name: 'find_one by id',
        params: read('Task', [cond('id', 'is', task.id)], ['content', 'task_assignees', 'entity.Shot.code', 'project.Project.name'], {
          paging: { entities_per_page: 1, current_page: 1 },
        }),
        access: 'ids',
      },
      {
        name: 'project is',
        params: read('Shot', [cond('project', 'is', shot.project)], ['code', 'sg_cut_in', 'sg_cut_out'], {
          sorts: [{ field_name: 'sg_cut_in', direction: 'asc' }],
        }),
        access: 'project',
      },
      {
        name: 'project is + status in',
        params: read('Task', [cond('project', 'is', task.project), cond('sg_status_list', 'in', 'ip', 'wtg')], ['content', 'sg_status_list', 'due_date']),
        access: 'project',
      },
      {
        name: 'Task.entity is (slot)',
        params: read('Task', [cond('entity', 'is', task.entity)], ['content', 'step', 'task_assignees', 'sg_status_list']),
        access: 'link',
      },
      {
        name: 'Shot.sg_sequence is (slot) with a deep return',
        params: read('Shot', [cond('sg_sequence', 'is', shot.sg_sequence)], ['code', 'sg_sequence.Sequence.code', 'sg_sequence.Sequence.sg_status_list']),
        access: 'link',
      },
      {
        name: 'Version.entity is + sg_task is',
        params: read('Version', [cond('entity', 'is', version.entity), cond('sg_task', 'is', version.sg_task)], ['code', 'user', 'sg_task.Task.content']),
        access: 'link',
      },
      {
        name: 'PublishedFile.task is',
        params: read('PublishedFile', [cond('task', 'is', pf.task)], ['code', 'version_number', 'published_file_type', 'entity']),
        access: 'link',
      },
      {
        name: 'task_assignees is (membership)',
        params: read('Task', [cond('task_assignees', 'is', assignee)], ['content', 'task_assignees', 'sg_status_list']),
        access: 'ref',
      },
      {
        name: 'Note.note_links in (membership)',
        params: read('Note', [cond('note_links', 'in', note.note_links[0], shot)], ['subject', 'note_links', 'tasks']),
        access: 'ref',
      },
      { name: 'entity in of several types', params: read('Task', [cond('entity', 'in', task.entity, shot)], ['content', 'entity']), access: 'link' },
      {
        name: 'or group of text conditions, name_contains, paging with counts',
        params: read(
          'Asset',
          [{ logical_operator: 'or', conditions: [cond('code', 'contains', 'a'), cond('sg_asset_type', 'is', 'Prop')] }],
          ['code', 'sg_asset_type', 'parents'],
          { paging: { entities_per_page: 5, current_page: 2 }, return_paging_info: true },
        ),
        access: 'type',
      },
      {
        name: 'deep filter through an entity link',
        params: read('Task', [cond('entity.Shot.sg_status_list', 'in', 'ip', 'fin')], ['content', 'entity'], {
          sorts: [
            { field_name: 'entity', direction: 'asc' },
            { field_name: 'id', direction: 'desc' },
          ],
        }),
        access: 'type',
      },
      {
        name: 'deep filter semi-joined through slots',
        params: read('Task', [cond('entity.Shot.sg_sequence', 'is', shot.sg_sequence)], ['content', 'entity', 'entity.Shot.code']),
        access: 'semi',
      },
      { name: 'deep filter through a multi-entity link', params: read('Shot', [cond('tasks.Task.sg_status_list', 'is', 'fin')], ['code']), access: 'type' },
      {
        name: 'name_contains on a link, has_next_page',
        params: read('Version', [cond('entity', 'name_contains', 'sh')], ['code', 'entity'], {
          paging: { entities_per_page: 7, current_page: 1 },
          return_paging_info_without_counts: true,
        }),
        access: 'type',
      },
      { name: 'retired rows', params: read('Task', [], ['content', 'entity'], { return_only: 'retired' }), access: 'type' },
      {
        name: 'users by name, date_time filter',
        params: read('HumanUser', [cond('created_at', 'greater_than', '2020-01-01T00:00:00Z')], ['name', 'login', 'groups', 'sg_status_list'], {
          sorts: [{ field_name: 'name', direction: 'asc' }],
        }),
        access: 'type',
      },
      { name: 'playlist versions', params: read('Playlist', [], ['code', 'versions', 'sg_date_and_time', 'locked']), access: 'type' },
      { name: 'empty id in', params: read('Shot', [cond('id', 'in')], ['code']), access: 'ids' },
      {
        name: 'type, id and a repeated field in return_fields',
        params: read('Step', [], ['type', 'code', 'id', 'code', 'entity_type', 'color']),
        access: 'type',
      },
    ];
    const figures: string[] = [];
    for (const c of cases) {
      const { fromSite, fromCache } = await both(c.params);
      expect(fromCache, c.name).toMatchObject({ served: true });
      if (!fromCache.served) continue;
      const differs = answerDifference(JSON.stringify(fromCache.result), JSON.stringify(fromSite), { nowMs: NOW.getTime() });
      if (differs) expect.fail(`${c.name}: cache and site ${differs}`);
      expect(fromCache.access, c.name).toBe(c.access);
      const n = fromCache.result.entities.length;
      figures.push(
        `${c.name}: access=${fromCache.access} returned=${n} candidates=${fromCache.candidates} items=${fromCache.stats.items} rcu=${fromCache.stats.rcu} calls=${fromCache.stats.calls}`,
      );
    }
    // Not every case may return rows, but most must, or the comparison proves little.
    expect(figures.filter((f) => !f.includes('returned=0')).length).toBeGreaterThan(cases.length - 4);
    console.log(figures.join('\n'));
  });

  it('reads through an index touch only the matching entities', async () => {
    const task = await first('Task', ['entity']);
    const r = await engine.read(read('Task', [cond('entity', 'is', task.entity)], ['content']));
    const fromSite = await client.call<{ entities: unknown[] }>('read', read('Task', [cond('entity', 'is', task.entity)], ['content']));
    expect(r.served && r.stats.items).toBe(fromSite.entities.length);
    const byId = await engine.read(read('Task', [cond('id', 'is', task.id)], ['content']));
    expect(byId.served && byId.stats.items).toBe(1);
  });

  it('reads at most 1.5 DynamoDB items per entity returned for each indexed query shape', async () => {
    const task = await first('Task', ['entity', 'project'], [cond('entity', 'type_is', 'Shot')]);
    const shot = await first('Shot', ['sg_sequence', 'project'], [cond('sg_sequence', 'is_not', null)]);
    const version = await first('Version', ['entity'], [cond('entity', 'is_not', null)]);
    const pf = await first('PublishedFile', ['task'], [cond('task', 'is_not', null)]);
    const assignee = (await first('Task', ['task_assignees'], [cond('task_assignees', 'is_not', null)])).task_assignees[0];
    const shapes: Array<[string, Params, 'items' | 'rcu']> = [
      ['id in', read('Task', [cond('id', 'in', task.id, task.id + 1, task.id + 2)], ['content']), 'items'],
      ['Task.entity is', read('Task', [cond('entity', 'is', task.entity)], ['content', 'step']), 'items'],
      ['Version.entity is', read('Version', [cond('entity', 'is', version.entity)], ['code']), 'items'],
      ['PublishedFile.task is', read('PublishedFile', [cond('task', 'is', pf.task)], ['code']), 'items'],
      ['Shot.sg_sequence is', read('Shot', [cond('sg_sequence', 'is', shot.sg_sequence)], ['code']), 'items'],
      ['project is', read('Shot', [cond('project', 'is', shot.project)], ['code']), 'items'],
      // Membership reads key-only edge rows (~100 bytes each, dozens per 4 KB read unit) and then the entities:
      // counted from ConsumedCapacity as 4 KB eventually consistent reads (1 RCU = 2 such reads).
      ['task_assignees is (membership)', read('Task', [cond('task_assignees', 'is', assignee)], ['content']), 'rcu'],
    ];
    for (const [name, params, unit] of shapes) {
      const r = await engine.read(params);
      expect(r.served, name).toBe(true);
      if (!r.served) continue;
      const n = r.result.entities.length;
      expect(n, `${name} returns rows`).toBeGreaterThan(0);
      const reads = unit === 'items' ? r.stats.items : r.stats.rcu * 2;
      expect(reads / n, `${name}: ${reads} reads for ${n} entities`).toBeLessThanOrEqual(1.5);
      expect(['ids', 'link', 'ref', 'project'], `${name} uses an index, never a scan of the type`).toContain(r.access);
    }
    // A deep filter semi-joined through slots reads the matching Shots once (reused for the deep hop) plus the Tasks.
    const deep = await engine.read(read('Task', [cond('entity.Shot.sg_sequence', 'is', shot.sg_sequence)], ['content']));
    const shots = await client.call<{ entities: unknown[] }>(
      'read',
      read('Shot', [cond('sg_sequence', 'is', shot.sg_sequence)], ['id'], { return_only: 'active' }),
    );
    const retiredShots = await client.call<{ entities: unknown[] }>(
      'read',
      read('Shot', [cond('sg_sequence', 'is', shot.sg_sequence)], ['id'], { return_only: 'retired' }),
    );
    expect(deep.served && deep.access).toBe('semi');
    if (deep.served) expect(deep.stats.items).toBe(shots.entities.length + retiredShots.entities.length + deep.candidates);
  });

  it('answers summarize exactly from the cache, and passes what it cannot', async () => {
    const shot = await first('Shot', ['project'], [cond('project', 'is_not', null)]);
    const f = (...conditions: unknown[]) => ({ logical_operator: 'and', conditions });
    const cases: Params[] = [
      { type: 'Shot', summaries: [{ field: 'id', type: 'record_count' }], filters: f(cond('project', 'is', shot.project)) },
      {
        type: 'Shot',
        summaries: [
          { field: 'sg_cut_in', type: 'sum' },
          { field: 'sg_cut_out', type: 'maximum' },
          { field: 'sg_cut_duration', type: 'average' },
        ],
        filters: f(),
        grouping: [{ field: 'sg_status_list', type: 'exact', direction: 'asc' }],
      },
      {
        type: 'Task',
        summaries: [
          { field: 'id', type: 'count' },
          { field: 'due_date', type: 'earliest' },
        ],
        filters: f(cond('sg_status_list', 'in', 'ip', 'wtg')),
        grouping: [
          { field: 'entity', type: 'exact', direction: 'desc' },
          { field: 'step', type: 'exact', direction: 'asc' },
        ],
      },
      {
        type: 'Version',
        summaries: [
          { field: 'flagged', type: 'checked' },
          { field: 'client_approved', type: 'unchecked' },
        ],
        filters: f(),
      },
    ];
    for (const params of cases) {
      const fromSite = await client.call('summarize', params);
      const fromCache = await engine.summarize(params);
      expect(fromCache.served, JSON.stringify(params)).toBe(true);
      if (fromCache.served) expect(JSON.stringify(fromCache.result)).toBe(JSON.stringify(fromSite));
    }
    const passed = await engine.summarize({ type: 'Shot', summaries: [{ field: 'sg_editorial_data', type: 'count' }], filters: f() });
    expect(passed).toEqual({ served: false, reason: 'uncached-field:Shot.sg_editorial_data' });
    expect(
      await engine.summarize({ type: 'Shot', summaries: [{ field: 'id', type: 'record_count' }], filters: f(cond('created_at', 'in_last', 1, 'DAY')) }),
    ).toEqual({ served: false, reason: 'operator:in_last' });
  });

  it('passes through what it cannot answer exactly, with a machine-readable reason', async () => {
    const cases: Array<[Params, string]> = [
      [read('Shot', [], ['code', 'sg_editorial_data']), 'uncached-field:Shot.sg_editorial_data'],
      [read('Shot', [cond('sg_editorial_data', 'is', null)], ['code']), 'uncached-field:Shot.sg_editorial_data'],
      [read('Shot', [cond('updated_at', 'in_last', 7, 'DAY')], ['code']), 'operator:in_last'],
      [read('Shot', [cond('code', 'greater_than', 'a')], ['code']), 'operator:greater_than'],
      [read('Shot', [], ['code'], { foo: 1 }), 'unknown-key:foo'],
      [read('Shot', [], ['code'], { additional_filter_presets: [{ preset_name: 'LATEST', latest_by: 'ENTITIES_CREATED_AT' }] }), 'additional-filter-presets'],
      [read('EventLogEntry', [], ['id']), 'uncached-type:EventLogEntry'],
      [read('Version', [], ['code', 'user.ApiUser.firstname']), 'uncached-type:ApiUser'],
      [read('Shot', [], ['code', 'sg_nonexistent']), 'uncached-field:Shot.sg_nonexistent'],
      [read('Shot', [cond('code', 'is', 'a', 'b')], ['code']), 'invalid-request'],
    ];
    for (const [params, reason] of cases) expect(await engine.read(params), reason).toEqual({ served: false, reason });
    // The site signed its image URLs on its clock (NOW, 2025); by the engine's (the real one) they have expired.
    expect(await engine.read(read('Shot', [cond('image', 'is_not', null)], ['code', 'image']))).toMatchObject({ served: false, reason: 'signed-url-expiring' });
    const notReady = new ReadEngine((engine as unknown as { store: EntityStore }).store, schema, { readiness: () => Readiness.empty() });
    expect(await notReady.read(read('Shot', [], ['code']))).toEqual({ served: false, reason: 'type-not-ready:Shot' });
  });
});
