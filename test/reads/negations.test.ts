import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calibrate } from '../../shared/sync/index.js';
import { loadCachedSchema } from '../../shared/schema/index.js';
import { ReadinessStore } from '../../shared/store/index.js';
import { DEFAULT_RULES, RULE_NAMES, type RuleName } from '../../shared/semantics/index.js';
import type { SimSemanticsInput } from '../../local/sim/site-semantics.js';
import { dynamo, prng } from '../store/helpers.js';
import { SCRIPT_AUTH, startHarness, type Harness } from '../api/harness.js';
import { readGenerator, type Samples } from './generator.js';
import { importReadyCache } from './importer.js';
import { sameAnswer } from '../support/same-answer.js';

// Generated reads of the shapes the operand rules decide (negations through multi-entity paths, an empty text operand,
// a None among in / not_in values: test/reads/generator.ts `negationShapes`), through the real API handler over HTTP
// and straight to the simulated site set each way (local/sim/site-semantics.ts, written apart from the engine). Until
// calibration measures a rule, the reads it decides pass with `site-rule:<rule>`; a cache that assumed the documented
// defaults would answer some wrongly; once calibrated they are identical to the site's and served.
const QUERIES = 60;
const SEED = 2027;
/**
 * Pass reasons of shapes no probe measures: fields or operators the cache never answers, negations through two hops,
 * and an operand rule away from its default through a multi-entity hop.
 */
const RULE_FREE = /^(uncached-field|operator|invalid-request|deep-multi-negation|deep-multi-operand)/;
const OPERAND_RULES: RuleName[] = ['multiNegation', 'emptyOperand', 'inNullScalar', 'inNullLink'];
const schema = loadCachedSchema('schema/default.yml');
const site$ = schema.site;
const ddb = dynamo();
let h: Harness;
let readiness: ReadinessStore;
const samples: Samples = new Map();

beforeAll(async () => {
  h = await startHarness('negations', { sim: { entities: 300, seed: 17 }, api: { readinessCacheMs: 0 }, empty: true });
  readiness = new ReadinessStore(ddb, h.tables, schema);
  await importReadyCache(h.site, ddb, h.tables, schema);
  for (const type of site$.typeNames) {
    const r = await h.site.call<{ entities: Array<Record<string, unknown>> }>('read', {
      type, return_fields: Object.keys(site$.type(type)!.fields), filters: { logical_operator: 'and', conditions: [] }, return_only: 'active',
      paging: { entities_per_page: 60, current_page: 1 },
    });
    samples.set(type, r.entities);
  }
}, 240_000);
afterAll(async () => {
  await h?.close();
  ddb.destroy();
});

interface Run { served: number; valid: number; mismatches: string[]; reasons: Record<string, number>; hits: Set<number> }

/** The generated reads through the API and straight to the site. */
async function differential(): Promise<Run> {
  const generate = readGenerator(site$, samples, { negationShapes: true });
  const rng = prng(SEED);
  let siteFaults = 0;
  const hits = new Set<number>();
  const mismatches: string[] = [];
  const reasons: Record<string, number> = {};
  for (let i = 0; i < QUERIES; i++) {
    const payload = { method_name: 'read', params: [SCRIPT_AUTH, generate(rng)] };
    const [viaApi, fromSite] = await Promise.all([h.rpc(payload), h.direct(payload)]);
    if ((fromSite.json() as { exception?: boolean }).exception === true) siteFaults++;
    const tag = viaApi.headers['x-fpt-cache'];
    if (tag === 'hit') hits.add(i);
    else {
      expect(tag, `#${i}`).toBe('pass');
      const reason = String(viaApi.headers['x-fpt-cache-reason'] ?? '');
      expect(reason).toMatch(/^[a-z-]+(:.+)?$/);
      const key = reason.split(':').slice(0, 2).join(':');
      reasons[key] = (reasons[key] ?? 0) + 1;
    }
    if (!sameAnswer(viaApi.body, fromSite.body)) mismatches.push(`#${i} ${tag}: ${JSON.stringify(payload.params[1])}`);
  }
  return { served: hits.size, valid: QUERIES - siteFaults, mismatches, reasons, hits };
}

/** Every rule as a fresh install starts: the documented defaults, assumed (the operand rules then decide nothing). */
function forgetRules(): Promise<void> {
  return readiness.saveSiteRules(Object.fromEntries(RULE_NAMES.map((r) => [r, { status: 'assumed' as const, value: DEFAULT_RULES[r] }])));
}

/** A cache that took the documented defaults for measured (what answering without measuring would be). */
function assumeDefaults(): Promise<void> {
  return readiness.saveSiteRules(Object.fromEntries(RULE_NAMES.map((r) => [r, { status: 'measured' as const, value: DEFAULT_RULES[r] }])));
}

const siteRuleReasons = (run: Run) => Object.keys(run.reasons).filter((r) => !RULE_FREE.test(r));

/** Every value of every operand knob at least once, with negations both including and excluding NULL rows. */
const SETTINGS: Array<{ name: string; semantics: SimSemanticsInput }> = [
  { name: 'the documented defaults', semantics: {} },
  { name: 'some linked row not matching; "" ignored; SQL NOT IN (scalar), None dropped (links)', semantics: { multiNegation: 'some', emptyOperand: 'ignored', inNullScalar: 'sql', inNullLink: 'ignored' } },
  { name: 'NOT EXISTS over non-empty lists; "" matches nothing; None dropped (scalar), SQL (links); NULLs excluded', semantics: { multiNegation: 'none-nonempty', emptyOperand: 'none', inNullScalar: 'ignored', inNullLink: 'sql', negationNulls: 'exclude' } },
  { name: 'some linked row not matching or none linked; SQL IN both; NULLs excluded', semantics: { multiNegation: 'some-or-empty', inNullScalar: 'sql', inNullLink: 'sql', negationNulls: 'exclude' } },
  { name: 'some linked row not matching, NULL leaves excluded; "" matches nothing; None dropped both', semantics: { multiNegation: 'some', emptyOperand: 'none', inNullScalar: 'ignored', inNullLink: 'ignored', negationNulls: 'exclude' } },
];

/** The reads an operand rule decides (those that pass while the rules are unmeasured), by index. */
let decided = new Set<number>();

describe('deep negations and operand rules: generated reads identical to the site under every setting, served once calibrated', () => {
  it('unmeasured: every read an operand rule decides passes with the rule as its reason, and every answer is the site\'s', async () => {
    h.sim.control.reset();
    await forgetRules();
    const run = await differential();
    console.log(`operand rules unmeasured: served ${run.served} of ${run.valid} valid, passes ${JSON.stringify(run.reasons)}`);
    expect(run.mismatches).toEqual([]);
    for (const rule of OPERAND_RULES) expect(run.reasons[`site-rule:${rule}`], rule).toBeGreaterThan(0);
    expect(siteRuleReasons(run).every((r) => OPERAND_RULES.some((o) => r === `site-rule:${o}`))).toBe(true);
    decided = new Set([...Array(QUERIES).keys()].filter((i) => !run.hits.has(i)));
  }, 120_000);

  for (const s of SETTINGS) {
    it(s.name, async () => {
      h.sim.control.reset();
      h.sim.control.setSemantics(s.semantics);
      if (Object.keys(s.semantics).length) {
        // The reads exercise the setting: a cache answering by the defaults without measuring gets some wrong.
        await assumeDefaults();
        const blind = await differential();
        console.log(`${s.name}, defaults assumed: ${blind.mismatches.length} of ${QUERIES} differ`);
        expect(blind.mismatches.length).toBeGreaterThan(0);
      }
      const { records } = await calibrate(h.site, schema, readiness);
      for (const rule of [...OPERAND_RULES, 'negationNulls' as const]) {
        const want = (s.semantics as Record<string, string>)[rule] ?? DEFAULT_RULES[rule];
        expect(records[rule], rule).toMatchObject({ status: 'measured', value: want });
      }
      const run = await differential();
      const servedDecided = [...decided].filter((i) => run.hits.has(i)).length;
      console.log(`${s.name}: served ${run.served} of ${run.valid} valid (${servedDecided} of the ${decided.size} reads the operand rules decide), passes ${JSON.stringify(run.reasons)}`);
      expect(run.mismatches).toEqual([]);
      expect(siteRuleReasons(run)).toEqual([]);
      expect(servedDecided).toBeGreaterThan(decided.size / 2);
    }, 120_000);
  }
});
