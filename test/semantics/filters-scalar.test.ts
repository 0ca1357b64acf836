// Filters on scalar fields: text-like, numbers, dates, checkbox, image; NULL and case rules; value-shape faults.
import { describe, expect, it } from 'vitest';
import { c, expectFault, ids, read } from './fixture.js';

// Active Shots: 1 2 3 4 5 7 8 (6 is retired).
const ALL = [1, 2, 3, 4, 5, 7, 8];

describe('text (code: 1 sh001, 2 SH002, 3 sh003, 4 sh004, 5 unset, 7 sh_007%, 8 ab)', () => {
  it('text is: case-insensitive exact match', () => {
    expect(ids('Shot', c('code', 'is', 'SH001'))).toEqual([1]);
    expect(ids('Shot', c('code', 'is', 'sh002'))).toEqual([2]);
    expect(ids('Shot', c('code', 'is', 'sh00'))).toEqual([]);
  });
  it('text is None matches unset; is_not None matches set', () => {
    expect(ids('Shot', c('code', 'is', null))).toEqual([5]);
    expect(ids('Shot', c('code', 'is_not', null))).toEqual([1, 2, 3, 4, 7, 8]);
  });
  it('text is_not X includes NULL rows (complement of is)', () => {
    expect(ids('Shot', c('code', 'is_not', 'sh001'))).toEqual([2, 3, 4, 5, 7, 8]);
  });
  it('text in / not_in: case-insensitive, None adds/removes the unset rows, empty list', () => {
    expect(ids('Shot', c('code', 'in', 'SH001', 'sh003', null))).toEqual([1, 3, 5]);
    expect(ids('Shot', c('code', 'in', 'sh001'))).toEqual([1]);
    expect(ids('Shot', c('code', 'not_in', 'sh001', 'SH002'))).toEqual([3, 4, 5, 7, 8]);
    expect(ids('Shot', c('code', 'not_in', 'sh001', null))).toEqual([2, 3, 4, 7, 8]);
    expect(ids('Shot', c('code', 'in'))).toEqual([]);
    expect(ids('Shot', c('code', 'not_in'))).toEqual(ALL);
  });
  it('text contains / not_contains: case-insensitive substring, LIKE metacharacters are literal', () => {
    expect(ids('Shot', c('code', 'contains', 'H00'))).toEqual([1, 2, 3, 4]);
    expect(ids('Shot', c('code', 'contains', '_'))).toEqual([7]);
    expect(ids('Shot', c('code', 'contains', '%'))).toEqual([7]);
    expect(ids('Shot', c('code', 'not_contains', 'h0'))).toEqual([5, 7, 8]);
    expect(ids('Shot', c('description', 'contains', 'first'))).toEqual([1, 5]);
  });
  it('text starts_with / ends_with', () => {
    expect(ids('Shot', c('code', 'starts_with', 'SH'))).toEqual([1, 2, 3, 4, 7]);
    expect(ids('Shot', c('code', 'ends_with', '%'))).toEqual([7]);
    expect(ids('Shot', c('code', 'ends_with', '01'))).toEqual([1]);
  });
  it('text faults: operator not in the table, wrong count, wrong value type, None for contains', () => {
    expectFault(() => ids('Shot', c('code', 'greater_than', 'a')), "API read() Shot.code: operator 'greater_than' is not valid for a text field");
    expectFault(() => ids('Shot', c('code', 'is', 'a', 'b')), "API read() Shot.code: 'is' expects 1 value, got 2");
    expectFault(() => ids('Shot', c('code', 'is')), "API read() Shot.code: 'is' expects 1 value, got 0");
    expectFault(() => ids('Shot', c('code', 'is', 5)), "API read() Shot.code: 'is' expects a string value, got 5");
    expectFault(() => ids('Shot', c('code', 'contains', null)), "API read() Shot.code: 'contains' expects a string, got None");
    expectFault(() => ids('Shot', c('code', 'in', 'a', { type: 'Shot', id: 1 })), /expects a string value, got a dict/);
    expectFault(() => ids('Shot', c('code', 'frobnicate', 'a')), "API read() Shot.code: unknown filter operator 'frobnicate'");
  });
});

describe('status_list / list / color / uuid / entity_type / footage', () => {
  // sg_status_list: 1 ip, 2 fin, 3 wtg, 4 IP, 5 unset, 7 fin, 8 wtg
  it('status_list is / is_not / in / not_in are case-insensitive', () => {
    expect(ids('Shot', c('sg_status_list', 'is', 'ip'))).toEqual([1, 4]);
    expect(ids('Shot', c('sg_status_list', 'is', 'IP'))).toEqual([1, 4]);
    expect(ids('Shot', c('sg_status_list', 'is_not', 'ip'))).toEqual([2, 3, 5, 7, 8]);
    expect(ids('Shot', c('sg_status_list', 'in', 'fin', 'WTG'))).toEqual([2, 3, 7, 8]);
    expect(ids('Shot', c('sg_status_list', 'not_in', 'fin', 'wtg'))).toEqual([1, 4, 5]);
    expect(ids('Shot', c('sg_status_list', 'is', null))).toEqual([5]);
  });
  it('status_list rejects text-only operators', () => {
    expectFault(
      () => ids('Shot', c('sg_status_list', 'contains', 'i')),
      "API read() Shot.sg_status_list: operator 'contains' is not valid for a status_list field",
    );
  });
  it('list is: case-insensitive; unset is None', () => {
    expect(ids('Shot', c('sg_shot_type', 'is', 'HERO'))).toEqual([1, 2]);
    expect(ids('Shot', c('sg_shot_type', 'is', null))).toEqual([3, 4, 5, 7, 8]);
  });
  it('color, uuid, entity_type, footage: is / in / not_in', () => {
    expect(ids('Shot', c('sg_color', 'is', '255,0,0'))).toEqual([1]);
    expect(ids('Shot', c('sg_color', 'in', 'PIPELINE_STEP'))).toEqual([2]);
    expect(ids('Shot', c('sg_uuid', 'is', 'aaaa-1111'))).toEqual([1]);
    expect(ids('Shot', c('sg_type_field', 'is', 'asset'))).toEqual([1]);
    expect(ids('Shot', c('sg_type_field', 'not_in', 'Asset'))).toEqual([2, 3, 4, 5, 7, 8]);
    expect(ids('Shot', c('sg_footage', 'is', '12-04'))).toEqual([1]);
  });
});

describe('numbers (sg_cut_in: 1 10, 2 20, 3 unset, 4 0, 5 -5, 7 30, 8 10)', () => {
  it('number is: 0 and NULL are distinct', () => {
    expect(ids('Shot', c('sg_cut_in', 'is', 10))).toEqual([1, 8]);
    expect(ids('Shot', c('sg_cut_in', 'is', 0))).toEqual([4]);
    expect(ids('Shot', c('sg_cut_in', 'is', null))).toEqual([3]);
    expect(ids('Shot', c('sg_cut_in', 'is_not', null))).toEqual([1, 2, 4, 5, 7, 8]);
    expect(ids('Shot', c('sg_cut_in', 'is_not', 10))).toEqual([2, 3, 4, 5, 7]);
  });
  it('number less_than / greater_than never match NULL', () => {
    expect(ids('Shot', c('sg_cut_in', 'less_than', 10))).toEqual([4, 5]);
    expect(ids('Shot', c('sg_cut_in', 'greater_than', 10))).toEqual([2, 7]);
    expect(ids('Shot', c('sg_cut_in', 'greater_than', -100))).toEqual([1, 2, 4, 5, 7, 8]);
    expect(ids('Shot', c('sg_cut_in', 'less_than', null))).toEqual([]);
  });
  it('number between: inclusive, a None bound is open-ended, reversed bounds match nothing', () => {
    expect(ids('Shot', c('sg_cut_in', 'between', 0, 20))).toEqual([1, 2, 4, 8]);
    expect(ids('Shot', c('sg_cut_in', 'between', null, 0))).toEqual([4, 5]);
    expect(ids('Shot', c('sg_cut_in', 'between', 20, null))).toEqual([2, 7]);
    expect(ids('Shot', c('sg_cut_in', 'between', null, null))).toEqual([1, 2, 4, 5, 7, 8]);
    expect(ids('Shot', c('sg_cut_in', 'between', 20, 0))).toEqual([]);
    expect(ids('Shot', c('sg_cut_in', 'between', [0, 20]))).toEqual([1, 2, 4, 8]);
  });
  it('number not_between is the complement of between (NULL rows included)', () => {
    expect(ids('Shot', c('sg_cut_in', 'not_between', 0, 20))).toEqual([3, 5, 7]);
  });
  it('number in / not_in with None', () => {
    expect(ids('Shot', c('sg_cut_in', 'in', 10, 30, null))).toEqual([1, 3, 7, 8]);
    expect(ids('Shot', c('sg_cut_in', 'not_in', 10, 30))).toEqual([2, 3, 4, 5]);
  });
  it('id is a number field; retired rows never match a read of active rows', () => {
    expect(ids('Shot', c('id', 'in', 1, 3, 6, 99))).toEqual([1, 3]);
    expect(ids('Shot', c('id', 'greater_than', 4))).toEqual([5, 7, 8]);
    expect(ids('Shot', c('id', 'between', 2, 4))).toEqual([2, 3, 4]);
  });
  it('number faults: string value, between arity', () => {
    expectFault(() => ids('Shot', c('sg_cut_in', 'is', '10')), "API read() Shot.sg_cut_in: 'is' expects a number or None, got '10'");
    expectFault(() => ids('Shot', c('sg_cut_in', 'between', 1)), "API read() Shot.sg_cut_in: 'between' expects 2 values [low, high], got 1");
    expectFault(() => ids('Shot', c('sg_cut_in', 'contains', 1)), /operator 'contains' is not valid for a number field/);
  });
  it('float / duration / percent / currency / timecode', () => {
    // sg_frame_rate: 1 24.0, 2 23.976, 4 25
    expect(ids('Shot', c('sg_frame_rate', 'greater_than', 24))).toEqual([4]);
    expect(ids('Shot', c('sg_frame_rate', 'less_than', 24))).toEqual([2]);
    expect(ids('Shot', c('sg_frame_rate', 'is', 24))).toEqual([1]);
    expect(ids('Shot', c('sg_frame_rate', 'between', 23.9, 24))).toEqual([1, 2]);
    expect(ids('Shot', c('sg_frame_rate', 'in', 25, 23.976))).toEqual([2, 4]);
    // the official table has no not_between for float
    expectFault(
      () => ids('Shot', c('sg_frame_rate', 'not_between', 1, 2)),
      "API read() Shot.sg_frame_rate: operator 'not_between' is not valid for a float field",
    );
    expect(ids('Shot', c('sg_cut_duration', 'is', 0))).toEqual([2]);
    expect(ids('Shot', c('sg_cut_duration', 'greater_than', 50))).toEqual([1]);
    expect(ids('Shot', c('sg_percent', 'greater_than', 60))).toEqual([2]);
    expect(ids('Shot', c('sg_budget', 'less_than', 1))).toEqual([2]);
    expect(ids('Shot', c('sg_budget', 'not_between', 1, 2000))).toEqual([2, 3, 4, 5, 7, 8]);
    expect(ids('Shot', c('sg_timecode', 'is', 1000))).toEqual([1]);
  });
});

describe('date (sg_due: 1 03-10, 2 03-14, 3 unset, 4 02-29, 5 03-16, 7 2023-12-31, 8 03-17; all 2024 unless noted)', () => {
  it('date is / comparisons / between / in', () => {
    expect(ids('Shot', c('sg_due', 'is', '2024-03-14'))).toEqual([2]);
    expect(ids('Shot', c('sg_due', 'is', null))).toEqual([3]);
    expect(ids('Shot', c('sg_due', 'greater_than', '2024-03-14'))).toEqual([5, 8]);
    expect(ids('Shot', c('sg_due', 'less_than', '2024-03-01'))).toEqual([4, 7]);
    expect(ids('Shot', c('sg_due', 'between', '2024-03-10', '2024-03-16'))).toEqual([1, 2, 5]);
    expect(ids('Shot', c('sg_due', 'in', '2024-03-10', '2023-12-31'))).toEqual([1, 7]);
    expect(ids('Shot', c('sg_due', 'not_in', '2024-03-10'))).toEqual([2, 3, 4, 5, 7, 8]);
  });
  it('date filtered with a date_time value uses its UTC date', () => {
    expect(ids('Shot', c('sg_due', 'is', '2024-03-14T10:00:00Z'))).toEqual([2]);
  });
  it('date faults: not a date', () => {
    expectFault(() => ids('Shot', c('sg_due', 'is', 'yesterday')), `API read() Shot.sg_due: 'is' expects a date "YYYY-MM-DD" or None, got 'yesterday'`);
    expectFault(() => ids('Shot', c('sg_due', 'is', '2024-13-45')), /expects a date/);
    expectFault(() => ids('Shot', c('sg_due', 'is', 20240314)), /expects a date/);
  });
});

describe('date_time (sg_started_at: 1 03-15T10:00, 2 03-14T23:59:59, 4 03-11T00:00, 5 03-16T12:00, 7 2023-12-31T23:00)', () => {
  it('date_time is / greater_than / between, date-only and offset values normalised', () => {
    expect(ids('Shot', c('sg_started_at', 'is', '2024-03-15T10:00:00Z'))).toEqual([1]);
    expect(ids('Shot', c('sg_started_at', 'is', '2024-03-15T11:00:00+01:00'))).toEqual([1]);
    expect(ids('Shot', c('sg_started_at', 'greater_than', '2024-03-14'))).toEqual([1, 2, 5]);
    expect(ids('Shot', c('sg_started_at', 'between', '2024-03-14T23:59:59Z', '2024-03-15T10:00:00Z'))).toEqual([1, 2]);
    expect(ids('Shot', c('sg_started_at', 'less_than', null))).toEqual([]);
    expect(ids('Shot', c('sg_started_at', 'is', null))).toEqual([3, 8]);
  });
});

describe('checkbox (sg_approved: 1 true, 2 false, 4 false, 5 true; 3 7 8 unset)', () => {
  it('checkbox is true / false; unset reads as false', () => {
    expect(ids('Shot', c('sg_approved', 'is', true))).toEqual([1, 5]);
    expect(ids('Shot', c('sg_approved', 'is', false))).toEqual([2, 3, 4, 7, 8]);
    expect(ids('Shot', c('sg_approved', 'is_not', true))).toEqual([2, 3, 4, 7, 8]);
  });
  it('checkbox filtered with None is a fault', () => {
    expectFault(() => ids('Shot', c('sg_approved', 'is', null)), 'API read() Shot.sg_approved: checkbox fields cannot be filtered with None');
    expectFault(() => ids('Shot', c('sg_approved', 'is', 'yes')), "API read() Shot.sg_approved: 'is' expects true or false");
    expectFault(() => ids('Shot', c('sg_approved', 'in', true)), /operator 'in' is not valid for a checkbox field/);
  });
});

describe('image and unfilterable types', () => {
  it('image is / is_not None only', () => {
    expect(ids('Shot', c('image', 'is', null))).toEqual([2, 3, 4, 5, 7, 8]);
    expect(ids('Shot', c('image', 'is_not', null))).toEqual([1]);
    expectFault(
      () => ids('Shot', c('image', 'is', 'https://example.test/thumb/1.png')),
      "API read() Shot.image: image fields can only be filtered with 'is' None",
    );
    expectFault(() => ids('Shot', c('image', 'contains', 'x')), /not valid for a image field/);
  });
  it('url, serializable, password, summary fields are not filterable', () => {
    expectFault(() => ids('Shot', c('sg_link', 'is', null)), 'API read() Shot.sg_link: filtering on url fields is not supported');
    expectFault(() => ids('Shot', c('sg_meta', 'is', null)), 'API read() Shot.sg_meta: filtering on serializable fields is not supported');
    expectFault(() => ids('Shot', c('sg_pw', 'is', null)), 'API read() Shot.sg_pw: filtering on password fields is not supported');
    expectFault(() => ids('Shot', c('sg_summary', 'is', null)), 'API read() Shot.sg_summary: filtering on summary fields is not supported');
  });
  it('a filter on a field or type that does not exist is a fault', () => {
    expectFault(() => ids('Shot', c('sg_foo', 'is', 1)), "API read() Shot.sg_foo doesn't exist");
    expectFault(() => read('Nope'), "API read() entity type Nope doesn't exist");
  });
});
