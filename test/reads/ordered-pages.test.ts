// Index-ordered paging (issue 25): a page of a read ordered by id reads about a page of items from the store, not the whole project or type, and every page (first, middle, last, past the end; asc and desc) is the site's, byte for byte.
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

const schema = loadCachedSchema('schema/default.yml');
const ddb = dynamo();
const NOW = new Date('2025-06-02T12:00:00Z');
let site: SimSite;
let client: ShotgunClient;
let engine: ReadEngine;
/** The project with the most Versions, and how many (active) it has. */
let project: { type: string; id: number };
let inProject: number;
let projects: Array<{ type: string; id: number }>;
let shot: { type: string; id: number };

type Params = Record<string, unknown>;
type Reply = { entities: Array<Record<string, any>>; paging_info?: unknown };

beforeAll(async () => {
  site = await startSimSite({ port: 0, entities: 1500, mix: 'studio', seed: 5, now: () => NOW });
  client = new ShotgunClient({ url: site.url, scriptName: DEFAULT_SCRIPT.name, scriptKey: DEFAULT_SCRIPT.key });
  const tables = await freshTables(ddb, 'ordered');
  await importSite(client, new EntityStore(ddb, tables, schema), schema, 1, ['Project', 'Shot', 'Version']);
  const ready = Readiness.all(Object.fromEntries(schema.site.typeNames.map((t) => [t, Object.keys(schema.site.type(t)!.fields)])));
  engine = new ReadEngine(new EntityStore(ddb, tables, schema), schema, { readiness: () => ready, now: () => NOW });
  const all = await client.call<Reply>('read', read('Version', [], ['project', 'entity'], { paging: { entities_per_page: 500, current_page: 1 } }));
  const per = new Map<number, number>();
  for (const v of all.entities) if (v.project) per.set(v.project.id, (per.get(v.project.id) ?? 0) + 1);
  const [top] = [...per].sort((a, b) => b[1] - a[1]);
  project = { type: 'Project', id: top[0] };
  inProject = top[1];
  projects = [...per.keys()].map((id) => ({ type: 'Project', id }));
  shot = all.entities.find((v) => v.entity?.type === 'Shot')!.entity;
}, 120_000);
afterAll(async () => {
  await site?.close();
  ddb.destroy();
});

/** The cache's answer, which must be the site's byte for byte; returns what it cost. */
async function same(name: string, params: Params): Promise<{ items: number; rows: number; access: string }> {
  const [fromSite, fromCache] = await Promise.all([client.call<Reply>('read', params), engine.read(params)]);
  if (!fromCache.served) return expect.fail(`${name}: not served (${fromCache.reason})`);
  const differs = answerDifference(JSON.stringify(fromCache.result), JSON.stringify(fromSite), { nowMs: NOW.getTime() });
  if (differs) expect.fail(`${name}: cache and site ${differs}`);
  return { items: fromCache.stats.items, rows: fromCache.result.entities.length, access: fromCache.access };
}

const FIELDS = ['code', 'sg_status_list', 'entity', 'entity.Shot.code'];
const page = (per: number, current: number, extra: Params = {}) => ({ paging: { entities_per_page: per, current_page: current }, ...extra });
const byId = (direction: 'asc' | 'desc') => ({ sorts: [{ field_name: 'id', direction }] });

describe('index-ordered paging', () => {
  it("a project's first page of 10 reads about 10 Versions, not the project's", async () => {
    expect(inProject).toBeGreaterThan(100);
    const r = await same('first page', read('Version', [cond('project', 'is', project)], ['code', 'sg_status_list'], page(10, 1, byId('asc'))));
    expect(r.rows).toBe(10);
    expect(r.access).toBe('project');
    expect(r.items).toBe(10);
    // has_next_page needs one row more; the deep return field one Shot per distinct Shot on the page.
    const next = await same(
      'has_next_page',
      read('Version', [cond('project', 'is', project)], FIELDS, page(10, 1, { return_paging_info_without_counts: true })),
    );
    expect(next.items).toBeLessThanOrEqual(11 + 11);
    // A middle page reads up to its end, still a fraction of the project.
    const mid = await same('page 5', read('Version', [cond('project', 'is', project)], ['code'], page(10, 5)));
    expect(mid.items).toBe(50);
  });

  it('every page, asc and desc, with and without paging info, is the site answer', async () => {
    const per = 25;
    const last = Math.ceil(inProject / per);
    for (const direction of ['asc', 'desc'] as const) {
      for (const current of [1, 2, Math.ceil(last / 2), last, last + 1]) {
        for (const flag of [{}, { return_paging_info_without_counts: true }, { return_paging_info: true }]) {
          const name = `${direction} page ${current} ${JSON.stringify(flag)}`;
          const r = await same(name, read('Version', [cond('project', 'is', project)], FIELDS, page(per, current, { ...byId(direction), ...flag })));
          expect(r.rows, name).toBe(Math.max(0, Math.min(per, inProject - (current - 1) * per)));
        }
      }
    }
  });

  it('no sort is id asc; id first decides over later keys', async () => {
    const p = (extra: Params) => read('Version', [cond('project', 'is', project)], ['code'], page(20, 2, extra));
    expect((await same('no sort', p({}))).items).toBe(40);
    expect((await same('id desc then code', p({ sorts: [...byId('desc').sorts, { field_name: 'code', direction: 'asc' }] }))).items).toBe(40);
  });

  it('sparse matches, retired rows, archived projects, several projects, a whole type, a link: the same pages', async () => {
    const status = (await client.call<Reply>('read', read('Version', [cond('project', 'is', project)], ['sg_status_list'], page(1, 1)))).entities[0]
      .sg_status_list;
    const cases: Array<[string, Params]> = [
      ['status filter', read('Version', [cond('project', 'is', project), cond('sg_status_list', 'is', status)], FIELDS, page(7, 2, byId('desc')))],
      ['status not (sparse)', read('Version', [cond('project', 'is', project), cond('sg_status_list', 'is_not', status)], ['code'], page(5, 3))],
      ['retired', read('Version', [cond('project', 'is', project)], ['code'], page(5, 1, { return_only: 'retired' }))],
      ['archived projects left out', read('Version', [cond('project', 'is', project)], ['code'], page(10, 2, { include_archived_projects: false }))],
      ['project in', read('Version', [cond('project', 'in', ...projects)], ['code', 'project'], page(15, 3, byId('desc')))],
      ['project in, has_next', read('Version', [cond('project', 'in', ...projects)], ['code'], page(15, 1, { return_paging_info_without_counts: true }))],
      ['whole type', read('Version', [], ['code'], page(10, 4, byId('desc')))],
      ['link', read('Version', [cond('entity', 'is', shot)], ['code'], page(2, 2))],
      ['no match', read('Version', [cond('project', 'is', project), cond('code', 'is', 'no such code')], ['code'], page(10, 1))],
    ];
    for (const [name, params] of cases) await same(name, params);
    // A whole-type page reads its page, not the type.
    expect((await same('whole type page 1', read('Version', [], ['code'], page(10, 1)))).items).toBe(10);
  });

  it('a read that needs the total count still reads every candidate', async () => {
    const r = await same('counts', read('Version', [cond('project', 'is', project)], ['code'], page(10, 1, { return_paging_info: true })));
    expect(r.items).toBeGreaterThanOrEqual(inProject);
  });
});
