// Test fixture for the semantics model: a small schema with every data type and hand-written records.
import { expect } from 'vitest';
import { ShotgunFault, ReadParamsSchema, SummaryParamsSchema, type Condition, type FilterGroup, type ReadResult } from '../../shared/site/index.js';
import { executeRead, executeSummarize, validateRead, type ReadContext, type EntityLookup, type EntityRecord } from '../../shared/semantics/index.js';
import { SiteSchema } from '../../shared/schema/index.js';

const id = { data_type: 'number' } as const;
const text = { data_type: 'text' } as const;
const link = (...types: string[]) => ({ data_type: 'entity' as const, valid_types: types });
const multi = (...types: string[]) => ({ data_type: 'multi_entity' as const, valid_types: types });
const status = { data_type: 'status_list' as const, valid_values: ['ip', 'fin', 'wtg'] };

export const schema = SiteSchema.parse({
  source: 'test fixture',
  types: {
    Project: { identifier: 'name', fields: { id, name: text, archived: { data_type: 'checkbox' }, sg_status: status } },
    Sequence: { identifier: 'code', fields: { id, code: text, project: link('Project'), sg_status_list: status, shots: multi('Shot') } },
    Shot: {
      identifier: 'code',
      fields: {
        id,
        code: text,
        description: text,
        project: link('Project'),
        sg_sequence: link('Sequence'),
        sg_status_list: status,
        sg_shot_type: { data_type: 'list', valid_values: ['Hero', 'Bg'] },
        sg_cut_in: { data_type: 'number' },
        sg_frame_rate: { data_type: 'float' },
        sg_cut_duration: { data_type: 'duration' },
        sg_percent: { data_type: 'percent' },
        sg_budget: { data_type: 'currency' },
        sg_timecode: { data_type: 'timecode' },
        sg_due: { data_type: 'date' },
        sg_started_at: { data_type: 'date_time' },
        sg_approved: { data_type: 'checkbox' },
        assets: multi('Asset'),
        image: { data_type: 'image' },
        tag_list: { data_type: 'tag_list', valid_types: ['Tag'] },
        sg_color: { data_type: 'color' },
        sg_uuid: { data_type: 'uuid' },
        sg_link: { data_type: 'url' },
        sg_meta: { data_type: 'serializable' },
        sg_type_field: { data_type: 'entity_type' },
        sg_lead: link('HumanUser', 'Group'),
        sg_pw: { data_type: 'password' },
        sg_footage: { data_type: 'footage' },
        sg_summary: { data_type: 'summary' },
      },
    },
    Asset: { identifier: 'code', fields: { id, code: text, project: link('Project'), sg_asset_type: { data_type: 'list' }, shots: multi('Shot') } },
    Task: {
      identifier: 'content',
      fields: {
        id,
        content: text,
        entity: link('Shot', 'Asset', 'Sequence'),
        step: link('Step'),
        task_assignees: multi('HumanUser', 'Group'),
        due_date: { data_type: 'date' },
        sg_status_list: status,
        project: link('Project'),
      },
    },
    HumanUser: { identifier: 'name', fields: { id, name: text, login: text, groups: multi('Group') } },
    Group: { identifier: 'code', fields: { id, code: text, users: multi('HumanUser') } },
    Step: { identifier: 'code', fields: { id, code: text, short_name: text } },
    Tag: { identifier: 'name', fields: { id, name: text } },
  },
});

const L = (type: string, id: number) => ({ type, id });
export const P1 = L('Project', 1);
export const P2 = L('Project', 2);
export const P3 = L('Project', 3);
export const SQ1 = L('Sequence', 1);
export const SQ2 = L('Sequence', 2);
export const SQ3 = L('Sequence', 3);
export const HU1 = L('HumanUser', 1);
export const HU2 = L('HumanUser', 2);
export const HU3 = L('HumanUser', 3);
export const G1 = L('Group', 1);
export const ST1 = L('Step', 1);
export const ST2 = L('Step', 2);
export const A1 = L('Asset', 1);
export const A2 = L('Asset', 2);
export const A3 = L('Asset', 3);
export const S = (id: number) => L('Shot', id);

const rec = (type: string, id: number, values: Record<string, unknown>, retired = false): EntityRecord => ({ type, id, retired, values });

/**
 * The data. Retired: Project 3, Sequence 3, HumanUser 3, Asset 3, Shot 6. Project 2 is archived.
 * Notes per Shot are the facts the tests rely on.
 */
export const records: EntityRecord[] = [
  rec('Project', 1, { name: 'Demo', archived: false, sg_status: 'ip' }),
  rec('Project', 2, { name: 'Archive', archived: true }),
  rec('Project', 3, { name: 'Gone' }, true),
  rec('Sequence', 1, { code: 'SQ010', project: P1, sg_status_list: 'ip', shots: [S(1), S(2)] }),
  rec('Sequence', 2, { code: 'sq020', project: P1, sg_status_list: 'fin', shots: [S(3)] }),
  rec('Sequence', 3, { code: 'SQ030', project: P2 }, true),
  rec('HumanUser', 1, { name: 'Alice', login: 'alice', groups: [G1] }),
  rec('HumanUser', 2, { name: 'bob', login: 'bob' }),
  rec('HumanUser', 3, { name: 'Carol', login: 'carol' }, true),
  rec('Group', 1, { code: 'Lighting', users: [HU1] }),
  rec('Step', 1, { code: 'Comp', short_name: 'CMP' }),
  rec('Step', 2, { code: 'Anim', short_name: 'ANM' }),
  rec('Asset', 1, { code: 'Tree', project: P1, sg_asset_type: 'Prop' }),
  rec('Asset', 2, { code: 'rock', project: P1, sg_asset_type: 'Prop' }),
  rec('Asset', 3, { code: 'Car', project: P1 }, true),
  rec('Tag', 1, { name: 'hero' }),
  rec('Tag', 2, { name: 'FX' }),
  // Shot 1: everything set.
  rec('Shot', 1, {
    code: 'sh001',
    description: 'The first shot',
    project: P1,
    sg_sequence: SQ1,
    sg_status_list: 'ip',
    sg_shot_type: 'Hero',
    sg_cut_in: 10,
    sg_frame_rate: 24.0,
    sg_cut_duration: 100,
    sg_percent: 50,
    sg_budget: 1000.5,
    sg_timecode: 1000,
    sg_due: '2024-03-10',
    sg_started_at: '2024-03-15T10:00:00Z',
    sg_approved: true,
    assets: [A1, A2],
    image: 'https://example.test/thumb/1.png',
    tag_list: ['hero', 'FX'],
    sg_color: '255,0,0',
    sg_uuid: 'AAAA-1111',
    sg_link: { name: 'ref', url: 'https://example.test/', link_type: 'web', content_type: null },
    sg_meta: { a: [1, 2] },
    sg_type_field: 'Asset',
    sg_lead: HU1,
    sg_footage: '12-04',
  }),
  // Shot 2: upper-case code, zeros.
  rec('Shot', 2, {
    code: 'SH002',
    description: 'second',
    project: P1,
    sg_sequence: SQ1,
    sg_status_list: 'fin',
    sg_shot_type: 'hero',
    sg_cut_in: 20,
    sg_frame_rate: 23.976,
    sg_cut_duration: 0,
    sg_percent: 100,
    sg_budget: 0,
    sg_timecode: 0,
    sg_due: '2024-03-14',
    sg_started_at: '2024-03-14T23:59:59Z',
    sg_approved: false,
    assets: [A2],
    tag_list: ['fx'],
    sg_color: 'pipeline_step',
    sg_uuid: 'bbbb-2222',
    sg_type_field: 'Shot',
    sg_lead: G1,
  }),
  // Shot 3: mostly unset.
  rec('Shot', 3, { code: 'sh003', project: P1, sg_sequence: SQ2, sg_status_list: 'wtg', assets: [], tag_list: [] }),
  // Shot 4: archived project, retired sequence, only a retired asset, retired lead; status written in upper case.
  rec('Shot', 4, {
    code: 'sh004',
    project: P2,
    sg_sequence: SQ3,
    sg_status_list: 'IP',
    sg_cut_in: 0,
    assets: [A3],
    sg_lead: HU3,
    sg_due: '2024-02-29',
    sg_started_at: '2024-03-11T00:00:00Z',
    sg_frame_rate: 25,
    sg_approved: false,
  }),
  // Shot 5: no code, no sequence, no status.
  rec('Shot', 5, {
    project: P1,
    sg_cut_in: -5,
    assets: [A1],
    sg_lead: HU2,
    sg_due: '2024-03-16',
    sg_started_at: '2024-03-16T12:00:00Z',
    sg_approved: true,
    description: 'FIRST of many',
  }),
  // Shot 6: retired.
  rec('Shot', 6, { code: 'sh006', project: P1, sg_sequence: SQ1, sg_status_list: 'ip', sg_cut_in: 10 }, true),
  // Shot 7: retired project; LIKE metacharacters in its code.
  rec('Shot', 7, {
    code: 'sh_007%',
    project: P3,
    sg_sequence: SQ2,
    sg_status_list: 'fin',
    sg_cut_in: 30,
    assets: [A1, A3],
    sg_due: '2023-12-31',
    sg_started_at: '2023-12-31T23:00:00Z',
  }),
  // Shot 8: no project.
  rec('Shot', 8, { code: 'ab', sg_status_list: 'wtg', sg_cut_in: 10, sg_due: '2024-03-17' }),
  rec('Task', 1, { content: 'Comp sh001', entity: S(1), step: ST1, task_assignees: [HU1, HU2], due_date: '2024-03-12', sg_status_list: 'ip', project: P1 }),
  rec('Task', 2, { content: 'anim sh001', entity: S(1), step: ST2, task_assignees: [HU2], sg_status_list: 'fin', project: P1 }),
  rec('Task', 3, { content: 'Comp tree', entity: A1, step: ST1, task_assignees: [], project: P1 }),
  rec('Task', 4, { content: 'seq task', entity: SQ2, task_assignees: [HU3, G1], project: P1 }),
  rec('Task', 5, { content: 'orphan', entity: S(6), task_assignees: [HU1], project: P1 }),
  rec('Task', 6, { content: 'sh004 comp', entity: S(4), step: ST1, project: P2 }),
];

export function makeLookup(recs: readonly EntityRecord[]): EntityLookup {
  const m = new Map<string, EntityRecord>();
  for (const r of recs) m.set(`${r.type}#${r.id}`, r);
  return { get: (type, id) => m.get(`${type}#${id}`) };
}

/** Friday 2024-03-15 12:00:00 UTC; the Monday-started week is 2024-03-11 .. 2024-03-17. */
export const NOW = new Date('2024-03-15T12:00:00.250Z');
export const ctx: ReadContext = { schema, lookup: makeLookup(records), now: NOW };

export const c = (path: string, relation: string, ...values: unknown[]): Condition => ({ path, relation, values });
export const and = (...conditions: Array<Condition | FilterGroup>): FilterGroup => ({ logical_operator: 'and', conditions });
export const or = (...conditions: Array<Condition | FilterGroup>): FilterGroup => ({ logical_operator: 'or', conditions });

/** Runs a read as the wire would deliver it (through zod), over every record of the type. */
export function read(type: string, params: Record<string, unknown> = {}, context: ReadContext = ctx): ReadResult {
  const p = ReadParamsSchema.parse({ type, ...params });
  return executeRead(
    context,
    p,
    records.filter((r) => r.type === type),
  );
}

/** The ids a filter matches (active rows, default order). */
export function ids(type: string, ...conditions: Array<Condition | FilterGroup>): number[] {
  return read(type, { filters: and(...conditions) }).entities.map((e) => e.id as number);
}

export function summarize(type: string, params: Record<string, unknown>) {
  return executeSummarize(
    ctx,
    SummaryParamsSchema.parse({ type, ...params }),
    records.filter((r) => r.type === type),
  );
}

/** Asserts that running `fn` throws a ShotgunFault with error code 103 whose message matches `msg`. */
export function expectFault(fn: () => unknown, msg: RegExp | string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ShotgunFault);
  const f = caught as ShotgunFault;
  expect(f.errorCode).toBe(103);
  if (typeof msg === 'string') expect(f.message).toBe(msg);
  else expect(f.message).toMatch(msg);
}

/** validateRead over wire params. */
export function validate(type: string, params: Record<string, unknown> = {}): void {
  validateRead(schema, ReadParamsSchema.parse({ type, ...params }));
}
