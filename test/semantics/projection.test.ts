// Projection: key order, link dicts with names, unset values, retired link targets, deep return fields, unknown fields.
import { describe, expect, it } from 'vitest';
import { executeRead, type EntityRecord } from '../../shared/semantics/index.js';
import { ReadParamsSchema } from '../../shared/site/index.js';
import { and, c, ctx, makeLookup, read, records, schema } from './fixture.js';

const one = (type: string, id: number, fields: string[]) => read(type, { filters: and(c('id', 'is', id)), return_fields: fields }).entities[0];

describe('projection', () => {
  it('entity dict: type, id, then requested fields in request order, byte for byte', () => {
    const e = one('Shot', 1, [
      'code',
      'project',
      'sg_sequence',
      'assets',
      'sg_due',
      'sg_started_at',
      'image',
      'tag_list',
      'sg_link',
      'sg_approved',
      'project.Project.name',
      'sg_sequence.Sequence.sg_status_list',
      'sg_nope',
      'id',
      'code',
      'sg_frame_rate',
    ]);
    expect(JSON.stringify(e)).toBe(
      '{"type":"Shot","id":1,"code":"sh001","project":{"type":"Project","id":1,"name":"Demo"},' +
        '"sg_sequence":{"type":"Sequence","id":1,"name":"SQ010"},' +
        '"assets":[{"type":"Asset","id":1,"name":"Tree"},{"type":"Asset","id":2,"name":"rock"}],' +
        '"sg_due":"2024-03-10","sg_started_at":"2024-03-15T10:00:00Z","image":"https://example.test/thumb/1.png",' +
        '"tag_list":["hero","FX"],"sg_link":{"name":"ref","url":"https://example.test/","link_type":"web","content_type":null},' +
        '"sg_approved":true,"project.Project.name":"Demo","sg_sequence.Sequence.sg_status_list":"ip","sg_frame_rate":24}',
    );
  });
  it('default return_fields gives type and id only', () => {
    expect(read('Shot', { filters: and(c('id', 'is', 2)) }).entities).toEqual([{ type: 'Shot', id: 2 }]);
  });
  it('unset fields are null, multi_entity and tag_list []', () => {
    expect(one('Shot', 3, ['sg_cut_in', 'assets', 'tag_list', 'sg_approved', 'sg_lead', 'image', 'sg_due'])).toEqual({
      type: 'Shot',
      id: 3,
      sg_cut_in: null,
      assets: [],
      tag_list: [],
      sg_approved: null,
      sg_lead: null,
      image: null,
      sg_due: null,
    });
    expect(one('Shot', 8, ['assets', 'tag_list', 'project', 'project.Project.name'])).toEqual({
      type: 'Shot',
      id: 8,
      assets: [],
      tag_list: [],
      project: null,
      'project.Project.name': null,
    });
  });
  it('links to retired entities: null for entity fields, dropped from multi-entity lists', () => {
    expect(one('Shot', 4, ['project', 'sg_sequence', 'assets', 'sg_lead', 'sg_sequence.Sequence.code'])).toEqual({
      type: 'Shot',
      id: 4,
      project: { type: 'Project', id: 2, name: 'Archive' },
      sg_sequence: null,
      assets: [],
      sg_lead: null,
      'sg_sequence.Sequence.code': null,
    });
    expect(one('Shot', 7, ['project', 'assets', 'project.Project.name'])).toEqual({
      type: 'Shot',
      id: 7,
      project: null,
      assets: [{ type: 'Asset', id: 1, name: 'Tree' }],
      'project.Project.name': null,
    });
    expect(one('Task', 4, ['task_assignees'])).toEqual({ type: 'Task', id: 4, task_assignees: [{ type: 'Group', id: 1, name: 'Lighting' }] });
  });
  it('link names come from each target type identifier field', () => {
    expect(one('Task', 1, ['entity', 'step', 'task_assignees', 'project'])).toEqual({
      type: 'Task',
      id: 1,
      entity: { type: 'Shot', id: 1, name: 'sh001' },
      step: { type: 'Step', id: 1, name: 'Comp' },
      task_assignees: [
        { type: 'HumanUser', id: 1, name: 'Alice' },
        { type: 'HumanUser', id: 2, name: 'bob' },
      ],
      project: { type: 'Project', id: 1, name: 'Demo' },
    });
    expect(one('Shot', 2, ['sg_lead'])).toEqual({ type: 'Shot', id: 2, sg_lead: { type: 'Group', id: 1, name: 'Lighting' } });
    expect(one('Sequence', 1, ['shots'])).toEqual({
      type: 'Sequence',
      id: 1,
      shots: [
        { type: 'Shot', id: 1, name: 'sh001' },
        { type: 'Shot', id: 2, name: 'SH002' },
      ],
    });
  });
  it('deep return fields through a polymorphic link: null when the hop is another type or retired', () => {
    const rows = read('Task', { return_fields: ['entity.Shot.code', 'entity.Asset.code'] }).entities;
    expect(rows).toEqual([
      { type: 'Task', id: 1, 'entity.Shot.code': 'sh001', 'entity.Asset.code': null },
      { type: 'Task', id: 2, 'entity.Shot.code': 'sh001', 'entity.Asset.code': null },
      { type: 'Task', id: 3, 'entity.Shot.code': null, 'entity.Asset.code': 'Tree' },
      { type: 'Task', id: 4, 'entity.Shot.code': null, 'entity.Asset.code': null },
      { type: 'Task', id: 5, 'entity.Shot.code': null, 'entity.Asset.code': null },
      { type: 'Task', id: 6, 'entity.Shot.code': 'sh004', 'entity.Asset.code': null },
    ]);
  });
  it('deep return field ending on a link gives a link dict; through a multi-entity link gives null', () => {
    expect(one('Task', 1, ['entity.Shot.sg_sequence', 'entity.Shot.assets', 'task_assignees.HumanUser.name'])).toEqual({
      type: 'Task',
      id: 1,
      'entity.Shot.sg_sequence': { type: 'Sequence', id: 1, name: 'SQ010' },
      'entity.Shot.assets': [
        { type: 'Asset', id: 1, name: 'Tree' },
        { type: 'Asset', id: 2, name: 'rock' },
      ],
      'task_assignees.HumanUser.name': null,
    });
  });
  it('unknown return fields and bad deep paths are left out silently', () => {
    expect(one('Shot', 1, ['sg_nope', 'project.Project.nope', 'project.Bogus.name', 'code.Project.name', 'type'])).toEqual({ type: 'Shot', id: 1 });
  });
  it('a link whose target the lookup does not know keeps type and id with a null name', () => {
    const stray: EntityRecord = {
      type: 'Shot',
      id: 50,
      retired: false,
      values: { sg_sequence: { type: 'Sequence', id: 99 }, assets: [{ type: 'Asset', id: 77 }] },
    };
    const res = executeRead(
      { ...ctx, lookup: makeLookup([...records, stray]) },
      ReadParamsSchema.parse({ type: 'Shot', return_fields: ['sg_sequence', 'assets', 'sg_sequence.Sequence.code'], filters: and(c('id', 'is', 50)) }),
      [stray],
    );
    expect(res.entities).toEqual([
      {
        type: 'Shot',
        id: 50,
        sg_sequence: { type: 'Sequence', id: 99, name: null },
        assets: [{ type: 'Asset', id: 77, name: null }],
        'sg_sequence.Sequence.code': null,
      },
    ]);
  });
  it('returned values are copies: mutating them does not touch the stored records', () => {
    const e = one('Shot', 1, ['sg_link', 'sg_meta', 'tag_list', 'project']);
    (e.sg_link as Record<string, unknown>).name = 'changed';
    (e.tag_list as string[]).push('x');
    (e.project as Record<string, unknown>).id = 99;
    expect(one('Shot', 1, ['sg_link', 'tag_list', 'project'])).toEqual({
      type: 'Shot',
      id: 1,
      sg_link: { name: 'ref', url: 'https://example.test/', link_type: 'web', content_type: null },
      tag_list: ['hero', 'FX'],
      project: { type: 'Project', id: 1, name: 'Demo' },
    });
  });
  it('candidates of other types or repeated ids are ignored', () => {
    const shot1 = records.find((r) => r.type === 'Shot' && r.id === 1)!;
    const res = executeRead(ctx, ReadParamsSchema.parse({ type: 'Shot', filters: and(c('id', 'less_than', 3)) }), [shot1, ...records, shot1]);
    expect(res.entities).toEqual([
      { type: 'Shot', id: 1 },
      { type: 'Shot', id: 2 },
    ]);
  });
  it('params that skipped zod defaults (no filters, paging, return_fields) read every active row', () => {
    const res = executeRead(ctx, { type: 'Step' } as Parameters<typeof executeRead>[1], records);
    expect(res).toEqual({
      entities: [
        { type: 'Step', id: 1 },
        { type: 'Step', id: 2 },
      ],
    });
  });
  it('include_archived_projects false leaves out rows of archived projects (and archived Projects)', () => {
    expect(read('Shot', { include_archived_projects: false }).entities.map((e) => e.id)).toEqual([1, 2, 3, 5, 7, 8]);
    expect(read('Project', { include_archived_projects: false }).entities.map((e) => e.id)).toEqual([1]);
    expect(read('Project').entities.map((e) => e.id)).toEqual([1, 2]);
    expect(schema.identifier('Task')).toBe('content');
  });
});
