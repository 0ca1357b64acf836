// Cached reads through the API over HTTP: hit and pass with their reasons, x-fpt-cache-require, byte-identical hits, gzip, info, /status.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SCRIPT } from '../../local/sim/credentials.js';
import { httpRequest, type RawResponse } from '../stack/http.js';
import { SCRIPT_AUTH, cond, fault, readPayload, results, schema, startHarness, type Harness } from './harness.js';

let h: Harness;
let shot: Record<string, any>;
let task: Record<string, any>;

beforeAll(async () => {
  h = await startHarness('api-reads');
  const first = async (type: string, fields: string[], conditions: unknown[] = []) =>
    (results(await h.direct(readPayload(SCRIPT_AUTH, type, conditions, fields, { paging: { entities_per_page: 1, current_page: 1 } }))) as { entities: any[] })
      .entities[0];
  shot = await first('Shot', ['code', 'project', 'sg_sequence'], [cond('sg_sequence', 'is_not', null)]);
  task = await first('Task', ['content', 'entity', 'project', 'task_assignees'], [cond('entity', 'is_not', null), cond('task_assignees', 'is_not', null)]);
  // The first cached read checks the script's credentials with the site once; later ones reuse the verdict.
  await h.rpc(readPayload(SCRIPT_AUTH, 'Shot', [cond('id', 'is', shot.id)], ['code']));
  h.sim.control.resetStats();
});
afterAll(async () => {
  await h?.close();
});

const tag = (r: RawResponse) => ({ cache: r.headers['x-fpt-cache'], reason: r.headers['x-fpt-cache-reason'] });

describe('hit or pass', () => {
  it('answers a servable read from the cache, without calling the site, tagged hit with the access used', async () => {
    const r = await h.rpc(readPayload(SCRIPT_AUTH, 'Shot', [cond('id', 'is', shot.id)], ['code', 'sg_sequence']));
    expect(tag(r)).toEqual({ cache: 'hit', reason: 'access:ids' });
    expect(results(r).entities).toEqual([{ type: 'Shot', id: shot.id, code: shot.code, sg_sequence: shot.sg_sequence }]);
    expect(h.sim.control.stats().requests).toBe(0);
  });

  it.each([
    ['an uncached type', 'Icon', [], ['id'], {}, 'uncached-type:Icon'],
    ['an EventLogEntry read the kept event log cannot answer', 'EventLogEntry', [], ['id'], {}, 'event-log-filter:project'],
    ['a skipped field', 'Shot', [], ['sg_editorial_data'], {}, 'uncached-field:Shot.sg_editorial_data'],
    ['a clock operator', 'Shot', [cond('created_at', 'in_last', 1, 'DAY')], ['code'], {}, 'operator:in_last'],
    ['an unknown read key', 'Shot', [], ['code'], { frobnicate: true }, 'unknown-key:frobnicate'],
  ])("passes %s through to the site with the engine's reason", async (_what, type, conditions, fields, extra, reason) => {
    const payload = readPayload(SCRIPT_AUTH, type, conditions, fields, extra);
    const r = await h.rpc(payload);
    expect(tag(r)).toEqual({ cache: 'pass', reason });
    expect(r.body.equals((await h.direct(payload)).body)).toBe(true);
  });

  it('answers summarize from the cache, byte-identical to the site, and passes one it cannot answer', async () => {
    const params = {
      type: 'Task',
      summaries: [
        { field: 'id', type: 'count' },
        { field: 'due_date', type: 'latest' },
      ],
      filters: { logical_operator: 'and', conditions: [cond('project', 'is', task.project)] },
      grouping: [{ field: 'sg_status_list', type: 'exact', direction: 'asc' }],
    };
    const payload = { method_name: 'summarize', params: [SCRIPT_AUTH, params] };
    const r = await h.rpc(payload);
    expect(tag(r)).toEqual({ cache: 'hit', reason: 'access:project' });
    expect(r.body.equals((await h.direct(payload)).body)).toBe(true);
    const clock = {
      method_name: 'summarize',
      params: [SCRIPT_AUTH, { ...params, filters: { logical_operator: 'and', conditions: [cond('created_at', 'in_last', 1, 'DAY')] } }],
    };
    expect(tag(await h.rpc(clock))).toEqual({ cache: 'pass', reason: 'operator:in_last' });
  });

  it('passes a read of a type that is not ready yet', async () => {
    const fresh = await startHarness('api-reads-empty', { empty: true });
    try {
      const r = await fresh.rpc(readPayload(SCRIPT_AUTH, 'Shot', [], ['code']));
      expect(tag(r)).toEqual({ cache: 'pass', reason: 'type-not-ready:Shot' });
      expect(results(r).entities.length).toBeGreaterThan(0);
    } finally {
      await fresh.close();
    }
  });

  it('with x-fpt-cache-require: hit, serves hits and turns a pass into fault 1001 naming the reason', async () => {
    const hit = await h.rpc(readPayload(SCRIPT_AUTH, 'Task', [cond('entity', 'is', task.entity)], ['content']), { 'x-fpt-cache-require': 'hit' });
    expect(tag(hit).cache).toBe('hit');
    const before = h.sim.control.stats().requests;
    const refused = await h.rpc(readPayload(SCRIPT_AUTH, 'Shot', [], ['sg_editorial_data']), { 'x-fpt-cache-require': 'hit' });
    expect(refused.status).toBe(200);
    expect(fault(refused)).toMatchObject({ exception: true, error_code: 1001 });
    expect(fault(refused).message).toContain('uncached-field:Shot.sg_editorial_data');
    expect(h.sim.control.stats().requests).toBe(before);
    const schemaRefused = await h.rpc({ method_name: 'schema_read', params: [SCRIPT_AUTH] }, { 'x-fpt-cache-require': 'hit' });
    expect(fault(schemaRefused)).toMatchObject({ error_code: 1001 });
    expect(fault(schemaRefused).message).toContain('method:schema_read');
  });

  it('counts hits and passes (CacheHit, CachePass with the reason class)', async () => {
    const m = { ...h.metrics.counts };
    const reasons = { ...h.metrics.passReasons };
    await h.rpc(readPayload(SCRIPT_AUTH, 'Shot', [cond('id', 'is', shot.id)], ['code']));
    await h.rpc(readPayload(SCRIPT_AUTH, 'Shot', [], ['sg_editorial_data']));
    expect(h.metrics.counts.CacheHit).toBe(m.CacheHit + 1);
    expect(h.metrics.counts.CachePass).toBe(m.CachePass + 1);
    expect(h.metrics.passReasons['uncached-field']).toBe((reasons['uncached-field'] ?? 0) + 1);
  });
});

describe("hits are exactly the site's reply", () => {
  it('is byte-identical to the site for a set of query shapes, each a hit', async () => {
    const shotOrder = { sorts: [{ field_name: 'code', direction: 'desc' }] };
    const cases: Array<[string, ReturnType<typeof readPayload>]> = [
      [
        'find_one by id with deep fields',
        readPayload(SCRIPT_AUTH, 'Task', [cond('id', 'is', task.id)], ['content', 'entity', 'entity.Shot.code', 'project.Project.name', 'task_assignees'], {
          paging: { entities_per_page: 1, current_page: 1 },
        }),
      ],
      [
        'project is, sorted',
        readPayload(SCRIPT_AUTH, 'Shot', [cond('project', 'is', shot.project)], ['code', 'sg_cut_in', 'sg_status_list', 'description', 'tag_list'], shotOrder),
      ],
      ["a Shot's Tasks (link slot)", readPayload(SCRIPT_AUTH, 'Task', [cond('entity', 'is', task.entity)], ['content', 'step', 'sg_status_list', 'due_date'])],
      ['membership (byRef)', readPayload(SCRIPT_AUTH, 'Task', [cond('task_assignees', 'is', task.task_assignees[0])], ['content', 'task_assignees'])],
      [
        'id in, paged with has_next_page',
        readPayload(SCRIPT_AUTH, 'Shot', [cond('id', 'in', shot.id, shot.id + 1, shot.id + 2, 99999999)], ['code'], {
          paging: { entities_per_page: 2, current_page: 1 },
          return_paging_info_without_counts: true,
        }),
      ],
      [
        'legacy paging with counts',
        readPayload(SCRIPT_AUTH, 'Shot', [cond('sg_sequence', 'is', shot.sg_sequence)], ['code', 'sg_sequence'], {
          paging: { entities_per_page: 2, current_page: 2 },
          return_paging_info_without_counts: undefined,
          return_paging_info: true,
        }),
      ],
      [
        'or-group over a whole type',
        readPayload(
          SCRIPT_AUTH,
          'Asset',
          [{ logical_operator: 'or', conditions: [cond('code', 'contains', 'a'), cond('sg_status_list', 'is', 'ip')] }],
          ['code', 'sg_asset_type', 'parents'],
        ),
      ],
      ['retired only', readPayload(SCRIPT_AUTH, 'Shot', [], ['code'], { return_only: 'retired' })],
      ['HumanUser by login', readPayload(SCRIPT_AUTH, 'HumanUser', [cond('login', 'is', 'artist1')], ['name', 'login', 'groups'])],
      ['no match', readPayload(SCRIPT_AUTH, 'Shot', [cond('code', 'is', 'no-such-shot')], ['code'])],
    ];
    for (const [name, payload] of cases) {
      const viaApi = await h.rpc(payload, { 'x-fpt-cache-require': 'hit' });
      expect(tag(viaApi).cache, name).toBe('hit');
      const fromSite = await h.direct(payload);
      expect(viaApi.body.toString('utf8'), name).toBe(fromSite.body.toString('utf8'));
    }
  });
});

describe('transport', () => {
  it('gzips a hit for a client that accepts gzip, and not for one that does not', async () => {
    const payload = readPayload(SCRIPT_AUTH, 'Shot', [cond('project', 'is', shot.project)], ['code', 'description', 'sg_sequence']);
    const zipped = await h.rpc(payload);
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.raw.length).toBeLessThan(zipped.body.length);
    const plain = await h.rpc(payload, { 'accept-encoding': 'identity' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.raw.equals(zipped.body)).toBe(true);
    expect(tag(plain).cache).toBe('hit');
  });

  it("answers info with the site's own reply byte for byte, naming the cache in a header only, from memory after the first call", async () => {
    const site = await h.direct({ method_name: 'info', params: [] });
    const first = await h.rpc({ method_name: 'info', params: [] });
    const second = await h.rpc({ method_name: 'info', params: [] });
    expect(first.body.equals(site.body)).toBe(true);
    expect(results(first)).not.toHaveProperty('fpt_cache');
    expect(first.headers['x-fpt-cache-version']).toBe('0.1.0');
    expect(second.headers['x-fpt-cache-version']).toBe('0.1.0');
    expect(second.body.equals(first.body)).toBe(true);
    expect(tag(second)).toEqual({ cache: 'hit', reason: 'info:memory' });
  });

  it('GET /status reports readiness per cached type, without calling the site', async () => {
    const before = h.sim.control.stats().requests;
    const r = await httpRequest(`${h.api.url}/status`, { method: 'GET', headers: { 'x-fpt-cache-script-key': DEFAULT_SCRIPT.key } });
    const s = r.json() as { ready: boolean; mode: string; version: string; types: Record<string, { ready: boolean; fields: number; of: number }> };
    expect(s.ready).toBe(true);
    expect(s.mode).toBe('cache');
    expect(Object.keys(s.types).sort()).toEqual([...schema.site.typeNames].sort());
    expect(s.types.Shot).toEqual({
      ready: true,
      fields: Object.keys(schema.site.type('Shot')!.fields).length,
      of: Object.keys(schema.site.type('Shot')!.fields).length,
    });
    expect(h.sim.control.stats().requests).toBe(before);
  });

  it("GET /status tells anyone readiness only: the upstream, types and quarantines need the cache's own script key", async () => {
    for (const headers of [{} as Record<string, string>, { 'x-fpt-cache-script-key': 'a-guess' }, { 'x-fpt-cache-script-key': `${DEFAULT_SCRIPT.key}x` }]) {
      const r = await httpRequest(`${h.api.url}/status`, { method: 'GET', headers });
      expect(r.json()).toEqual({ ready: true, mode: 'cache', version: expect.any(String) });
      expect(r.body.toString()).not.toContain(new URL(h.sim.url).host);
    }
  });
});
