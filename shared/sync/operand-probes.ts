// Calibration probes of the operand rules: negations through a multi-entity hop, an empty text operand, a None among `in` / `not_in` values (scalar and link fields).
//
// Each probe asks the site about rows whose answer the candidate rules disagree on, on the site's own data, and
// records which rule the answers fit: one (measured), several (assumed: the data cannot decide), none (unmatched).
import { DEFAULT_RULES, type RuleName, type RuleRecord, type RuleValues } from '../semantics/index.js';
import { ShotgunFault } from '../site/index.js';
import type { Calibration, Cond, Group, NullPair, RecordMaker, Row } from './calibration.js';

type Link = { type: string; id: number };
type Guard = (names: RuleName[], probe: () => Promise<void>) => Promise<void>;

/** Rows sampled per multi-entity field when looking for rows the negation rules tell apart. */
const SAMPLE = 500;
/** Multi-entity fields tried before the multi-negation probe gives up. */
const MAX_FIELDS = 12;

const and = (...conditions: Array<Cond | Group>): Group => ({ logical_operator: 'and', conditions });
const isLink = (v: unknown): v is Link => typeof v === 'object' && v !== null && typeof (v as Link).type === 'string' && typeof (v as Link).id === 'number';

/** Runs the operand probes into `records` (after the negation-and-NULL probe, whose rule they read). */
export async function probeOperandRules(cal: Calibration, rec: RecordMaker, records: Record<RuleName, RuleRecord>, guard: Guard): Promise<void> {
  const negationNulls: RuleValues['negationNulls'] =
    records.negationNulls?.status === 'measured' ? (records.negationNulls.value as RuleValues['negationNulls']) : DEFAULT_RULES.negationNulls;
  await guard(['multiNegation'], async () => {
    records.multiNegation = await multiNegation(cal, rec);
  });
  await guard(['emptyOperand'], async () => {
    records.emptyOperand = await emptyOperand(cal, rec, negationNulls);
  });
  await guard(['inNullScalar'], async () => {
    records.inNullScalar = await inNull(cal, rec, negationNulls, 'inNullScalar', [cal.nullPairs()]);
  });
  await guard(['inNullLink'], async () => {
    records.inNullLink = await inNull(cal, rec, negationNulls, 'inNullLink', [cal.nullPairs(new Set(['entity'])), cal.nullPairs(new Set(['multi_entity']))]);
  });
}

/**
 * multiNegation: on `m.T.id` (and `m.T.<identifier>` when it is text) for a multi-entity field `m`, which of four rows
 * a negated condition matches: E (no linked T), A (every linked T matches the positive form: exactly T#t1), S (some
 * do: T#t1 and others), N (none do). A never and N always match under every modelled rule; E and S decide it.
 */
async function multiNegation(cal: Calibration, rec: RecordMaker): Promise<RuleRecord> {
  const site = cal.schema.site;
  let tried = 0;
  const looked: string[] = [];
  for (const { type, field } of cal.fields(new Set(['multi_entity']))) {
    for (const target of site.field(type, field)?.valid_types ?? []) {
      if (!site.hasType(target) || tried++ >= MAX_FIELDS) continue;
      looked.push(`${type}.${field}.${target}`);
      const rows = await cal.read(type, and({ path: field, relation: 'is_not', values: [null] }), [field], { perPage: SAMPLE });
      const linked = rows.map((r) => ({
        id: r.id,
        ts: (Array.isArray(r[field]) ? (r[field] as unknown[]) : [])
          .filter(isLink)
          .filter((l) => l.type === target)
          .map((l) => l.id),
      }));
      const a = linked.find((x) => x.ts.length === 1 && linked.some((y) => y.ts.length > 1 && y.ts.includes(x.ts[0])));
      if (!a) continue;
      const t1 = a.ts[0];
      const s = linked.find((y) => y.ts.length > 1 && y.ts.includes(t1))!;
      const n = linked.find((y) => y.ts.length > 0 && !y.ts.includes(t1));
      const [e] = await cal.read(type, and({ path: field, relation: 'is', values: [null] }), ['id']);
      if (!e) continue;
      const rowsOf = { E: e.id, A: a.id, S: s.id, ...(n ? { N: n.id } : {}) };
      const conds: Array<{ cond: Cond; n: boolean }> = [
        { cond: { path: `${field}.${target}.id`, relation: 'is_not', values: [t1] }, n: true },
        { cond: { path: `${field}.${target}.id`, relation: 'not_in', values: [t1] }, n: true },
        { cond: { path: `${field}.${target}.id`, relation: 'not_between', values: [t1, t1] }, n: true },
      ];
      const idf = site.identifier(target);
      if (idf && site.dataType(target, idf) === 'text') {
        const names = new Map(
          (await cal.read(target, and({ path: 'id', relation: 'in', values: s.ts }), [idf], { perPage: s.ts.length })).map((r) => [r.id, r[idf]]),
        );
        const name = names.get(t1);
        const other = (test: (o: string) => boolean) =>
          s.ts.some((t) => t !== t1 && typeof names.get(t) === 'string' && test((names.get(t) as string).toLowerCase()));
        if (typeof name === 'string' && name !== '') {
          const low = name.toLowerCase();
          const path = `${field}.${target}.${idf}`;
          if (other((o) => o !== low))
            conds.push({ cond: { path, relation: 'is_not', values: [name] }, n: false }, { cond: { path, relation: 'not_in', values: [name] }, n: false });
          if (other((o) => !o.includes(low))) conds.push({ cond: { path, relation: 'not_contains', values: [name] }, n: false });
        }
      }
      const seen: string[] = [];
      const verdicts = new Set<string>();
      for (const { cond, n: withN } of conds) {
        const ids = Object.entries(rowsOf).filter(([k]) => withN || k !== 'N');
        let rows: Row[];
        try {
          rows = await cal.read(type, and({ path: 'id', relation: 'in', values: ids.map(([, id]) => id) }, cond), ['id'], { perPage: 4 });
        } catch (e) {
          // An operator the site refuses on this path says nothing about the others.
          if (!(e instanceof ShotgunFault)) throw e;
          seen.push(`${cond.path} ${cond.relation}: fault ${e.message}`);
          continue;
        }
        const hit = new Set(rows.map((r) => r.id));
        const m = (k: string) => hit.has(rowsOf[k as keyof typeof rowsOf] as number);
        const odd = m('A') || (withN && n !== undefined && !m('N'));
        const verdict = odd ? 'none of the rules' : m('E') ? (m('S') ? 'some-or-empty' : 'none') : m('S') ? 'some' : 'none-nonempty';
        verdicts.add(verdict);
        seen.push(`${cond.path} ${cond.relation} ${JSON.stringify(cond.values)}: ${ids.map(([k]) => `${k} ${m(k) ? 'yes' : 'no'}`).join(', ')} (${verdict})`);
      }
      const probe = `read ${type} id in [E ${e.id} (no ${target}), A ${a.id} (only ${target} ${t1}), S ${s.id} (${target} ${t1} and others)${n ? `, N ${n.id} (others only)` : ''}] with each negated condition`;
      const evidence = seen.join('; ');
      const [only] = verdicts;
      if (verdicts.size === 0) return rec(DEFAULT_RULES.multiNegation, 'assumed', probe, `${evidence}: every probe faulted: cannot decide`);
      if (verdicts.size === 1 && only !== 'none of the rules') return rec(only, 'measured', probe, evidence);
      return rec(DEFAULT_RULES.multiNegation, 'unmatched', probe, `${evidence}: ${verdicts.size > 1 ? 'the operators disagree' : 'no modelled rule'}`);
    }
  }
  return rec(
    DEFAULT_RULES.multiNegation,
    'assumed',
    `multi-entity fields ${looked.join(', ') || '(none cached)'}`,
    'no field has an empty row, a row linking one entity and a row linking it and others: cannot decide',
  );
}

/** emptyOperand: record counts of `contains`, `starts_with`, `ends_with`, `not_contains` "" on a text field with NULL and set rows. */
async function emptyOperand(cal: Calibration, rec: RecordMaker, nulls: RuleValues['negationNulls']): Promise<RuleRecord> {
  const pair = await cal.findNullPair(new Set(['text']));
  if (!pair)
    return rec(
      DEFAULT_RULES.emptyOperand,
      'assumed',
      'contains "" on a text field with NULL rows',
      'no cached text field has both NULL and set values: cannot decide',
    );
  const { type, field } = pair;
  const c = (relation: string) => cal.count(type, and({ path: field, relation, values: [''] }));
  const total = await cal.count(type, and());
  const isNull = await cal.count(type, and({ path: field, relation: 'is', values: [null] }));
  const [contains, starts, ends, notContains] = [await c('contains'), await c('starts_with'), await c('ends_with'), await c('not_contains')];
  const probe = `summarize ${type} record_count: all, ${field} is None, contains "", starts_with "", ends_with "", not_contains ""`;
  const evidence = `${total} rows, ${isNull} NULL; contains ${contains}, starts_with ${starts}, ends_with ${ends}, not_contains ${notContains}`;
  const excl = nulls === 'exclude';
  const fits: Array<[RuleValues['emptyOperand'], number, number]> = [
    ['set', total - isNull, excl ? 0 : isNull],
    ['ignored', total, total],
    ['none', 0, excl ? total - isNull : total],
  ];
  const alive = fits.filter(([, pos, neg]) => contains === pos && starts === pos && ends === pos && notContains === neg).map(([v]) => v);
  if (alive.length === 1) return rec(alive[0], 'measured', probe, `${evidence}: ${alive[0]}`);
  if (alive.length === 0) return rec(DEFAULT_RULES.emptyOperand, 'unmatched', probe, `${evidence}: no modelled rule`);
  return rec(DEFAULT_RULES.emptyOperand, 'assumed', probe, `${evidence}: fits ${alive.join(', ')}: cannot decide`);
}

/**
 * inNullScalar / inNullLink: record counts of `in [X, None]` and `not_in [X, None]` on a field with NULL and set rows,
 * one of each kind (`kinds`: scalar; entity and multi-entity), each the first whose counts tell the modelled rules
 * apart (a field whose rows are all X or NULL cannot); every kind must agree.
 */
async function inNull(
  cal: Calibration,
  rec: RecordMaker,
  nulls: RuleValues['negationNulls'],
  name: 'inNullScalar' | 'inNullLink',
  kinds: Array<AsyncGenerator<NullPair>>,
): Promise<RuleRecord> {
  const probes: string[] = [];
  const found: string[] = [];
  let alive = new Set<RuleValues['inNullScalar']>(['unset', 'ignored', 'sql']);
  for (const pairs of kinds) {
    let tried = 0;
    for await (const { type, field, value } of pairs) {
      if (tried++ >= MAX_FIELDS) break;
      const count = (relation: string, values: unknown[]) => cal.count(type, and({ path: field, relation, values }));
      const total = await cal.count(type, and());
      const x = await count('is', [value]);
      const n = await count('is', [null]);
      // Rows neither X nor NULL are what `not_in` tells the rules apart by.
      if (total - x - n <= 0) continue;
      const inN = await count('in', [value, null]);
      const notIn = await count('not_in', [value, null]);
      probes.push(`summarize ${type} record_count: all, ${field} is X, is None, in [X, None], not_in [X, None] (X = ${JSON.stringify(value)})`);
      found.push(`${type}.${field}: ${total} rows, ${x} X, ${n} NULL; in ${inN}, not_in ${notIn}`);
      const fits: Record<RuleValues['inNullScalar'], [number, number]> = {
        unset: [x + n, total - x - n],
        ignored: [x, nulls === 'exclude' ? total - x - n : total - x],
        sql: [x, 0],
      };
      alive = new Set([...alive].filter((v) => fits[v][0] === inN && fits[v][1] === notIn));
      break;
    }
  }
  const probe = probes.join('; ') || `in [X, None] on a ${name === 'inNullLink' ? 'link' : 'scalar'} field with NULL rows, X rows and others`;
  const evidence = found.join('; ');
  if (!found.length) return rec(DEFAULT_RULES[name], 'assumed', probe, 'no cached field has NULL rows, rows of one value and others: cannot decide');
  if (alive.size === 1) {
    const [v] = alive;
    return rec(v, 'measured', probe, `${evidence}: ${v}`);
  }
  if (alive.size === 0) return rec(DEFAULT_RULES[name], 'unmatched', probe, `${evidence}: no modelled rule fits every field`);
  return rec(DEFAULT_RULES[name], 'assumed', probe, `${evidence}: fits ${[...alive].join(', ')}: cannot decide`);
}
