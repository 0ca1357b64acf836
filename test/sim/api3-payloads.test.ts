// shared/site/api3-payloads.ts builds exactly what shotgun_api3 v3.10 sends (cases from its test_unit.py and protocol.md §3-§5).
import { describe, expect, it } from 'vitest';
import {
  authParams,
  batchParams,
  createParams,
  findPlan,
  PayloadError,
  rpcPayload,
  schemaFieldReadParams,
  schemaParams,
  summarizeParams,
  transformOutbound,
  translateFilters,
  updateParams,
} from '../../shared/site/index.js';

const MODERN = { version: [8, 50, 0] as const, recordsPerPage: 500 };
const LEGACY = { version: [7, 3, 0] as const, recordsPerPage: 500 };

describe('translateFilters', () => {
  it('translates empty filters and the any/or operator', () => {
    expect(translateFilters([], null)).toEqual({ logical_operator: 'and', conditions: [] });
    expect(
      translateFilters(
        [
          ['code', 'is', 'test'],
          ['sg_status_list', 'is', 'ip'],
        ],
        'any',
      ),
    ).toEqual({
      logical_operator: 'or',
      conditions: [
        { path: 'code', relation: 'is', values: ['test'] },
        { path: 'sg_status_list', relation: 'is', values: ['ip'] },
      ],
    });
  });

  it('unwraps a single list value, so both array styles give the same wire', () => {
    const expected = { logical_operator: 'and', conditions: [{ path: 'code', relation: 'in', values: ['test1', 'test2', 'test3'] }] };
    expect(translateFilters([['code', 'in', 'test1', 'test2', 'test3']], 'all')).toEqual(expected);
    expect(translateFilters([['code', 'in', ['test1', 'test2', 'test3']]], 'all')).toEqual(expected);
    expect(translateFilters([['sg_cut_in', 'between', 1, null]])).toEqual({
      logical_operator: 'and',
      conditions: [{ path: 'sg_cut_in', relation: 'between', values: [1, null] }],
    });
  });

  it('nests {filter_operator, filters} groups recursively', () => {
    const filters = [
      ['code', 'in', 'test'],
      { filter_operator: 'any', filters: [['sg_status_list', 'is', 'ip'], { filter_operator: 'all', filters: [['assets', 'is', { type: 'Asset', id: 9 }]] }] },
    ];
    expect(translateFilters(filters, 'all')).toEqual({
      logical_operator: 'and',
      conditions: [
        { path: 'code', relation: 'in', values: ['test'] },
        {
          logical_operator: 'or',
          conditions: [
            { path: 'sg_status_list', relation: 'is', values: ['ip'] },
            { logical_operator: 'and', conditions: [{ path: 'assets', relation: 'is', values: [{ type: 'Asset', id: 9 }] }] },
          ],
        },
      ],
    });
  });

  it('rejects what the client rejects', () => {
    expect(() => translateFilters([], 'bogus')).toThrow(PayloadError);
    expect(() => translateFilters(['bogus' as unknown as string[]], 'all')).toThrow(PayloadError);
    expect(() => translateFilters([{ filter_operator: 'bogus', filters: [] }], 'all')).toThrow(PayloadError);
    expect(() => translateFilters([{ filters: [] }], 'all')).toThrow(PayloadError);
    expect(() => translateFilters([{ filter_operator: 'all', filters: { bogus: 'bogus' } }], 'all')).toThrow(PayloadError);
    // values[0] is read for is/in on non-id paths: an empty list fails client-side; ["id", "in", []] is sent.
    expect(() => translateFilters([['code', 'in', []]])).toThrow(PayloadError);
    expect(translateFilters([['id', 'in', []]]).conditions[0]).toEqual({ path: 'id', relation: 'in', values: [] });
  });

  it('optimises entity dicts in is/is_not/in/not_in to type, id and the kept keys', () => {
    const big = { foo: 'foo', id: 999, type: 'Anything', name: 'n', url: 'u', bar: 1 };
    expect(translateFilters([['project', 'is', big]]).conditions[0]).toEqual({
      path: 'project',
      relation: 'is',
      values: [{ type: 'Anything', id: 999, name: 'n', url: 'u' }],
    });
    expect(translateFilters([['project', 'in', [{ id: 1, type: 'P', x: 1 }, { id: 2, type: 'P' }, { foo3: 'foo3' }]]]).conditions[0].valueOf()).toEqual({
      path: 'project',
      relation: 'in',
      values: [{ type: 'P', id: 1 }, { type: 'P', id: 2 }, { foo3: 'foo3' }],
    });
    expect(translateFilters([['something', 'is', { foo: 'foo' }]]).conditions[0]).toEqual({ path: 'something', relation: 'is', values: [{ foo: 'foo' }] });
    expect(translateFilters([['project', 'is', big]], null, { entityOptimization: false }).conditions[0]).toEqual({
      path: 'project',
      relation: 'is',
      values: [big],
    });
    expect(translateFilters([['entity', 'type_is', 'Shot']]).conditions[0]).toEqual({ path: 'entity', relation: 'type_is', values: ['Shot'] });
  });
});

describe('findPlan', () => {
  it('builds the find_one of protocol.md §3.3 exactly', () => {
    const plan = findPlan(
      {
        type: 'Shot',
        fields: ['code'],
        limit: 1,
        order: [{ column: 'code' }],
        filters: [
          ['created_at', 'greater_than', new Date(Date.UTC(2020, 0, 1))],
          {
            filter_operator: 'any',
            filters: [
              ['code', 'in', ['sh001', 'sh003']],
              ['id', 'in', 1, 2],
            ],
          },
        ],
      },
      MODERN,
    );
    expect(plan.single).toBe(true);
    expect(JSON.stringify(plan.params)).toBe(
      JSON.stringify({
        type: 'Shot',
        return_fields: ['code'],
        filters: {
          logical_operator: 'and',
          conditions: [
            { path: 'created_at', relation: 'greater_than', values: ['2020-01-01T00:00:00Z'] },
            {
              logical_operator: 'or',
              conditions: [
                { path: 'code', relation: 'in', values: ['sh001', 'sh003'] },
                { path: 'id', relation: 'in', values: [1, 2] },
              ],
            },
          ],
        },
        return_only: 'active',
        paging: { entities_per_page: 1, current_page: 1 },
        sorts: [{ field_name: 'code', direction: 'asc' }],
        api_return_image_urls: true,
        return_paging_info_without_counts: false,
      }),
    );
  });

  it('pages with the flag the server version calls for', () => {
    const modern = findPlan({ type: 'Shot' }, MODERN);
    expect(modern.single).toBe(false);
    expect(modern.params).toMatchObject({
      return_fields: ['id'],
      paging: { entities_per_page: 500, current_page: 1 },
      return_paging_info_without_counts: true,
    });
    const legacy = findPlan({ type: 'Shot', limit: 600 }, LEGACY);
    expect(legacy.single).toBe(false);
    expect(legacy.params).toMatchObject({ paging: { entities_per_page: 500, current_page: 1 }, return_paging_info: true });
    expect(legacy.params).not.toHaveProperty('return_paging_info_without_counts');
  });

  it('sends page, limit, retired_only, include_archived_projects and dict filters as the client does', () => {
    expect(findPlan({ type: 'Shot', page: 3 }, MODERN).params.paging).toEqual({ entities_per_page: 500, current_page: 3 });
    expect(findPlan({ type: 'Shot', page: 2, limit: 7 }, MODERN).params.paging).toEqual({ entities_per_page: 7, current_page: 2 });
    const p = findPlan({ type: 'Shot', retiredOnly: true, includeArchivedProjects: false, filters: { logical_operator: 'or', conditions: [] } }, MODERN).params;
    expect(p.return_only).toBe('retired');
    expect(p.include_archived_projects).toBe(false);
    expect(p.filters).toEqual({ logical_operator: 'or', conditions: [] });
    expect(() => findPlan({ type: 'Shot', filters: { logical_operator: 'or', conditions: [] }, filterOperator: 'any' }, MODERN)).toThrow(/Deprecated/);
    expect(() => findPlan({ type: 'Shot', limit: -1 }, MODERN)).toThrow(/limit/);
    expect(Object.keys(findPlan({ type: 'Shot' }, MODERN).params)).not.toContain('include_archived_projects');
  });
});

describe('write params', () => {
  it('create: fields list, return_fields default, image popped for upload, values not optimised', () => {
    expect(createParams('Shot', { code: 'a', project: { type: 'Project', id: 1, name: 'Demo', extra: 1 } })).toEqual({
      type: 'Shot',
      fields: [
        { field_name: 'code', value: 'a' },
        { field_name: 'project', value: { type: 'Project', id: 1, name: 'Demo', extra: 1 } },
      ],
      return_fields: ['id'],
    });
    expect(createParams('Shot', { code: 'a', image: '/tmp/x.png' }, ['image', 'code'])).toEqual({
      type: 'Shot',
      fields: [{ field_name: 'code', value: 'a' }],
      return_fields: ['code'],
    });
  });

  it('update: optimises entity values and adds per-field modes (test_unit.py cases)', () => {
    expect(
      updateParams(
        'Anything',
        999,
        { name: 'test', link: { name: 'test', url: 'http://test.com' }, project: { foo1: 'foo1', id: 888, type: 'Project' } },
        { project: 'set', link: 'set', name: 'set' },
      ),
    ).toEqual({
      id: 999,
      type: 'Anything',
      fields: [
        { field_name: 'name', value: 'test', multi_entity_update_mode: 'set' },
        { field_name: 'link', value: { name: 'test', url: 'http://test.com' }, multi_entity_update_mode: 'set' },
        { field_name: 'project', value: { id: 888, type: 'Project' }, multi_entity_update_mode: 'set' },
      ],
    });
    expect(updateParams('Asset', 1, { sg_vvv: [{ id: 6441, type: 'Asset', custom_name: 'x' }, { sg_nested: { id: 1, type: 'E', foo: 1 } }] })).toEqual({
      type: 'Asset',
      id: 1,
      fields: [{ field_name: 'sg_vvv', value: [{ id: 6441, type: 'Asset' }, { sg_nested: { id: 1, type: 'E', foo: 1 } }] }],
    });
    expect(updateParams('Shot', 1, { image: '/tmp/x.png' })).toBeUndefined();
    expect(updateParams('Shot', 1, { image: null })).toEqual({ type: 'Shot', id: 1, fields: [{ field_name: 'image', value: null }] });
  });

  it('batch: request_type items, required keys checked, top-level mode copied', () => {
    expect(
      batchParams([
        { request_type: 'create', entity_type: 'Shot', data: { code: 'b1' } },
        {
          request_type: 'update',
          entity_type: 'Shot',
          entity_id: 3,
          data: { assets: [] },
          multi_entity_update_modes: { assets: 'add' },
          multi_entity_update_mode: 'add',
        },
        { request_type: 'delete', entity_type: 'Shot', entity_id: 4 },
      ]),
    ).toEqual([
      { request_type: 'create', type: 'Shot', fields: [{ field_name: 'code', value: 'b1' }], return_fields: ['id'] },
      {
        request_type: 'update',
        type: 'Shot',
        id: 3,
        fields: [{ field_name: 'assets', value: [], multi_entity_update_mode: 'add' }],
        multi_entity_update_mode: 'add',
      },
      { request_type: 'delete', type: 'Shot', id: 4 },
    ]);
    expect(() => batchParams([{}])).toThrow(/missing required key/);
    expect(() => batchParams([{ request_type: 'update', entity_type: 'Shot', data: {} }])).toThrow(/entity_id/);
    expect(() => batchParams([{ request_type: 'not_real_type', entity_type: 'Shot' }])).toThrow(/Invalid request_type/);
  });
});

describe('auth and envelope', () => {
  it('picks the first credential kind and adds session_uuid, sudo_as_login and extra params', () => {
    expect(authParams({ scriptName: 's', apiKey: 'k' }, { sessionUuid: 'u', sudoAsLogin: 'bob', extraAuthParams: { product: 'rv' } })).toEqual({
      script_name: 's',
      script_key: 'k',
      session_uuid: 'u',
      sudo_as_login: 'bob',
      product: 'rv',
    });
    expect(authParams({ login: 'a', password: 'p', authToken: '123' })).toEqual({ user_login: 'a', user_password: 'p', auth_token: '123' });
    expect(authParams({ sessionToken: 't' }, { serverVersion: [8, 50, 0] })).toEqual({ session_token: 't', reject_if_expired: true });
    expect(authParams({ sessionToken: 't' }, { serverVersion: [5, 4, 3] })).toEqual({ session_token: 't' });
    expect(() => authParams({ scriptName: '', apiKey: '' })).toThrow(PayloadError);
  });

  it('sends method params only when truthy', () => {
    const a = { script_name: 's', script_key: 'k' };
    expect(rpcPayload('info', undefined)).toEqual({ method_name: 'info', params: [] });
    expect(rpcPayload('schema_read', a, schemaParams())).toEqual({ method_name: 'schema_read', params: [a] });
    expect(rpcPayload('schema_read', a, schemaParams({ type: 'Project', id: 1 }))).toEqual({
      method_name: 'schema_read',
      params: [a, { project: { type: 'Project', id: 1 } }],
    });
    expect(schemaFieldReadParams('Shot', 'code')).toEqual({ type: 'Shot', field_name: 'code' });
    expect(summarizeParams('Shot', [], [{ field: 'id', type: 'count' }], { includeArchivedProjects: false })).toEqual({
      type: 'Shot',
      summaries: [{ field: 'id', type: 'count' }],
      filters: { logical_operator: 'and', conditions: [] },
      include_archived_projects: false,
    });
    expect(transformOutbound({ a: [new Date(Date.UTC(2024, 4, 1, 12, 34, 56, 789))] })).toEqual({ a: ['2024-05-01T12:34:56Z'] });
  });
});
