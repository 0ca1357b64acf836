// summarize: each supported summary type, exact and entity grouping (nested), NULL groups, and faults for the unsupported rest.
import { describe, expect, it } from 'vitest';
import { and, c, expectFault, P1, summarize } from './fixture.js';

describe('summaries (active Shots 1 2 3 4 5 7 8)', () => {
  it('count, sum, average, maximum, minimum over the whole set; groups [] without grouping', () => {
    // sg_cut_in: 10 20 - 0 -5 30 10 -> sum 65 over 6 values
    expect(
      summarize('Shot', {
        summaries: [
          { field: 'id', type: 'count' },
          { field: 'sg_cut_in', type: 'sum' },
          { field: 'sg_frame_rate', type: 'average' },
          { field: 'sg_budget', type: 'maximum' },
          { field: 'sg_timecode', type: 'minimum' },
        ],
      }),
    ).toEqual({ summaries: { id: 7, sg_cut_in: 65, sg_frame_rate: (24 + 23.976 + 25) / 3, sg_budget: 1000.5, sg_timecode: 0 }, groups: [] });
    expect(summarize('Shot', { summaries: [{ field: 'sg_cut_in', type: 'average' }] }).summaries.sg_cut_in).toBe(65 / 6);
  });
  it('record_count counts rows, count counts non-empty values', () => {
    expect(
      summarize('Shot', {
        summaries: [
          { field: 'code', type: 'count' },
          { field: 'sg_due', type: 'record_count' },
          { field: 'assets', type: 'count' },
        ],
      }).summaries,
    )
      // code unset on 5; assets non-empty (visible) on 1 2 5 7
      .toEqual({ code: 6, sg_due: 7, assets: 4 });
  });
  it('earliest / latest / maximum on dates', () => {
    expect(
      summarize('Shot', {
        summaries: [
          { field: 'sg_due', type: 'latest' },
          { field: 'sg_started_at', type: 'earliest' },
        ],
      }).summaries,
    ).toEqual({ sg_due: '2024-03-17', sg_started_at: '2023-12-31T23:00:00Z' });
    expect(summarize('Shot', { summaries: [{ field: 'sg_due', type: 'maximum' }] }).summaries).toEqual({ sg_due: '2024-03-17' });
  });
  it('checked / unchecked (unset counts as unchecked)', () => {
    expect(summarize('Shot', { summaries: [{ field: 'sg_approved', type: 'checked' }] }).summaries).toEqual({ sg_approved: 2 });
    expect(summarize('Shot', { summaries: [{ field: 'sg_approved', type: 'unchecked' }] }).summaries).toEqual({ sg_approved: 5 });
  });
  it('summaries over no rows: counts and sum 0, the rest null', () => {
    expect(
      summarize('Shot', {
        filters: and(c('id', 'is', 999)),
        summaries: [
          { field: 'id', type: 'count' },
          { field: 'sg_cut_in', type: 'sum' },
          { field: 'sg_frame_rate', type: 'average' },
          { field: 'sg_due', type: 'latest' },
        ],
      }),
    ).toEqual({ summaries: { id: 0, sg_cut_in: 0, sg_frame_rate: null, sg_due: null }, groups: [] });
  });
  it('exact grouping with filters; the NULL group comes last ascending', () => {
    expect(
      summarize('Shot', {
        filters: and(c('project', 'is', P1)),
        summaries: [
          { field: 'id', type: 'count' },
          { field: 'sg_cut_in', type: 'sum' },
        ],
        grouping: [{ field: 'sg_status_list', type: 'exact', direction: 'asc' }],
      }),
    ).toEqual({
      summaries: { id: 4, sg_cut_in: 25 },
      groups: [
        { group_name: 'fin', group_value: 'fin', summaries: { id: 1, sg_cut_in: 20 } },
        { group_name: 'ip', group_value: 'ip', summaries: { id: 1, sg_cut_in: 10 } },
        { group_name: 'wtg', group_value: 'wtg', summaries: { id: 1, sg_cut_in: 0 } },
        { group_name: '', group_value: null, summaries: { id: 1, sg_cut_in: -5 } },
      ],
    });
  });
  it('exact grouping keeps values that differ in case apart', () => {
    const r = summarize('Shot', { summaries: [{ field: 'id', type: 'count' }], grouping: [{ field: 'sg_status_list', type: 'exact' }] });
    expect(r.groups.map((g) => [g.group_value, g.summaries.id])).toEqual([
      ['fin', 2],
      ['IP', 1],
      ['ip', 1],
      ['wtg', 2],
      [null, 1],
    ]);
  });
  it('grouping by an entity field: group_value is the link with name and valid, descending puts NULL first', () => {
    expect(
      summarize('Shot', {
        summaries: [{ field: 'id', type: 'record_count' }],
        grouping: [{ field: 'project', type: 'exact', direction: 'desc' }],
      }).groups,
    ).toEqual([
      { group_name: '', group_value: null, summaries: { id: 2 } },
      { group_name: 'Demo', group_value: { type: 'Project', id: 1, name: 'Demo', valid: 'valid' }, summaries: { id: 4 } },
      { group_name: 'Archive', group_value: { type: 'Project', id: 2, name: 'Archive', valid: 'valid' }, summaries: { id: 1 } },
    ]);
  });
  it('nested grouping: entity then step', () => {
    const link = (type: string, id: number, name: string) => ({ type, id, name, valid: 'valid' });
    const r = summarize('Task', {
      summaries: [{ field: 'id', type: 'count' }],
      grouping: [
        { field: 'entity', type: 'exact', direction: 'asc' },
        { field: 'step', type: 'exact', direction: 'asc' },
      ],
    });
    expect(r.summaries).toEqual({ id: 6 });
    expect(r.groups).toEqual([
      {
        group_name: 'sh001',
        group_value: link('Shot', 1, 'sh001'),
        summaries: { id: 2 },
        groups: [
          { group_name: 'Anim', group_value: link('Step', 2, 'Anim'), summaries: { id: 1 } },
          { group_name: 'Comp', group_value: link('Step', 1, 'Comp'), summaries: { id: 1 } },
        ],
      },
      {
        group_name: 'sh004',
        group_value: link('Shot', 4, 'sh004'),
        summaries: { id: 1 },
        groups: [{ group_name: 'Comp', group_value: link('Step', 1, 'Comp'), summaries: { id: 1 } }],
      },
      {
        group_name: 'sq020',
        group_value: link('Sequence', 2, 'sq020'),
        summaries: { id: 1 },
        groups: [{ group_name: '', group_value: null, summaries: { id: 1 } }],
      },
      {
        group_name: 'Tree',
        group_value: link('Asset', 1, 'Tree'),
        summaries: { id: 1 },
        groups: [{ group_name: 'Comp', group_value: link('Step', 1, 'Comp'), summaries: { id: 1 } }],
      },
      { group_name: '', group_value: null, summaries: { id: 1 }, groups: [{ group_name: '', group_value: null, summaries: { id: 1 } }] },
    ]);
  });
  it('include_archived_projects false leaves out rows of archived projects', () => {
    expect(summarize('Shot', { include_archived_projects: false, summaries: [{ field: 'id', type: 'record_count' }] }).summaries).toEqual({ id: 6 });
  });
  it('faults: unsupported summary and grouping types, wrong field types, unknown fields, duplicates', () => {
    expectFault(
      () => summarize('Shot', { summaries: [{ field: 'sg_status_list', type: 'status_percentage' }] }),
      "API summarize() Shot.sg_status_list: summary type 'status_percentage' is not supported",
    );
    expectFault(
      () => summarize('Shot', { summaries: [{ field: 'code', type: 'sum' }] }),
      "API summarize() Shot.code: summary type 'sum' is not valid for a text field",
    );
    expectFault(() => summarize('Shot', { summaries: [{ field: 'code', type: 'median' }] }), "API summarize() Shot.code: unknown summary type 'median'");
    expectFault(() => summarize('Shot', { summaries: [{ field: 'sg_nope', type: 'count' }] }), "API summarize() Shot.sg_nope doesn't exist");
    expectFault(
      () =>
        summarize('Shot', {
          summaries: [
            { field: 'id', type: 'count' },
            { field: 'id', type: 'record_count' },
          ],
        }),
      'API summarize() Shot.id: only one summary per field',
    );
    expectFault(
      () => summarize('Shot', { summaries: [{ field: 'id', type: 'count' }], grouping: [{ field: 'sg_due', type: 'month' }] }),
      "API summarize() Shot.sg_due: grouping type 'month' is not supported",
    );
    expectFault(
      () => summarize('Shot', { summaries: [{ field: 'id', type: 'count' }], grouping: [{ field: 'assets', type: 'exact' }] }),
      'API summarize() Shot.assets: cannot group by a multi_entity field',
    );
    expectFault(
      () => summarize('Shot', { summaries: [{ field: 'id', type: 'count' }], filters: and(c('code', 'between', 1, 2)) }),
      /API summarize\(\) Shot.code: operator 'between' is not valid/,
    );
    expectFault(() => summarize('Nope', { summaries: [] }), "API summarize() entity type Nope doesn't exist");
  });
});
