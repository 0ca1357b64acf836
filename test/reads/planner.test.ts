import { describe, expect, it } from 'vitest';
import { loadCachedSchema } from '../../shared/schema/index.js';
import { planRead } from '../../shared/query/index.js';
import { Readiness, SiteFieldKnowledge } from '../../shared/store/index.js';
import { SiteRules } from '../../shared/semantics/index.js';

const schema = loadCachedSchema('schema/default.yml');
const ready = Readiness.all(Object.fromEntries(schema.site.typeNames.map((t) => [t, Object.keys(schema.site.type(t)!.fields)])));
const P = { type: 'Project', id: 70, name: 'Demo' };
const shot = { type: 'Shot', id: 5, name: 'sh005' };
const user = { type: 'HumanUser', id: 42, name: 'Zoë' };
const c = (path: string, relation: string, ...values: unknown[]) => ({ path, relation, values });
const plan = (type: string, conditions: unknown[], op: 'and' | 'or' = 'and', extra: Record<string, unknown> = {}) => {
  const r = planRead(schema, ready, { type, return_fields: ['id'], filters: { logical_operator: op, conditions }, ...extra });
  if (!r.ok) throw new Error(r.reason);
  return r.plan.access;
};

describe('planner: index choice', () => {
  it('prefers ids, then a link slot, then byRef membership, then the project, then the type', () => {
    expect(plan('Task', [c('project', 'is', P), c('entity', 'is', shot), c('id', 'in', 3, 4, 3)])).toEqual({ kind: 'ids', ids: [3, 4] });
    expect(plan('Task', [c('project', 'is', P), c('entity', 'is', shot)])).toEqual({ kind: 'link', field: 'entity', targets: [{ type: 'Shot', id: 5 }] });
    expect(plan('Task', [c('project', 'is', P), c('task_assignees', 'is', user)])).toEqual({
      kind: 'ref',
      field: 'task_assignees',
      targets: [{ type: 'HumanUser', id: 42 }],
    });
    expect(plan('Task', [c('sg_status_list', 'is', 'ip'), c('project', 'in', P, { type: 'Project', id: 71 })])).toEqual({
      kind: 'project',
      projectIds: [70, 71],
    });
    // A link field without a slot still has edges: byRef.
    expect(plan('Version', [c('playlists', 'is', { type: 'Playlist', id: 1 })])).toMatchObject({ kind: 'ref', field: 'playlists' });
    expect(plan('Task', [c('created_by', 'is', user)])).toMatchObject({ kind: 'ref', field: 'created_by' });
  });

  it('falls back to the type when no top-level AND condition can use an index', () => {
    expect(plan('Task', [c('project', 'is', P), c('entity', 'is', shot)], 'or')).toEqual({ kind: 'type' });
    expect(plan('Task', [c('entity', 'is', null)])).toEqual({ kind: 'type' });
    expect(plan('Task', [c('entity', 'is_not', shot)])).toEqual({ kind: 'type' });
    expect(plan('Task', [{ logical_operator: 'and', conditions: [c('entity', 'is', shot)] }])).toEqual({ kind: 'type' });
    // A deep filter whose inner condition no index of the target narrows.
    expect(plan('Task', [c('entity.Shot.sg_status_list', 'is', 'ip')])).toEqual({ kind: 'type' });
    // One condition under "or" is still a conjunction.
    expect(plan('Task', [c('entity', 'is', shot)], 'or')).toMatchObject({ kind: 'link' });
  });

  it('semi-joins a deep filter through a slotted link when the target type has an index for the inner condition', () => {
    const seq = { type: 'Sequence', id: 1 };
    expect(plan('Task', [c('entity.Shot.sg_sequence', 'is', seq)])).toEqual({
      kind: 'semi',
      field: 'entity',
      targetType: 'Shot',
      inner: { kind: 'link', field: 'sg_sequence', targets: [{ type: 'Sequence', id: 1 }] },
      fallback: { kind: 'type' },
    });
    expect(plan('Task', [c('project', 'is', P), c('entity.Shot.sg_sequence', 'is', seq)])).toMatchObject({
      kind: 'semi',
      fallback: { kind: 'project', projectIds: [70] },
    });
    // A direct slot on the root still wins.
    expect(plan('Task', [c('entity', 'is', shot), c('entity.Shot.sg_sequence', 'is', seq)])).toMatchObject({ kind: 'link', field: 'entity' });
  });

  it('lists deep paths to prefetch hop by hop', () => {
    const r = planRead(schema, ready, {
      type: 'Task',
      return_fields: ['entity.Shot.sg_sequence.Sequence.code'],
      filters: { logical_operator: 'and', conditions: [] },
    });
    expect(r.ok && r.plan.deep).toEqual([
      {
        text: 'entity.Shot.sg_sequence.Sequence.code',
        hops: [
          { field: 'entity', targetType: 'Shot' },
          { field: 'sg_sequence', targetType: 'Sequence' },
        ],
      },
    ]);
  });

  it('gives a pass reason for fields, types and readiness it cannot vouch for', () => {
    const partial = new Readiness(
      new Map([
        ['Shot', { ready: true, fields: new Set(['code']) }],
        ['Sequence', { ready: false, fields: new Set<string>() }],
      ]),
    );
    const reason = (p: unknown, r = ready) => {
      const x = planRead(schema, r, p);
      return x.ok ? 'ok' : x.reason;
    };
    expect(reason({ type: 'Shot', return_fields: ['code', 'description'] }, partial)).toBe('field-not-ready:Shot.description');
    expect(reason({ type: 'Shot', return_fields: ['code'] }, partial)).toBe('ok');
    expect(reason({ type: 'Shot', return_fields: ['code'], filters: { logical_operator: 'and', conditions: [c('code', 'is', 'x')] } }, partial)).toBe('ok');
    expect(
      reason({ type: 'Task', return_fields: ['entity.Shot.code'] }, new Readiness(new Map([['Task', { ready: true, fields: new Set(['entity']) }]]))),
    ).toBe('type-not-ready:Shot');
    expect(reason({ type: 'Shot', return_fields: ['code.Sequence.code'] })).toBe('unknown-field:Shot.code.Sequence.code');
    expect(reason({ type: 'Shot', return_fields: ['sg_sequence.Sequence'] })).toBe('unknown-field:Shot.sg_sequence.Sequence');
    expect(reason('nope')).toBe('malformed-params');
    expect(reason({ type: 'Shot', paging: { entities_per_page: 0, current_page: 1 } })).toBe('malformed-params');
    expect(reason({ type: 'Shot', filters: { logical_operator: 'and', conditions: [c('sg_due_date', 'in_calendar_week', 0)] } })).toBe(
      'operator:in_calendar_week',
    );
    expect(reason({ type: 'Shot', filters: { logical_operator: 'and', conditions: [c('code', 'frobnicate', 1)] } })).toBe('operator:frobnicate');
    expect(reason({ type: 'Shot', filters: { logical_operator: 'and', conditions: [c('tag_list', 'is', { type: 'Tag', id: 1 })] } })).toBe('tag-link-value');
  });
});

describe('planner: return fields the site lacks', () => {
  const names = (type: string, extra: string[] = []) => ({ names: new Set([...Object.keys(schema.site.type(type)!.fields), ...extra]), generation: 3 });
  const known = new SiteFieldKnowledge(
    new Map([
      ['PipelineConfiguration', names('PipelineConfiguration', ['sg_site_only'])],
      ['HumanUser', names('HumanUser')],
    ]),
    3,
  );
  const under = (rule: 'omit' | 'null' | 'fault' | undefined, k = known) =>
    (rule ? ready.withRules(SiteRules.measured({ missingReturnField: rule })) : ready).withSiteFields(k);
  const read = (fields: string[], extra: Record<string, unknown> = {}) => ({
    type: 'PipelineConfiguration',
    return_fields: fields,
    filters: { logical_operator: 'and', conditions: [] },
    ...extra,
  });
  const reason = (r: ReturnType<typeof planRead>) => (r.ok ? 'ok' : r.reason);

  it("plans a read naming them (plain and deep) when the rule is measured omit or null and the site's names say so", () => {
    for (const rule of ['omit', 'null'] as const) {
      expect(reason(planRead(schema, under(rule), read(['code', 'plugin_ids', 'created_by.HumanUser.nope'])))).toBe('ok');
    }
    const planned = planRead(schema, under('null'), read(['created_by.HumanUser.nope', 'created_by.HumanUser.name']));
    expect(planned.ok && planned.plan.deep.map((d) => d.text)).toEqual(['created_by.HumanUser.name']);
  });

  it('passes under fault, an assumed rule, stale or absent names, a field the site has, filters, sorts and summaries', () => {
    expect(reason(planRead(schema, under('fault'), read(['plugin_ids'])))).toBe('uncached-field:PipelineConfiguration.plugin_ids');
    expect(reason(planRead(schema, under(undefined), read(['plugin_ids'])))).toBe('uncached-field:PipelineConfiguration.plugin_ids');
    const stale = new SiteFieldKnowledge(new Map([['PipelineConfiguration', names('PipelineConfiguration')]]), 4);
    expect(reason(planRead(schema, under('omit', stale), read(['plugin_ids'])))).toBe('uncached-field:PipelineConfiguration.plugin_ids');
    expect(reason(planRead(schema, under('omit'), read(['created_by.ApiUser.nope'])))).toMatch(/^uncached-(field|type):/);
    expect(reason(planRead(schema, under('omit'), read(['sg_site_only'])))).toBe('uncached-field:PipelineConfiguration.sg_site_only');
    expect(reason(planRead(schema, under('omit'), read(['code'], { filters: { logical_operator: 'and', conditions: [c('plugin_ids', 'is', 'x')] } })))).toBe(
      'uncached-field:PipelineConfiguration.plugin_ids',
    );
    expect(reason(planRead(schema, under('omit'), read(['plugin_ids'], { sorts: [{ field_name: 'plugin_ids', direction: 'asc' }] })))).toBe(
      'uncached-field:PipelineConfiguration.plugin_ids',
    );
    expect(reason(planRead(schema, under('omit'), read(['plugin_ids']), { missingReturnFields: false }))).toBe(
      'uncached-field:PipelineConfiguration.plugin_ids',
    );
  });
});
