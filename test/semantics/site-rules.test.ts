// The site rules in the semantics model (NULL placement, text order, entity sort key, empty `or`, negation and NULL,
// missing return fields), the planner's pass-through for rules it cannot follow, and how rules are stored and reported.
import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, SiteRules, type RuleValues } from '../../shared/semantics/index.js';
import { loadCachedSchema } from '../../shared/schema/index.js';
import { planRead } from '../../shared/query/index.js';
import { Readiness } from '../../shared/store/index.js';
import { and, c, ctx, expectFault, or, read } from './fixture.js';

const under = (rules: Partial<RuleValues>) => ({ ...ctx, rules: { ...DEFAULT_RULES, ...rules } });
const order = (sorts: Array<{ field_name: string; direction?: string }>, rules: Partial<RuleValues> = {}): number[] =>
  read('Shot', { sorts }, under(rules)).entities.map((e) => e.id as number);
const matching = (filters: unknown, rules: Partial<RuleValues> = {}, type = 'Shot'): number[] =>
  read(type, { filters }, under(rules)).entities.map((e) => e.id as number);

describe('site rules in the semantics model', () => {
  it('NULL placement per direction', () => {
    // codes: 1 sh001, 2 SH002, 3 sh003, 4 sh004, 5 unset, 7 sh_007%, 8 ab
    expect(order([{ field_name: 'code' }], { nullsAsc: 'first' })).toEqual([5, 8, 1, 2, 3, 4, 7]);
    expect(order([{ field_name: 'code', direction: 'desc' }], { nullsDesc: 'last' })).toEqual([7, 4, 3, 2, 1, 8, 5]);
    // NULLs last both ways.
    expect(order([{ field_name: 'code', direction: 'desc' }], { nullsAsc: 'last', nullsDesc: 'last' })).toEqual([7, 4, 3, 2, 1, 8, 5]);
    // sg_cut_in: 1 10, 2 20, 3 unset, 4 0, 5 -5, 7 30, 8 10 (ties by id in both directions)
    expect(order([{ field_name: 'sg_cut_in' }], { nullsAsc: 'first' })).toEqual([3, 5, 4, 1, 8, 2, 7]);
    expect(order([{ field_name: 'sg_cut_in', direction: 'desc' }], { nullsDesc: 'last' })).toEqual([7, 2, 1, 8, 4, 5, 3]);
  });

  it('text by code point: upper case before lower case, punctuation where its code point puts it', () => {
    expect(order([{ field_name: 'code' }], { textOrder: 'code-point' })).toEqual([2, 8, 1, 3, 4, 7, 5]);
    expect(order([{ field_name: 'code' }])).toEqual([8, 1, 2, 3, 4, 7, 5]);
  });

  it('entity fields by the linked id (then type), or by name under the text order', () => {
    // sg_lead: 1 Alice (HumanUser 1), 2 Lighting (Group 1), 5 bob (HumanUser 2); others NULL
    expect(order([{ field_name: 'sg_lead' }], { entityOrder: 'id' })).toEqual([2, 1, 5, 3, 4, 7, 8]);
    expect(order([{ field_name: 'sg_lead' }], { textOrder: 'code-point' })).toEqual([1, 2, 5, 3, 4, 7, 8]);
    expect(order([{ field_name: 'sg_lead' }])).toEqual([1, 5, 2, 3, 4, 7, 8]);
  });

  it('an empty or group matches nothing at the top or nested, as measured; an empty and group still matches all', () => {
    const all = matching(and());
    expect(matching(or())).toEqual(all);
    expect(matching(or(), { emptyOrTop: 'none' })).toEqual([]);
    expect(matching(and(or()), { emptyOrTop: 'none' })).toEqual(all);
    expect(matching(and(or()), { emptyOrNested: 'none' })).toEqual([]);
    expect(matching(or(c('code', 'is', 'ab'), or()), { emptyOrNested: 'none' })).toEqual([8]);
    expect(matching(and(), { emptyOrTop: 'none', emptyOrNested: 'none' })).toEqual(all);
  });

  it('negations leave NULL rows out when measured so (checkbox, never NULL, unchanged)', () => {
    expect(matching(and(c('code', 'is_not', 'sh001')))).toEqual([2, 3, 4, 5, 7, 8]);
    expect(matching(and(c('code', 'is_not', 'sh001')), { negationNulls: 'exclude' })).toEqual([2, 3, 4, 7, 8]);
    expect(matching(and(c('sg_cut_in', 'not_in', 10, 20)), { negationNulls: 'exclude' })).not.toContain(3);
    expect(matching(and(c('sg_approved', 'is_not', true)), { negationNulls: 'exclude' })).toEqual(matching(and(c('sg_approved', 'is_not', true))));
    // An invalid negated condition still faults with the site's message.
    expectFault(() => read('Shot', { filters: and(c('code', 'is_not', 5)) }, under({ negationNulls: 'exclude' })), /'is_not' expects a string value/);
  });

  it('a negation through a multi-entity hop, by each multiNegation rule', () => {
    // Shot assets (active): 1 Tree+rock, 2 rock, 3 none, 4 only a retired one, 5 Tree, 7 Tree (+ a retired one), 8 unset.
    const notTree = and(c('assets.Asset.code', 'is_not', 'tree'));
    expect(matching(notTree)).toEqual([2, 3, 4, 8]);
    expect(matching(notTree, { multiNegation: 'none-nonempty' })).toEqual([2]);
    expect(matching(notTree, { multiNegation: 'some' })).toEqual([1, 2]);
    expect(matching(notTree, { multiNegation: 'some-or-empty' })).toEqual([1, 2, 3, 4, 8]);
    expect(matching(and(c('assets.Asset.id', 'not_between', 1, 1)), { multiNegation: 'some' })).toEqual([1, 2]);
    // A linked row whose leaf is NULL counts for `some` as the plain field's negation does. Sequence shots: 1 sh001
    // ("The first shot") + SH002 ("second"), 2 sh003 (no description).
    const notFirst = and(c('shots.Shot.description', 'not_contains', 'first'));
    expect(matching(notFirst, {}, 'Sequence')).toEqual([2]);
    expect(matching(notFirst, { multiNegation: 'some' }, 'Sequence')).toEqual([1, 2]);
    expect(matching(notFirst, { multiNegation: 'some', negationNulls: 'exclude' }, 'Sequence')).toEqual([1]);
    expect(matching(notFirst, { negationNulls: 'exclude' }, 'Sequence')).toEqual([2]);
  });

  it('an empty text operand: every set value, no condition, or nothing (its negation by the negation rules)', () => {
    // code: 5 unset, the others set.
    expect(matching(and(c('code', 'contains', '')))).toEqual([1, 2, 3, 4, 7, 8]);
    expect(matching(and(c('code', 'not_contains', '')))).toEqual([5]);
    expect(matching(and(c('code', 'starts_with', '')), { emptyOperand: 'ignored' })).toEqual([1, 2, 3, 4, 5, 7, 8]);
    expect(matching(and(c('code', 'not_contains', '')), { emptyOperand: 'ignored' })).toEqual([1, 2, 3, 4, 5, 7, 8]);
    expect(matching(and(c('code', 'ends_with', '')), { emptyOperand: 'none' })).toEqual([]);
    expect(matching(and(c('code', 'not_contains', '')), { emptyOperand: 'none' })).toEqual([1, 2, 3, 4, 5, 7, 8]);
    expect(matching(and(c('code', 'not_contains', '')), { emptyOperand: 'none', negationNulls: 'exclude' })).toEqual([1, 2, 3, 4, 7, 8]);
  });

  it('a None among in / not_in values, on scalar and link fields', () => {
    // sg_cut_in: 1 10, 2 20, 3 unset, 4 0, 5 -5, 7 30, 8 10. sg_lead: 1 HumanUser 1, 2 Group 1, 5 HumanUser 2, 4 a retired user, others unset.
    const scalar = (relation: string, rules: Partial<RuleValues> = {}) => matching(and(c('sg_cut_in', relation, 10, null)), rules);
    expect([scalar('in'), scalar('not_in')]).toEqual([
      [1, 3, 8],
      [2, 4, 5, 7],
    ]);
    expect([scalar('in', { inNullScalar: 'ignored' }), scalar('not_in', { inNullScalar: 'ignored' })]).toEqual([
      [1, 8],
      [2, 3, 4, 5, 7],
    ]);
    expect(scalar('not_in', { inNullScalar: 'ignored', negationNulls: 'exclude' })).toEqual([2, 4, 5, 7]);
    expect([scalar('in', { inNullScalar: 'sql' }), scalar('not_in', { inNullScalar: 'sql' })]).toEqual([[1, 8], []]);
    // The link rule is its own: the scalar one does not move link fields.
    const link = (relation: string, rules: Partial<RuleValues> = {}) => matching(and(c('sg_lead', relation, { type: 'HumanUser', id: 1 }, null)), rules);
    expect([link('in', { inNullScalar: 'sql' }), link('not_in', { inNullScalar: 'sql' })]).toEqual([
      [1, 3, 4, 7, 8],
      [2, 5],
    ]);
    expect([link('in', { inNullLink: 'ignored' }), link('not_in', { inNullLink: 'ignored' })]).toEqual([[1], [2, 3, 4, 5, 7, 8]]);
    expect(link('not_in', { inNullLink: 'sql' })).toEqual([]);
    // The values are still checked: a bad one faults under every rule.
    expectFault(() => read('Shot', { filters: and(c('sg_cut_in', 'not_in', 'ten', null)) }, under({ inNullScalar: 'sql' })), /expects a number/);
  });

  it('a missing return field: left out, a null column in request order, or the fault', () => {
    const fields = ['code', 'sg_nope', 'description'];
    expect(Object.keys(read('Shot', { return_fields: fields }, under({})).entities[0])).toEqual(['type', 'id', 'code', 'description']);
    expect(Object.keys(read('Shot', { return_fields: fields }, under({ missingReturnField: 'null' })).entities[0])).toEqual([
      'type',
      'id',
      'code',
      'sg_nope',
      'description',
    ]);
    expect(read('Shot', { return_fields: fields }, under({ missingReturnField: 'null' })).entities[0].sg_nope).toBeNull();
    expectFault(() => read('Shot', { return_fields: fields }, under({ missingReturnField: 'fault' })), /Shot\.sg_nope doesn't exist/);
  });
});

describe('site rules: status and the planner', () => {
  const schema = loadCachedSchema('schema/default.yml');
  const ready = Readiness.all(Object.fromEntries(schema.site.typeNames.map((t) => [t, Object.keys(schema.site.type(t)!.fields)])));
  const reason = (rules: SiteRules, params: Record<string, unknown>) => {
    const r = planRead(schema, ready.withRules(rules), {
      type: 'Shot',
      return_fields: ['code'],
      filters: { logical_operator: 'and', conditions: [] },
      ...params,
    });
    return r.ok ? 'served' : r.reason;
  };
  const unmatched = (name: string) =>
    SiteRules.fromRecords({ [name]: { status: 'unmatched', value: (DEFAULT_RULES as Record<string, string>)[name], probe: 'p', evidence: 'e' } });

  it('a rule the site matched no model for makes the shapes it decides pass through, with the reason', () => {
    const bySort = (field_name: string, direction = 'asc') => ({ sorts: [{ field_name, direction }] });
    expect(reason(unmatched('textOrder'), bySort('code'))).toBe('site-rule:textOrder');
    expect(reason(unmatched('textOrder'), bySort('sg_sequence'))).toBe('site-rule:textOrder');
    expect(reason(unmatched('textOrder'), bySort('sg_cut_in'))).toBe('served');
    expect(reason(unmatched('entityOrder'), bySort('sg_sequence.Sequence.code'))).toBe('served');
    expect(reason(unmatched('entityOrder'), bySort('sg_sequence'))).toBe('site-rule:entityOrder');
    expect(reason(unmatched('nullsDesc'), bySort('sg_cut_in'))).toBe('served');
    expect(reason(unmatched('nullsDesc'), bySort('sg_cut_in', 'desc'))).toBe('site-rule:nullsDesc');
    const emptyOr = { filters: { logical_operator: 'and', conditions: [{ logical_operator: 'or', conditions: [] }] } };
    expect(reason(unmatched('emptyOrNested'), emptyOr)).toBe('site-rule:emptyOrNested');
    expect(reason(unmatched('emptyOrTop'), emptyOr)).toBe('served');
    const negation = { filters: { logical_operator: 'and', conditions: [{ path: 'code', relation: 'is_not', values: ['x'] }] } };
    expect(reason(unmatched('negationNulls'), negation)).toBe('site-rule:negationNulls');
    expect(reason(SiteRules.assumed(), negation)).toBe('served');
  });

  it('reads an operand rule decides pass until it is measured, then are served (through a multi-entity hop: one hop, default operands)', () => {
    const where = (...conditions: unknown[]) => ({ filters: { logical_operator: 'and', conditions } });
    const cond = (path: string, relation: string, ...values: unknown[]) => ({ path, relation, values });
    const all = SiteRules.measured({ multiNegation: 'none', emptyOperand: 'set', inNullScalar: 'unset', inNullLink: 'unset' });
    const deep = where(cond('assets.Asset.code', 'is_not', 'x'));
    expect(reason(SiteRules.assumed(), deep)).toBe('site-rule:multiNegation');
    expect(reason(all, deep)).toBe('served');
    expect(reason(SiteRules.measured({ multiNegation: 'some', negationNulls: 'exclude' }), deep)).toBe('served');
    expect(reason(unmatched('multiNegation'), deep)).toBe('site-rule:multiNegation');
    expect(reason(all, where(cond('sg_sequence.Sequence.shots.Shot.code', 'is_not', 'x')))).toBe('deep-multi-negation');
    // Positive conditions through the hop, and negations on the multi-entity field itself, are not this rule's.
    expect(reason(SiteRules.assumed(), where(cond('assets.Asset.code', 'is', 'x')))).toBe('served');
    expect(reason(SiteRules.assumed(), where(cond('assets', 'not_in', { type: 'Asset', id: 1 })))).toBe('served');
    const empty = where(cond('code', 'not_contains', ''));
    expect(reason(SiteRules.assumed(), empty)).toBe('site-rule:emptyOperand');
    expect(reason(all, empty)).toBe('served');
    expect(reason(SiteRules.assumed(), where(cond('code', 'not_contains', 'a')))).toBe('served');
    expect(reason(SiteRules.measured({ ...all.values, emptyOperand: 'ignored' }), where(cond('assets.Asset.code', 'contains', '')))).toBe(
      'deep-multi-operand:emptyOperand',
    );
    const scalar = where(cond('sg_cut_in', 'not_in', 1, null));
    const link = where(cond('sg_sequence', 'in', { type: 'Sequence', id: 1 }, null));
    expect(reason(SiteRules.assumed(), scalar)).toBe('site-rule:inNullScalar');
    expect(reason(SiteRules.assumed(), link)).toBe('site-rule:inNullLink');
    expect(reason(SiteRules.measured({ inNullScalar: 'sql' }), scalar)).toBe('served');
    expect(reason(SiteRules.measured({ inNullLink: 'ignored' }), link)).toBe('served');
    expect(reason(SiteRules.assumed(), where(cond('sg_cut_in', 'not_in', 1, 2)))).toBe('served');
    expect(reason(SiteRules.measured({ ...all.values, inNullScalar: 'sql' }), where(cond('assets.Asset.code', 'not_in', 'a', null)))).toBe(
      'deep-multi-operand:inNullScalar',
    );
  });

  it('reports every rule, measured or assumed; stored records that are not a rule value are ignored', () => {
    const rules = SiteRules.fromRecords({
      nullsAsc: { status: 'measured', value: 'first', at: '2026-01-01T00:00:00.000Z', probe: 'read …', evidence: 'the NULL row came first' },
      textOrder: { status: 'measured', value: 'alphabetical-ish' },
      bogus: { status: 'measured', value: 'x' },
    });
    expect(rules.values).toEqual({ ...DEFAULT_RULES, nullsAsc: 'first' });
    const report = rules.report();
    expect(Object.keys(report)).toEqual(Object.keys(DEFAULT_RULES));
    expect(report.nullsAsc).toMatchObject({ status: 'measured', probe: 'read …' });
    expect(report.textOrder).toEqual({ status: 'assumed', value: 'case-insensitive' });
    expect(rules.defaultOrder).toBe(false);
    expect(SiteRules.assumed().defaultOrder).toBe(true);
  });
});
