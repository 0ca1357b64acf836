// Ordering (multi-key, NULL placement, case-insensitive text, entity by name, deep sorts) and paging with each paging_info mode.
import { describe, expect, it } from 'vitest';
import { and, c, expectFault, read, validate } from './fixture.js';

const order = (sorts: Array<{ field_name: string; direction?: string }>, extra: Record<string, unknown> = {}): number[] =>
  read('Shot', { sorts, ...extra }).entities.map((e) => e.id as number);

describe('ordering', () => {
  it('default order is id asc; retired rows only with return_only retired', () => {
    expect(order([])).toEqual([1, 2, 3, 4, 5, 7, 8]);
    expect(read('Shot', { return_only: 'retired' }).entities.map((e) => e.id)).toEqual([6]);
    expect(order([{ field_name: 'id', direction: 'desc' }])).toEqual([8, 7, 5, 4, 3, 2, 1]);
  });
  it('text sorts case-insensitively; NULLs last asc, first desc', () => {
    // codes: 1 sh001, 2 SH002, 3 sh003, 4 sh004, 5 unset, 7 sh_007%, 8 ab
    expect(order([{ field_name: 'code' }])).toEqual([8, 1, 2, 3, 4, 7, 5]);
    expect(order([{ field_name: 'code', direction: 'desc' }])).toEqual([5, 7, 4, 3, 2, 1, 8]);
  });
  it('number sort; ties broken by id asc in both directions', () => {
    // sg_cut_in: 1 10, 2 20, 3 unset, 4 0, 5 -5, 7 30, 8 10
    expect(order([{ field_name: 'sg_cut_in' }])).toEqual([5, 4, 1, 8, 2, 7, 3]);
    expect(order([{ field_name: 'sg_cut_in', direction: 'desc' }])).toEqual([3, 7, 2, 1, 8, 4, 5]);
  });
  it('multi-key: the first key is primary', () => {
    // status (lower-cased): fin 2 7, ip 1 4, wtg 3 8, unset 5; then cut_in desc
    expect(order([{ field_name: 'sg_status_list' }, { field_name: 'sg_cut_in', direction: 'desc' }])).toEqual([7, 2, 1, 4, 3, 8, 5]);
  });
  it('entity fields sort by the linked name; retired and unset links are NULL', () => {
    // project: 1 2 3 5 Demo, 4 Archive, 7 retired, 8 unset
    expect(order([{ field_name: 'project' }])).toEqual([4, 1, 2, 3, 5, 7, 8]);
    expect(order([{ field_name: 'project', direction: 'desc' }])).toEqual([7, 8, 1, 2, 3, 5, 4]);
    // sg_lead: 1 Alice, 2 Lighting (Group), 5 bob, others NULL
    expect(order([{ field_name: 'sg_lead' }])).toEqual([1, 5, 2, 3, 4, 7, 8]);
  });
  it('deep sort through an entity link', () => {
    // sequence code: 1 2 SQ010, 3 7 sq020, 4 retired, 5 8 unset
    expect(order([{ field_name: 'sg_sequence.Sequence.code', direction: 'desc' }])).toEqual([4, 5, 8, 3, 7, 1, 2]);
  });
  it('date and checkbox sorts', () => {
    expect(order([{ field_name: 'sg_due' }])).toEqual([7, 4, 1, 2, 5, 8, 3]);
    expect(order([{ field_name: 'sg_approved', direction: 'desc' }])).toEqual([1, 5, 2, 3, 4, 7, 8]);
  });
  it('a sort on a field that does not exist is ignored', () => {
    expect(order([{ field_name: 'sg_nope' }, { field_name: 'sg_cut_in', direction: 'desc' }])).toEqual([3, 7, 2, 1, 8, 4, 5]);
    expect(order([{ field_name: 'sg_sequence.Sequence.nope' }])).toEqual([1, 2, 3, 4, 5, 7, 8]);
  });
  it('sorting by a multi-entity field or through one is a fault', () => {
    expectFault(() => validate('Shot', { sorts: [{ field_name: 'assets' }] }), 'API read() Shot.assets: cannot sort by a multi_entity field');
    expectFault(() => order([{ field_name: 'assets.Asset.code' }]), 'API read() Shot.assets.Asset.code: cannot sort through a multi-entity field');
  });
});

describe('paging', () => {
  const page = (n: number, per: number, extra: Record<string, unknown> = {}) => read('Shot', { paging: { entities_per_page: per, current_page: n }, ...extra });
  const pageIds = (n: number, per: number, extra: Record<string, unknown> = {}) => page(n, per, extra).entities.map((e) => e.id);

  it('pages slice the sorted matches', () => {
    expect(pageIds(1, 3)).toEqual([1, 2, 3]);
    expect(pageIds(2, 3)).toEqual([4, 5, 7]);
    expect(pageIds(3, 3)).toEqual([8]);
    expect(pageIds(4, 3)).toEqual([]);
    const sorted = { sorts: [{ field_name: 'sg_cut_in' }] };
    expect([1, 2, 3, 4].map((n) => pageIds(n, 2, sorted))).toEqual([[5, 4], [1, 8], [2, 7], [3]]);
  });
  it('return_paging_info_without_counts gives has_next_page only', () => {
    const flag = { return_paging_info_without_counts: true };
    expect(page(1, 3, flag).paging_info).toEqual({ has_next_page: true });
    expect(page(2, 3, flag).paging_info).toEqual({ has_next_page: true });
    expect(page(3, 3, flag).paging_info).toEqual({ has_next_page: false });
    // exactly two full pages: the second has no next page
    const six = { ...flag, filters: and(c('id', 'less_than', 8)) };
    expect(page(2, 3, six).entities.map((e) => e.id)).toEqual([4, 5, 7]);
    expect(page(2, 3, six).paging_info).toEqual({ has_next_page: false });
    expect(Object.keys(page(1, 3, flag).paging_info!)).toEqual(['has_next_page']);
  });
  it('return_paging_info gives the counts', () => {
    const flag = { return_paging_info: true };
    expect(page(2, 3, flag).paging_info).toEqual({ entity_count: 7, current_page: 2, entities_per_page: 3, page_count: 3 });
    expect(page(5, 3, flag)).toEqual({ entities: [], paging_info: { entity_count: 7, current_page: 5, entities_per_page: 3, page_count: 3 } });
    expect(page(1, 10, { ...flag, filters: and(c('id', 'is', 999)) }).paging_info).toEqual({
      entity_count: 0,
      current_page: 1,
      entities_per_page: 10,
      page_count: 0,
    });
  });
  it('without a paging flag paging_info is omitted', () => {
    expect('paging_info' in page(1, 3)).toBe(false);
    expect('paging_info' in page(1, 3, { return_paging_info: false, return_paging_info_without_counts: false })).toBe(false);
  });
  it('paging over retired rows', () => {
    expect(page(1, 1, { return_only: 'retired', return_paging_info: true })).toEqual({
      entities: [{ type: 'Shot', id: 6 }],
      paging_info: { entity_count: 1, current_page: 1, entities_per_page: 1, page_count: 1 },
    });
  });
});
