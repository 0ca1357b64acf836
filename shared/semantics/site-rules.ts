// Site rules: the read semantics each hosted site decides for itself (NULL placement, text order, entity sort key, empty `or` groups, negation and NULL, negation through multi-entity paths, empty text operands, None among `in` values, missing return fields), their documented defaults, and how each was established.
import { z } from 'zod';

/**
 * The value of each rule. Defaults are docs/semantics.md's choices: NULLs larger than every value (last ascending,
 * first descending), text lower-cased then compared, entity fields by the linked name, an empty `or` group matching
 * everything, negations including NULL rows, unknown return fields left out.
 */
export const RuleValuesSchema = z
  .object({
    /** Where NULL rows sort under an ascending key. */
    nullsAsc: z.enum(['first', 'last']),
    /** Where NULL rows sort under a descending key. */
    nullsDesc: z.enum(['first', 'last']),
    /** Text-like values: lower-cased then compared (ties by id), or compared by code point as stored. */
    textOrder: z.enum(['case-insensitive', 'code-point']),
    /** Entity fields: by the linked entity's name (then type, id), or by its id (then type). */
    entityOrder: z.enum(['name', 'id']),
    /** What an empty `or` group matches at the top of `filters` (find(..., filter_operator="any") with no filters). */
    emptyOrTop: z.enum(['all', 'none']),
    /** What an empty `or` group nested in another group matches. */
    emptyOrNested: z.enum(['all', 'none']),
    /** Whether a negated condition (is_not X, not_in, not_contains, ...) matches rows whose value is NULL. */
    negationNulls: z.enum(['include', 'exclude']),
    /** A return field the site lacks: left out of each entity dict, returned as null, or a fault. */
    missingReturnField: z.enum(['omit', 'null', 'fault']),
    /**
     * A negated condition through a multi-entity hop (`assets.Asset.code is_not X`): no linked row satisfies the positive
     * form (`none`: NOT EXISTS, an empty list matches), some linked row satisfies the negated form (`some`: an empty list
     * never matches), NOT EXISTS over a non-empty list (`none-nonempty`), or `some` or an empty list (`some-or-empty`).
     */
    multiNegation: z.enum(['none', 'some', 'none-nonempty', 'some-or-empty']),
    /**
     * `contains` / `starts_with` / `ends_with` "" on a text-like field: every set value (`set`, LIKE '%%'; the negation is
     * its complement), no condition at all (`ignored`: positive and negated forms match every row), or nothing (`none`).
     */
    emptyOperand: z.enum(['set', 'ignored', 'none']),
    /**
     * A None among the values of `in` / `not_in` on a scalar field: matches the unset rows (`unset`: `in` adds them,
     * `not_in` removes them), is dropped (`ignored`), or SQL's three-valued IN (`sql`: `in` ignores it, `not_in` matches nothing).
     */
    inNullScalar: z.enum(['unset', 'ignored', 'sql']),
    /** The same for entity and multi-entity fields (unset = a NULL link / an empty list). */
    inNullLink: z.enum(['unset', 'ignored', 'sql']),
  })
  .strict();
export type RuleValues = z.infer<typeof RuleValuesSchema>;
export type RuleName = keyof RuleValues;
export const RULE_NAMES = Object.keys(RuleValuesSchema.shape) as RuleName[];

export const DEFAULT_RULES: Readonly<RuleValues> = Object.freeze({
  nullsAsc: 'last',
  nullsDesc: 'first',
  textOrder: 'case-insensitive',
  entityOrder: 'name',
  emptyOrTop: 'all',
  emptyOrNested: 'all',
  negationNulls: 'include',
  missingReturnField: 'omit',
  multiNegation: 'none',
  emptyOperand: 'set',
  inNullScalar: 'unset',
  inNullLink: 'unset',
});

/**
 * Rules the read path follows only once measured: until a probe decides them (status `measured`), every read they
 * decide passes through with reason `site-rule:<rule>`, instead of assuming the default (issue #27: the hosted
 * site's answer is not documented and plausible sites differ).
 */
export const MEASURE_FIRST: ReadonlySet<RuleName> = new Set<RuleName>(['multiNegation', 'emptyOperand', 'inNullScalar', 'inNullLink']);

/**
 * How a rule's value was established: `measured` (a probe on the site's data decided it), `assumed` (the documented
 * default; never probed, or the data could not decide), `unmatched` (the site behaved like none of the modelled
 * values: the default is kept and every query shape the rule decides passes through).
 */
export const RuleStatusSchema = z.enum(['measured', 'assumed', 'unmatched']);
export type RuleStatus = z.infer<typeof RuleStatusSchema>;

export const RuleRecordSchema = z.object({
  status: RuleStatusSchema,
  value: z.string(),
  /** ISO time of the probe (absent when never probed). */
  at: z.string().optional(),
  /** What was asked of the site, e.g. "Shot.sg_cut_in: read id in [1, 2] sorted asc". */
  probe: z.string().optional(),
  /** What the site answered and why that decides (or cannot decide) the rule. */
  evidence: z.string().optional(),
});
export type RuleRecord = z.infer<typeof RuleRecordSchema>;

/** The rules the read path follows: each rule's value and how it was established. */
export class SiteRules {
  private constructor(private readonly records: ReadonlyMap<RuleName, RuleRecord>) {}

  /** Every rule at its documented default, assumed. */
  static assumed(): SiteRules {
    return new SiteRules(new Map());
  }

  /** From stored records (unknown names and values that are not one of the rule's values are ignored). */
  static fromRecords(raw: unknown): SiteRules {
    const m = new Map<RuleName, RuleRecord>();
    if (typeof raw !== 'object' || raw === null) return new SiteRules(m);
    for (const [name, value] of Object.entries(raw)) {
      if (!(RULE_NAMES as string[]).includes(name)) continue;
      const rec = RuleRecordSchema.safeParse(value);
      if (rec.success && RuleValuesSchema.shape[name as RuleName].safeParse(rec.data.value).success) m.set(name as RuleName, rec.data);
    }
    return new SiteRules(m);
  }

  /** Rules with these values measured (tests and tools). */
  static measured(values: Partial<RuleValues>, at = new Date(0).toISOString()): SiteRules {
    const m = new Map<RuleName, RuleRecord>();
    for (const [k, v] of Object.entries(values)) m.set(k as RuleName, { status: 'measured', value: String(v), at });
    return new SiteRules(m);
  }

  /** The value the read path follows (an unmatched rule keeps its default; its shapes pass through). */
  get values(): RuleValues {
    const out = { ...DEFAULT_RULES } as Record<RuleName, string>;
    for (const [k, r] of this.records) if (r.status === 'measured') out[k] = r.value;
    return out as RuleValues;
  }

  status(name: RuleName): RuleStatus {
    return this.records.get(name)?.status ?? 'assumed';
  }

  unmatched(name: RuleName): boolean {
    return this.status(name) === 'unmatched';
  }

  /** Whether the read path may answer the shapes `name` decides: not unmatched, and measured when the rule is MEASURE_FIRST. */
  followed(name: RuleName): boolean {
    return MEASURE_FIRST.has(name) ? this.status(name) === 'measured' : !this.unmatched(name);
  }

  /** Every rule with its value and how it was established (GET /status, `fpt-cache calibrate`). */
  report(): Record<RuleName, RuleRecord> {
    const values = this.values;
    return Object.fromEntries(RULE_NAMES.map((n) => [n, this.records.get(n) ?? { status: 'assumed', value: values[n] }])) as Record<RuleName, RuleRecord>;
  }

  /** Whether every ordering rule is at its default (the shapes whose order the default semantics decide). */
  get defaultOrder(): boolean {
    const v = this.values;
    return (
      v.nullsAsc === DEFAULT_RULES.nullsAsc &&
      v.nullsDesc === DEFAULT_RULES.nullsDesc &&
      v.textOrder === DEFAULT_RULES.textOrder &&
      v.entityOrder === DEFAULT_RULES.entityOrder &&
      !this.unmatched('nullsAsc') &&
      !this.unmatched('nullsDesc') &&
      !this.unmatched('textOrder') &&
      !this.unmatched('entityOrder')
    );
  }
}
