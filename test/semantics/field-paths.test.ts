// Helpers for the cache's planner: parseFieldPath, collectFieldPaths, the operator table; validateRead faults.
import { describe, expect, it } from 'vitest';
import { collectFieldPaths, parseFieldPath, operatorsFor, OPERATORS_BY_TYPE } from '../../shared/semantics/index.js';
import { ReadParamsSchema, SummaryParamsSchema } from '../../shared/site/index.js';
import { and, c, expectFault, or, schema, validate } from './fixture.js';

describe('parseFieldPath', () => {
  it('parses plain and deep paths with their hops', () => {
    const p = parseFieldPath(schema, 'Task', 'entity.Shot.sg_sequence.Sequence.code');
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect(p.path.hops.map((h) => [h.type, h.field, h.targetType, h.multi])).toEqual([
      ['Task', 'entity', 'Shot', false],
      ['Shot', 'sg_sequence', 'Sequence', false],
    ]);
    expect([p.path.leafType, p.path.leafField, p.path.leaf.data_type, p.path.throughMulti]).toEqual(['Sequence', 'code', 'text', false]);
    const m = parseFieldPath(schema, 'Shot', 'assets.Asset.code');
    expect(m.ok && m.path.throughMulti).toBe(true);
    const plain = parseFieldPath(schema, 'Shot', 'id');
    expect(plain.ok && plain.path.hops.length === 0 && plain.path.leaf.data_type === 'number').toBe(true);
  });
  it('reports the first bad piece', () => {
    expect(parseFieldPath(schema, 'Shot', 'nope')).toEqual({ ok: false, message: "Shot.nope doesn't exist" });
    expect(parseFieldPath(schema, 'Shot', 'project.Project.nope')).toEqual({ ok: false, message: "Project.nope doesn't exist" });
    expect(parseFieldPath(schema, 'Shot', 'project.Nope.name')).toEqual({ ok: false, message: "entity type Nope doesn't exist" });
    expect(parseFieldPath(schema, 'Shot', 'project..name').ok).toBe(false);
  });
});

describe('collectFieldPaths', () => {
  it('lists filter, sort and return paths of a read', () => {
    const p = ReadParamsSchema.parse({
      type: 'Shot',
      filters: and(c('code', 'is', 'x'), or(c('project.Project.name', 'is', 'Demo'), and(c('assets', 'is', null)))),
      sorts: [{ field_name: 'sg_sequence.Sequence.code' }],
      return_fields: ['code', 'project'],
      include_archived_projects: false,
    });
    expect(collectFieldPaths(p)).toEqual({
      filters: ['code', 'project.Project.name', 'assets', 'project.Project.archived'],
      sorts: ['sg_sequence.Sequence.code'],
      returns: ['code', 'project'],
      all: ['code', 'project.Project.name', 'assets', 'project.Project.archived', 'sg_sequence.Sequence.code', 'project'],
    });
  });
  it('lists summary and grouping fields of a summarize', () => {
    const p = SummaryParamsSchema.parse({
      type: 'Task',
      summaries: [{ field: 'id', type: 'count' }],
      grouping: [{ field: 'entity', type: 'exact' }],
      filters: and(c('step', 'is', null)),
    });
    expect(collectFieldPaths(p)).toEqual({ filters: ['step'], sorts: ['entity'], returns: ['id'], all: ['step', 'entity', 'id'] });
  });
});

describe('operator table', () => {
  it('follows the documented table per data type', () => {
    expect(operatorsFor('checkbox')).toEqual(['is', 'is_not']);
    expect(operatorsFor('status_list')).toEqual(['is', 'is_not', 'in', 'not_in']);
    expect(operatorsFor('number')).toContain('not_between');
    expect(operatorsFor('float')).not.toContain('not_between');
    expect(operatorsFor('entity')).toContain('name_is');
    expect(operatorsFor('multi_entity')).not.toContain('name_is');
    expect(operatorsFor('url')).toEqual([]);
    expect(operatorsFor('serializable')).toEqual([]);
    expect(Object.keys(OPERATORS_BY_TYPE).length).toBe(28);
  });
});

describe('validateRead', () => {
  it('accepts a valid read and rejects unknown types, bad filters and bad sorts', () => {
    expect(() => validate('Shot', { filters: and(c('project.Project.name', 'is', 'x')), sorts: [{ field_name: 'code' }] })).not.toThrow();
    expectFault(() => validate('Nope'), "API read() entity type Nope doesn't exist");
    expectFault(() => validate('Shot', { filters: and(c('sg_foo', 'is', 1)) }), "API read() Shot.sg_foo doesn't exist");
    expectFault(() => validate('Shot', { sorts: [{ field_name: 'sg_meta' }] }), 'API read() Shot.sg_meta: cannot sort by a serializable field');
    expectFault(
      () => validate('Shot', { additional_filter_presets: [{ preset_name: 'LATEST', latest_by: 'ENTITIES_CREATED_AT' }] }),
      'API read() additional_filter_presets are not supported',
    );
  });
  it('does not fault on unknown return fields or sort fields', () => {
    expect(() => validate('Shot', { return_fields: ['nope', 'a.B.c'], sorts: [{ field_name: 'nope' }] })).not.toThrow();
    // the parse must not have been a no-op
    expect(ReadParamsSchema.parse({ type: 'Shot', return_fields: ['nope'] }).return_fields).toEqual(['nope']);
  });
});
