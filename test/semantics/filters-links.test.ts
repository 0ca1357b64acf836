// Filters on links: entity, multi-entity, tag_list; deep paths through entity and multi-entity links; nested groups.
import { describe, expect, it } from 'vitest';
import { executeRead } from '../../shared/semantics/index.js';
import type { FilterGroup } from '../../shared/site/index.js';
import { A1, A2, A3, and, c, ctx, expectFault, G1, HU1, HU2, HU3, ids, or, P1, P2, P3, records } from './fixture.js';

describe('entity (Shot.project: 1 2 3 5 -> P1 Demo, 4 -> P2 Archive, 7 -> P3 retired, 8 unset)', () => {
  it('entity is matches type+id and ignores extra keys', () => {
    expect(ids('Shot', c('project', 'is', P1))).toEqual([1, 2, 3, 5]);
    expect(ids('Shot', c('project', 'is', { type: 'Project', id: 1, name: 'whatever', url: 'x' }))).toEqual([1, 2, 3, 5]);
    expect(ids('Shot', c('project', 'is', { type: 'Sequence', id: 1 }))).toEqual([]);
  });
  it('entity link to a retired target reads as NULL', () => {
    expect(ids('Shot', c('project', 'is', P3))).toEqual([]);
    expect(ids('Shot', c('project', 'is', null))).toEqual([7, 8]);
    expect(ids('Shot', c('project', 'is_not', null))).toEqual([1, 2, 3, 4, 5]);
  });
  it('entity negations include null links', () => {
    expect(ids('Shot', c('project', 'is_not', P1))).toEqual([4, 7, 8]);
    expect(ids('Shot', c('project', 'not_in', P1))).toEqual([4, 7, 8]);
    expect(ids('Shot', c('project', 'not_in', P1, null))).toEqual([4]);
    expect(ids('Shot', c('project', 'type_is_not', 'Project'))).toEqual([7, 8]);
  });
  it('entity in: several values, None adds the unset rows', () => {
    expect(ids('Shot', c('project', 'in', P1, P2))).toEqual([1, 2, 3, 4, 5]);
    expect(ids('Shot', c('project', 'in', P2, null))).toEqual([4, 7, 8]);
  });
  it('entity in with values of several types (polymorphic sg_lead: 1 HU1, 2 G1, 4 HU3 retired, 5 HU2)', () => {
    expect(ids('Shot', c('sg_lead', 'in', HU1, G1))).toEqual([1, 2]);
    expect(ids('Shot', c('sg_lead', 'is', { type: 'Group', id: 1 }))).toEqual([2]);
    expect(ids('Shot', c('sg_lead', 'is', { type: 'HumanUser', id: 1 }))).toEqual([1]);
    expect(ids('Shot', c('sg_lead', 'is', { type: 'Group', id: 2 }))).toEqual([]);
    expect(ids('Shot', c('sg_lead', 'is', HU3))).toEqual([]);
  });
  it('entity type_is / type_is_not', () => {
    expect(ids('Shot', c('project', 'type_is', 'Project'))).toEqual([1, 2, 3, 4, 5]);
    expect(ids('Shot', c('project', 'type_is', null))).toEqual([7, 8]);
    expect(ids('Shot', c('sg_lead', 'type_is', 'Group'))).toEqual([2]);
    expect(ids('Shot', c('sg_lead', 'type_is', 'HumanUser'))).toEqual([1, 5]);
    expect(ids('Shot', c('sg_lead', 'type_is_not', 'HumanUser'))).toEqual([2, 3, 4, 7, 8]);
  });
  it('entity name_* compare the target identifier, case-insensitively', () => {
    expect(ids('Shot', c('project', 'name_contains', 'DEM'))).toEqual([1, 2, 3, 5]);
    expect(ids('Shot', c('project', 'name_is', 'archive'))).toEqual([4]);
    expect(ids('Shot', c('project', 'name_not_contains', 'demo'))).toEqual([4, 7, 8]);
    expect(ids('Shot', c('project', 'name_starts_with', 'ar'))).toEqual([4]);
    expect(ids('Shot', c('project', 'name_ends_with', 'MO'))).toEqual([1, 2, 3, 5]);
    expect(ids('Shot', c('sg_lead', 'name_is', 'BOB'))).toEqual([5]);
    // Task's identifier is content, Step's is code
    expect(ids('Task', c('step', 'name_is', 'comp'))).toEqual([1, 3, 6]);
  });
  it('entity faults: non-link values, arity, operators outside the table', () => {
    expectFault(() => ids('Shot', c('project', 'is', 5)), `API read() Shot.project: 'is' expects an entity {"type", "id"} or None, got 5`);
    expectFault(() => ids('Shot', c('project', 'is', { id: 1 })), /expects an entity/);
    expectFault(() => ids('Shot', c('project', 'is', { type: 'Project', id: '1' })), /expects an entity/);
    expectFault(() => ids('Shot', c('project', 'is', P1, P2)), "API read() Shot.project: 'is' expects 1 value, got 2");
    expectFault(() => ids('Shot', c('project', 'contains', P1)), /operator 'contains' is not valid for a entity field/);
    expectFault(() => ids('Shot', c('project', 'type_is', 5)), /expects an entity type name or None/);
    expectFault(() => ids('Shot', c('project', 'name_contains', null)), /'name_contains' expects a string, got None/);
  });
});

describe('multi_entity (Shot.assets: 1 [A1 A2], 2 [A2], 3 [], 4 [A3 retired], 5 [A1], 7 [A1 A3], 8 unset)', () => {
  it('multi_entity is X = contains X; retired elements are invisible', () => {
    expect(ids('Shot', c('assets', 'is', A1))).toEqual([1, 5, 7]);
    expect(ids('Shot', c('assets', 'is', A2))).toEqual([1, 2]);
    expect(ids('Shot', c('assets', 'is', A3))).toEqual([]);
    expect(ids('Shot', c('assets', 'is', { type: 'Shot', id: 1 }))).toEqual([]);
  });
  it('multi_entity is None = empty, is_not None = non-empty, is_not X = does not contain X', () => {
    expect(ids('Shot', c('assets', 'is', null))).toEqual([3, 4, 8]);
    expect(ids('Shot', c('assets', 'is_not', null))).toEqual([1, 2, 5, 7]);
    expect(ids('Shot', c('assets', 'is_not', A1))).toEqual([2, 3, 4, 8]);
  });
  it('multi_entity in = contains any, not_in = contains none, None adds/removes the empty case', () => {
    expect(ids('Shot', c('assets', 'in', A2, A3))).toEqual([1, 2]);
    expect(ids('Shot', c('assets', 'in', A1, null))).toEqual([1, 3, 4, 5, 7, 8]);
    expect(ids('Shot', c('assets', 'not_in', A1))).toEqual([2, 3, 4, 8]);
    expect(ids('Shot', c('assets', 'not_in', A2, null))).toEqual([5, 7]);
  });
  it('multi_entity type_is = some element of that type; None = empty', () => {
    expect(ids('Shot', c('assets', 'type_is', 'Asset'))).toEqual([1, 2, 5, 7]);
    expect(ids('Shot', c('assets', 'type_is', null))).toEqual([3, 4, 8]);
    expect(ids('Shot', c('assets', 'type_is_not', 'Asset'))).toEqual([3, 4, 8]);
    // Task.task_assignees: 1 [HU1 HU2], 2 [HU2], 3 [], 4 [HU3 retired, G1], 5 [HU1], 6 unset
    expect(ids('Task', c('task_assignees', 'type_is', 'Group'))).toEqual([4]);
    expect(ids('Task', c('task_assignees', 'in', HU1, G1))).toEqual([1, 4, 5]);
    expect(ids('Task', c('task_assignees', 'is', HU2))).toEqual([1, 2]);
    expect(ids('Task', c('task_assignees', 'is', HU3))).toEqual([]);
  });
  it('multi_entity name_* match any element name', () => {
    expect(ids('Shot', c('assets', 'name_contains', 'ROC'))).toEqual([1, 2]);
    expect(ids('Shot', c('assets', 'name_not_contains', 'tree'))).toEqual([2, 3, 4, 8]);
    expect(ids('Shot', c('assets', 'name_contains', 'car'))).toEqual([]);
    expect(ids('Shot', c('assets', 'name_starts_with', 'T'))).toEqual([1, 5, 7]);
    expectFault(() => ids('Shot', c('assets', 'name_is', 'Tree')), /operator 'name_is' is not valid for a multi_entity field/);
  });
});

describe('tag_list (Shot.tag_list: 1 [hero FX], 2 [fx], 3 [], others unset; Tag 1 hero, Tag 2 FX)', () => {
  it('tag_list is = has the tag (by name, case-insensitive, or by Tag link)', () => {
    expect(ids('Shot', c('tag_list', 'is', 'fx'))).toEqual([1, 2]);
    expect(ids('Shot', c('tag_list', 'is', 'HERO'))).toEqual([1]);
    expect(ids('Shot', c('tag_list', 'is', { type: 'Tag', id: 2 }))).toEqual([1, 2]);
    expect(ids('Shot', c('tag_list', 'is', null))).toEqual([3, 4, 5, 7, 8]);
    expect(ids('Shot', c('tag_list', 'is_not', 'hero'))).toEqual([2, 3, 4, 5, 7, 8]);
  });
  it('tag_list name_contains / name_not_contains / name_is', () => {
    expect(ids('Shot', c('tag_list', 'name_contains', 'er'))).toEqual([1]);
    expect(ids('Shot', c('tag_list', 'name_not_contains', 'f'))).toEqual([3, 4, 5, 7, 8]);
    expect(ids('Shot', c('tag_list', 'name_is', 'Fx'))).toEqual([1, 2]);
  });
  it('tag_list faults', () => {
    expectFault(() => ids('Shot', c('tag_list', 'in', 'fx')), /operator 'in' is not valid for a tag_list field/);
    expectFault(() => ids('Shot', c('tag_list', 'is', 5)), /expects a tag name/);
  });
});

describe('deep fields in filters', () => {
  it('deep filter through an entity link', () => {
    expect(ids('Shot', c('project.Project.name', 'is', 'demo'))).toEqual([1, 2, 3, 5]);
    expect(ids('Shot', c('project.Project.archived', 'is', true))).toEqual([4]);
    // Sequence 3 is retired: Shot 4's hop is NULL
    expect(ids('Shot', c('sg_sequence.Sequence.code', 'starts_with', 'sq0'))).toEqual([1, 2, 3, 7]);
    expect(ids('Shot', c('sg_sequence.Sequence.sg_status_list', 'is_not', 'ip'))).toEqual([3, 4, 5, 7, 8]);
  });
  it('deep filter: a null, retired or other-type hop reads as NULL', () => {
    expect(ids('Shot', c('project.Project.name', 'is', null))).toEqual([7, 8]);
    // Task.entity: 1 2 -> Shot 1 (sh001), 3 -> Asset 1, 4 -> Sequence 2, 5 -> Shot 6 (retired), 6 -> Shot 4 (sh004)
    expect(ids('Task', c('entity.Shot.code', 'is', 'sh001'))).toEqual([1, 2]);
    expect(ids('Task', c('entity.Shot.code', 'is', null))).toEqual([3, 4, 5]);
    expect(ids('Task', c('entity.Asset.code', 'is', 'tree'))).toEqual([3]);
  });
  it('deep filter over several hops', () => {
    expect(ids('Task', c('entity.Shot.sg_sequence.Sequence.code', 'is', 'SQ010'))).toEqual([1, 2]);
    expect(ids('Task', c('entity.Shot.project.Project.name', 'is', 'Archive'))).toEqual([6]);
  });
  it('deep filter through a multi-entity link is an EXISTS; negation negates the EXISTS', () => {
    expect(ids('Shot', c('assets.Asset.code', 'is', 'rock'))).toEqual([1, 2]);
    expect(ids('Shot', c('assets.Asset.code', 'is_not', 'rock'))).toEqual([3, 4, 5, 7, 8]);
    expect(ids('Shot', c('assets.Asset.code', 'starts_with', 'c'))).toEqual([]);
    expect(ids('Task', c('task_assignees.HumanUser.name', 'is', 'alice'))).toEqual([1, 5]);
    expect(ids('Task', c('task_assignees.HumanUser.id', 'is_not', 2))).toEqual([3, 4, 5, 6]);
    expect(ids('Task', c('task_assignees.Group.code', 'is', 'lighting'))).toEqual([4]);
    expect(ids('Sequence', c('shots.Shot.sg_status_list', 'is', 'wtg'))).toEqual([2]);
  });
  it('two deep conditions on one multi-entity field are independent EXISTS clauses', () => {
    expect(ids('Task', c('task_assignees.HumanUser.name', 'is', 'alice'), c('task_assignees.HumanUser.name', 'is', 'bob'))).toEqual([1]);
  });
  it('deep filter faults: each hop validated against the schema', () => {
    expectFault(() => ids('Shot', c('sg_sequence.Sequence.foo', 'is', 1)), "API read() Sequence.foo doesn't exist");
    expectFault(() => ids('Shot', c('sg_sequence.Bogus.code', 'is', 'x')), "API read() entity type Bogus doesn't exist");
    expectFault(() => ids('Shot', c('code.Sequence.code', 'is', 'x')), /Shot\.code is not an entity or multi_entity field/);
    expectFault(() => ids('Shot', c('project.Project', 'is', 'x')), "API read() Shot.project.Project doesn't exist");
    expectFault(() => ids('Shot', c('project.Project.name', 'greater_than', 'x')), /operator 'greater_than' is not valid for a text field/);
  });
});

describe('nested groups', () => {
  it('or group', () => {
    expect(read2(or(c('code', 'is', 'sh001'), c('sg_cut_in', 'is', 20)))).toEqual([1, 2]);
  });
  it('and of ors', () => {
    const f = and(or(c('sg_status_list', 'is', 'ip'), c('sg_status_list', 'is', 'fin')), or(c('sg_cut_in', 'greater_than', 15), c('code', 'is', null)));
    expect(read2(f)).toEqual([2, 7]);
  });
  it('arbitrary depth', () => {
    const f = or(and(c('id', 'is', 1)), and(or(c('id', 'is', 3), and(c('id', 'is', 5), c('sg_cut_in', 'is', -5))), c('code', 'is_not', 'zzz')));
    expect(read2(f)).toEqual([1, 3, 5]);
    // the inner and(id 3, id 5 ...) can never hold
    const g = or(and(c('id', 'is', 1)), and(or(c('id', 'is', 3)), and(c('id', 'is', 5), c('sg_cut_in', 'is', -5))));
    expect(read2(g)).toEqual([1]);
  });
  it('empty and group and empty or group both match everything', () => {
    expect(read2(and())).toEqual([1, 2, 3, 4, 5, 7, 8]);
    expect(read2(or())).toEqual([1, 2, 3, 4, 5, 7, 8]);
    expect(read2(or(and()))).toEqual([1, 2, 3, 4, 5, 7, 8]);
    expect(read2(and(c('id', 'is', 1), or()))).toEqual([1]);
  });
  it('bad logical_operator is a fault', () => {
    const bad = { logical_operator: 'xor', conditions: [] } as unknown as FilterGroup;
    expectFault(
      () =>
        executeRead(
          ctx,
          { type: 'Shot', return_fields: ['id'], filters: bad, return_only: 'active', paging: { entities_per_page: 500, current_page: 1 } },
          records,
        ),
      "API read() unknown logical_operator 'xor' (expected and, or)",
    );
  });
});

function read2(f: FilterGroup): number[] {
  return executeRead(
    ctx,
    { type: 'Shot', return_fields: ['id'], filters: f, return_only: 'active', paging: { entities_per_page: 500, current_page: 1 } },
    records,
  ).entities.map((e) => e.id as number);
}
