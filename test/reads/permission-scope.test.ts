// The pure parts of permission views: comparing probe replies into a TypeView, and deciding a read's scope (served, restricted exactly, link-checked, or passed through).
import { describe, expect, it } from 'vitest';
import { loadCachedSchema } from '../../shared/schema/index.js';
import { compareProbe, linksVisible, permissionScope, probeRequest, withRestriction, type TypeView } from '../../shared/reads/index.js';
import { readParams, wireCondition as cond, type ReadParams } from '../../shared/site/index.js';

const schema = loadCachedSchema('schema/default.yml');
const FULL: TypeView = { rows: 'same', hidden: [] };
const group = (id: number | null, counts: Record<string, number>) => ({
  group_name: '',
  group_value: id === null ? null : { type: 'Project', id, name: 'p' },
  summaries: counts,
});
const shotCounts = (n: number, description = n) => ({ id: n, code: n, description });

describe('compareProbe', () => {
  it('asks Project by read and other types by summarize grouped by project (when they have one)', () => {
    expect(probeRequest(schema, 'Project').method).toBe('read');
    expect(probeRequest(schema, 'Shot').params.grouping).toEqual([{ field: 'project', type: 'exact', direction: 'asc' }]);
    expect(probeRequest(schema, 'Step').params.grouping).toBeUndefined();
  });

  it('tells a missing project, a row rule, a hidden field and a blank one apart', () => {
    const theirs = { summaries: {}, groups: [group(1, shotCounts(10)), group(2, shotCounts(5))] };
    expect(compareProbe(schema, 'Shot', { summaries: {}, groups: [group(1, shotCounts(10))] }, theirs)).toMatchObject({
      rows: 'same',
      projects: [1],
      hidden: [],
    });
    expect(compareProbe(schema, 'Shot', { summaries: {}, groups: [group(1, shotCounts(4)), group(2, shotCounts(5))] }, theirs)?.rows).toBe('differ');
    const hidden = compareProbe(schema, 'Shot', { summaries: {}, groups: [group(1, shotCounts(10, 0))] }, theirs)!;
    expect(hidden).toMatchObject({ projects: [1] });
    expect(hidden.hidden).toContain('description');
    expect(hidden.blank).toContain('description');
  });

  it('cannot compare replies where the caller sees a group the script does not (the data moved): undefined', () => {
    expect(
      compareProbe(schema, 'Shot', { summaries: {}, groups: [group(3, shotCounts(1))] }, { summaries: {}, groups: [group(1, shotCounts(1))] }),
    ).toBeUndefined();
    expect(compareProbe(schema, 'Shot', { nonsense: true }, { summaries: {}, groups: [] })).toBeUndefined();
  });

  it('visible rows without a project are noted (a project restriction would drop them); hidden ones are a row rule', () => {
    const theirs = { summaries: {}, groups: [group(1, shotCounts(3)), group(null, shotCounts(2))] };
    expect(compareProbe(schema, 'Shot', theirs, theirs)).toMatchObject({ rows: 'same', projectless: true });
    expect(compareProbe(schema, 'Shot', { summaries: {}, groups: [group(1, shotCounts(3))] }, theirs)?.rows).toBe('differ');
  });

  it("Project: the caller's ids, or unverified when it sees one the script does not or there are too many to compare", () => {
    const theirs = {
      entities: [
        { id: 1, name: 'a' },
        { id: 2, name: 'b' },
      ],
    };
    expect(compareProbe(schema, 'Project', { entities: [{ id: 2, name: 'b' }] }, theirs)).toMatchObject({ rows: 'same', projects: [2], hidden: [] });
    // Named by the Projects the script saw at the probe: a Project created later is not covered (shared/reads/view-coverage.ts).
    expect(compareProbe(schema, 'Project', theirs, theirs)).toEqual({ ...FULL, verified: [1, 2] });
    expect(compareProbe(schema, 'Project', { entities: [{ id: 3 }] }, theirs)).toBeUndefined();
    expect(compareProbe(schema, 'Project', theirs, { entities: Array.from({ length: 500 }, (_, i) => ({ id: i })) })).toBeUndefined();
  });
});

describe('permissionScope', () => {
  const views = (over: Record<string, TypeView> = {}) =>
    new Map(['Shot', 'Project', 'Sequence', 'Task', 'Asset', 'HumanUser', 'Group', 'ApiUser', 'Note'].map((t) => [t, over[t] ?? FULL]));
  const shot = (conditions: unknown[], fields: string[]) => readParams('Shot', conditions, fields) as unknown as ReadParams;
  const artist = views({
    Shot: { rows: 'same', projects: [1], hidden: ['description'] },
    Project: { rows: 'same', projects: [1], hidden: [] },
    Sequence: { rows: 'same', projects: [1], hidden: [] },
  });

  it('a full view serves as is', () => {
    expect(permissionScope(schema, shot([], ['code', 'sg_sequence', 'project']), views())).toEqual({ ok: true });
  });

  it('an unverified type, a row rule or a hidden field passes through', () => {
    expect(permissionScope(schema, shot([], ['code']), new Map())).toEqual({ ok: false, reason: 'permission-unverified' });
    expect(permissionScope(schema, shot([], ['code']), views({ Shot: { rows: 'differ', hidden: [] } }))).toEqual({
      ok: false,
      reason: 'permission-restricted:Shot',
    });
    expect(permissionScope(schema, shot([], ['description']), artist)).toEqual({ ok: false, reason: 'permission-restricted:Shot' });
    expect(permissionScope(schema, shot([cond('description', 'is', 'x')], ['code']), artist).ok).toBe(false);
  });

  it('restricts an unconfined read to the visible projects, serves a confined one, passes one confined elsewhere', () => {
    expect(permissionScope(schema, shot([], ['code']), artist)).toEqual({ ok: true, restrict: { path: 'project', values: [{ type: 'Project', id: 1 }] } });
    expect(permissionScope(schema, shot([cond('project', 'is', { type: 'Project', id: 1 })], ['code', 'project.Project.name']), artist)).toEqual({ ok: true });
    expect(permissionScope(schema, shot([cond('project', 'is', { type: 'Project', id: 2 })], ['code']), artist)).toEqual({
      ok: false,
      reason: 'permission-restricted:Shot',
    });
    expect(permissionScope(schema, shot([], ['code']), views({ Shot: { rows: 'same', projects: [1], hidden: [], projectless: true } })).ok).toBe(false);
  });

  it('links to project-restricted types: returned ones are checked, followed ones pass through', () => {
    const returned = permissionScope(schema, shot([], ['code', 'sg_sequence']), artist);
    expect(returned).toMatchObject({ ok: true, linkCheck: new Map([['Sequence', new Set([1])]]) });
    expect(permissionScope(schema, shot([], ['sg_sequence.Sequence.code']), artist)).toEqual({ ok: false, reason: 'permission-restricted:Sequence' });
  });

  it('filters comparing a link with explicit links are served when the caller sees those links (filterLinks); other comparisons and sorts pass', () => {
    const seq = { type: 'Sequence', id: 9 };
    const only = permissionScope(schema, shot([cond('sg_sequence', 'is', seq), cond('project', 'is', { type: 'Project', id: 1 })], ['code']), artist);
    // Only the compared link is checked (nothing of the answer links to a Sequence).
    expect(only).toEqual({ ok: true, linkCheck: new Map([['Sequence', new Set([1])]]), filterLinks: [seq] });
    const both = permissionScope(
      schema,
      shot([cond('sg_sequence', 'in', seq, { type: 'Sequence', id: 10 }), cond('project', 'is', { type: 'Project', id: 1 })], ['code', 'sg_sequence']),
      artist,
    );
    expect(both).toMatchObject({ ok: true, linkCheck: new Map([['Sequence', new Set([1])]]), filterLinks: [seq, { type: 'Sequence', id: 10 }] });
    for (const c of [cond('sg_sequence', 'is_not', seq), cond('sg_sequence', 'is', null), cond('sg_sequence', 'type_is', 'Sequence')]) {
      expect(permissionScope(schema, shot([c, cond('project', 'is', { type: 'Project', id: 1 })], ['code']), artist)).toEqual({
        ok: false,
        reason: 'permission-restricted:Sequence',
      });
    }
    // An explicit link and an opaque comparison of the same field anywhere in the tree: opaque.
    const mixed = shot([{ logical_operator: 'or', conditions: [cond('sg_sequence', 'is', seq), cond('sg_sequence', 'is', null)] }], ['code']);
    expect(
      permissionScope(
        schema,
        { ...mixed, filters: { logical_operator: 'and', conditions: [...mixed.filters.conditions, cond('project', 'is', { type: 'Project', id: 1 })] } },
        artist,
      ).ok,
    ).toBe(false);
    const sorted = {
      ...shot([cond('sg_sequence', 'is', seq), cond('project', 'is', { type: 'Project', id: 1 })], ['code']),
      sorts: [{ field_name: 'sg_sequence', direction: 'asc' as const }],
    };
    expect(permissionScope(schema, sorted, artist)).toEqual({ ok: false, reason: 'permission-restricted:Sequence' });
    // A target the caller sees in full needs no check.
    expect(permissionScope(schema, shot([cond('sg_sequence', 'is', seq)], ['code']), views())).toEqual({ ok: true });
  });

  it('withRestriction ANDs the condition, wrapping an OR group', () => {
    const r = { path: 'project', values: [{ type: 'Project', id: 1 }] };
    expect(withRestriction({ filters: { logical_operator: 'and', conditions: [cond('id', 'is', 1)] } }, r).filters.conditions).toHaveLength(2);
    const or = withRestriction({ filters: { logical_operator: 'or', conditions: [cond('id', 'is', 1), cond('id', 'is', 2)] } }, r).filters;
    expect(or).toEqual({
      logical_operator: 'and',
      conditions: [
        { logical_operator: 'or', conditions: [cond('id', 'is', 1), cond('id', 'is', 2)] },
        { ...r, relation: 'in' },
      ],
    });
  });

  it('linksVisible: every link of a checked type must be stored in a visible project', async () => {
    const check = new Map([
      ['Sequence', new Set([1])],
      ['Project', new Set([1])],
    ]);
    const projectOf = async (_t: string, ids: number[]) => new Map(ids.filter((id) => id !== 99).map((id) => [id, id === 7 ? 2 : 1] as [number, number]));
    const result = (seq: number) => ({
      entities: [{ type: 'Shot', id: 5, sg_sequence: { type: 'Sequence', id: seq, name: 's' }, project: { type: 'Project', id: 1 } }],
    });
    expect(await linksVisible(result(3), check, projectOf)).toBeUndefined();
    expect(await linksVisible(result(7), check, projectOf)).toBe('Sequence');
    expect(await linksVisible(result(99), check, projectOf)).toBe('Sequence');
    expect(await linksVisible(result(3), check)).toBe('Sequence');
    expect(await linksVisible({ entities: [{ type: 'Shot', id: 1, project: { type: 'Project', id: 2 } }] }, check, projectOf)).toBe('Project');
  });
});
