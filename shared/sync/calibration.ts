// Calibration: read-only probes, as the cache's script, that establish each site rule (shared/site-rules.ts) on the site's own data, and record what they found.
//
// Each probe chooses its own evidence from the cached types (any production with a little data has it) and says so
// when the data cannot decide: the rule then stays at its documented default, `assumed`. A site that behaves like
// none of the modelled values makes the rule `unmatched`, and the planner passes the shapes it decides through.
import type { CachedSchema } from '../schema/index.js';
import { cmpCodePoint, DEFAULT_RULES, SiteRules, type RuleName, type RuleRecord, type RuleValues } from '../semantics/index.js';
import { ShotgunFault } from '../site/index.js';
import type { ReadinessStore } from '../store/index.js';
import type { SyncContext } from './sync-context.js';
import { recordSiteFieldNames } from './schema-digest.js';
import { probeOperandRules } from './operand-probes.js';

/** The one call the probes make (ShotgunClient.call). */
export interface ProbeClient {
  call<T = unknown>(method: string, params?: unknown): Promise<T>;
}

export type Row = Record<string, unknown> & { id: number };
export type Cond = { path: string; relation: string; values: unknown[] };
export type Group = { logical_operator: 'and' | 'or'; conditions: Array<Cond | Group> };
/** A field with a NULL row and a set row, and the set row's value. */
export type NullPair = { type: string; field: string; value: unknown; nullId: number; setId: number };
/** A rule record made at this run's time. */
export type RecordMaker = (value: string, status: RuleRecord['status'], probe?: string, evidence?: string) => RuleRecord;

/** A return field no site has (the missing-field probe). */
export const MISSING_FIELD_PROBE = 'fpt_cache_calibration_no_such_field';
/** Rows per ordering probe. */
const SAMPLE = 500;
/** Fields tried per probe before it gives up (each costs one or two reads). */
const MAX_FIELDS = 12;
const SCALAR = new Set(['text', 'number', 'float', 'date', 'date_time', 'duration', 'percent', 'list', 'status_list']);
const TEXTLIKE = new Set(['text', 'list', 'status_list', 'entity_type', 'color', 'uuid']);

const and = (...conditions: Array<Cond | Group>): Group => ({ logical_operator: 'and', conditions });

export interface CalibrationOutcome {
  rules: SiteRules;
  records: Record<RuleName, RuleRecord>;
}

export class Calibration {
  constructor(
    private readonly client: ProbeClient,
    readonly schema: CachedSchema,
    private readonly now: () => Date = () => new Date(),
  ) {}

  read(
    type: string,
    filters: Group,
    fields: string[],
    opts: { sorts?: Array<{ field_name: string; direction: string }>; perPage?: number } = {},
  ): Promise<Row[]> {
    return this.client
      .call<{ entities?: Row[] }>('read', {
        type,
        filters,
        return_fields: fields,
        return_only: 'active',
        paging: { entities_per_page: opts.perPage ?? 1, current_page: 1 },
        ...(opts.sorts ? { sorts: opts.sorts } : {}),
      })
      .then((r) => r?.entities ?? []);
  }

  async count(type: string, filters: Group): Promise<number> {
    const r = await this.client.call<{ summaries?: Record<string, unknown> }>('summarize', {
      type,
      filters,
      summaries: [{ field: 'id', type: 'record_count' }],
    });
    const n = r?.summaries?.id;
    if (typeof n !== 'number') throw new Error(`summarize ${type} record_count gave ${JSON.stringify(n)}`);
    return n;
  }

  /**
   * (type, field) pairs of these data types, identifier fields first; with `perType`, at most that many per type, taken
   * round-robin over the cached types (so every type's data is seen before any type's later fields).
   */
  fields(types: ReadonlySet<string>, perType = Infinity): Array<{ type: string; field: string; dt: string }> {
    const byType: Array<Array<{ type: string; field: string; dt: string }>> = [];
    for (const type of this.schema.site.typeNames) {
      const out: Array<{ type: string; field: string; dt: string }> = [];
      byType.push(out);
      if (type === 'EventLogEntry') continue;
      const idf = this.schema.site.identifier(type);
      const names = Object.keys(this.schema.site.type(type)?.fields ?? {}).filter((f) => f !== 'id');
      names.sort((a, b) => Number(b === idf) - Number(a === idf));
      for (const field of names) {
        const dt = this.schema.site.dataType(type, field);
        if (dt && types.has(dt) && out.length < perType) out.push({ type, field, dt });
      }
    }
    const out: Array<{ type: string; field: string; dt: string }> = [];
    for (let i = 0; byType.some((t) => i < t.length); i++) for (const t of byType) if (i < t.length) out.push(t[i]);
    return out;
  }

  /** Runs every probe; returns the rules found, each with when and how. */
  async run(): Promise<CalibrationOutcome> {
    const at = this.now().toISOString();
    const rec: RecordMaker = (value, status, probe, evidence) => ({ status, value, at, ...(probe ? { probe } : {}), ...(evidence ? { evidence } : {}) });
    const records = {} as Record<RuleName, RuleRecord>;
    const guard = async (names: RuleName[], probe: () => Promise<void>) => {
      try {
        await probe();
      } catch (e) {
        for (const n of names) records[n] ??= rec(DEFAULT_RULES[n], 'assumed', undefined, `probe failed: ${(e as Error).message}`);
      }
    };
    let nullPair: NullPair | undefined;
    await guard(['nullsAsc', 'nullsDesc'], async () => {
      nullPair = await this.findNullPair();
      if (!nullPair) {
        for (const n of ['nullsAsc', 'nullsDesc'] as const)
          records[n] = rec(
            DEFAULT_RULES[n],
            'assumed',
            'a field with both NULL and set values',
            'no cached field has both NULL and set values: the data cannot decide',
          );
        return;
      }
      const { type, field, nullId, setId } = nullPair;
      for (const [name, direction] of [
        ['nullsAsc', 'asc'],
        ['nullsDesc', 'desc'],
      ] as const) {
        const rows = await this.read(type, and({ path: 'id', relation: 'in', values: [nullId, setId] }), [field], {
          sorts: [{ field_name: field, direction }],
          perPage: 2,
        });
        const probe = `read ${type} id in [${nullId} (${field} NULL), ${setId}] sorted by ${field} ${direction}`;
        if (rows.length !== 2) {
          records[name] = rec(DEFAULT_RULES[name], 'assumed', probe, `got ${rows.length} rows, not 2: cannot decide`);
          continue;
        }
        const first = rows[0].id === nullId ? 'first' : 'last';
        records[name] = rec(first, 'measured', probe, `the NULL row came ${first}`);
      }
    });
    await guard(['negationNulls'], async () => {
      if (!nullPair) {
        records.negationNulls = rec(
          DEFAULT_RULES.negationNulls,
          'assumed',
          'is_not X on a field with NULL rows',
          'no cached field has both NULL and set values: the data cannot decide',
        );
        return;
      }
      const { type, field, value } = nullPair;
      const [total, is, isNull, isNot] = await Promise.all([
        this.count(type, and()),
        this.count(type, and({ path: field, relation: 'is', values: [value] })),
        this.count(type, and({ path: field, relation: 'is', values: [null] })),
        this.count(type, and({ path: field, relation: 'is_not', values: [value] })),
      ]);
      const probe = `summarize ${type} record_count: all, ${field} is X, is None, is_not X (X = ${JSON.stringify(value)})`;
      const evidence = `${total} rows, ${is} are X, ${isNull} NULL, ${isNot} is_not X`;
      if (isNot === total - is) records.negationNulls = rec('include', 'measured', probe, `${evidence}: is_not X includes the NULL rows`);
      else if (isNot === total - is - isNull) records.negationNulls = rec('exclude', 'measured', probe, `${evidence}: is_not X leaves the NULL rows out`);
      else records.negationNulls = rec(DEFAULT_RULES.negationNulls, 'unmatched', probe, `${evidence}: neither complement`);
    });
    await guard(['textOrder'], async () => {
      records.textOrder = await this.textOrder(rec);
    });
    await guard(['entityOrder'], async () => {
      records.entityOrder = await this.entityOrder(rec, records.textOrder);
    });
    await guard(['emptyOrTop', 'emptyOrNested'], async () => {
      const type = await this.typeWithRows();
      for (const [name, filters, shape] of [
        ['emptyOrTop', { logical_operator: 'or', conditions: [] } as Group, '{or, []}'],
        ['emptyOrNested', and({ logical_operator: 'or', conditions: [] }), '{and, [{or, []}]}'],
      ] as const) {
        const probe = `read ${type ?? '(a type with rows)'} filters ${shape}, 1 row`;
        if (!type) {
          records[name] = rec(DEFAULT_RULES[name], 'assumed', probe, 'no cached type has rows: cannot decide');
          continue;
        }
        const rows = await this.read(type, filters, ['id']);
        records[name] = rec(
          rows.length ? 'all' : 'none',
          'measured',
          probe,
          rows.length ? 'a row came back: matches everything' : 'no row came back: matches nothing',
        );
      }
    });
    await guard(['missingReturnField'], async () => {
      const type = await this.typeWithRows();
      // A plain missing field and one at the end of a deep path: the cache answers both by this one rule, so both are measured.
      const deep = type ? this.deepMissingPath(type) : undefined;
      const fields = [MISSING_FIELD_PROBE, ...(deep ? [deep] : [])];
      const probe = `read ${type ?? '(a type with rows)'} return_fields [id, ${fields.join(', ')}], 1 row`;
      if (!type) {
        records.missingReturnField = rec(DEFAULT_RULES.missingReturnField, 'assumed', probe, 'no cached type has rows: cannot decide');
        return;
      }
      try {
        const [row] = await this.read(type, and(), ['id', ...fields]);
        if (row === undefined) {
          records.missingReturnField = rec(DEFAULT_RULES.missingReturnField, 'assumed', probe, 'no row came back: cannot decide');
          return;
        }
        const seen = fields.map((f) => (!Object.hasOwn(row, f) ? 'omit' : row[f] === null ? 'null' : `the key came back as ${JSON.stringify(row[f])}`));
        const same = seen.every((x) => x === seen[0]);
        if (same && seen[0] === 'omit') records.missingReturnField = rec('omit', 'measured', probe, 'the row has no such keys');
        else if (same && seen[0] === 'null') records.missingReturnField = rec('null', 'measured', probe, 'the row has the keys, null');
        else records.missingReturnField = rec(DEFAULT_RULES.missingReturnField, 'unmatched', probe, fields.map((f, i) => `${f}: ${seen[i]}`).join('; '));
      } catch (e) {
        if (!(e instanceof ShotgunFault)) throw e;
        records.missingReturnField = rec('fault', 'measured', probe, `fault ${e.errorCode}: ${e.message}`);
      }
    });
    await probeOperandRules(this, rec, records, guard);
    return { rules: SiteRules.fromRecords(records), records };
  }

  /** `<link>.<Target>.<MISSING_FIELD_PROBE>` through the type's first cached entity field whose target is cached. */
  private deepMissingPath(type: string): string | undefined {
    for (const [field, def] of Object.entries(this.schema.site.type(type)?.fields ?? {})) {
      const target = def.data_type === 'entity' ? def.valid_types?.find((t) => this.schema.site.hasType(t)) : undefined;
      if (target) return `${field}.${target}.${MISSING_FIELD_PROBE}`;
    }
    return undefined;
  }

  private typeWithRowsMemo?: Promise<string | undefined>;
  private typeWithRows(): Promise<string | undefined> {
    this.typeWithRowsMemo ??= (async () => {
      for (const type of this.schema.site.typeNames) if ((await this.read(type, and(), ['id'])).length) return type;
      return undefined;
    })();
    return this.typeWithRowsMemo;
  }

  /**
   * A field of these data types (default: scalars) with a NULL row and a set row (both active), and the set row's
   * value (a multi-entity field's first link: `is` X is "contains X" there).
   */
  async findNullPair(types: ReadonlySet<string> = SCALAR): Promise<NullPair | undefined> {
    for await (const pair of this.nullPairs(types)) return pair;
    return undefined;
  }

  /** Every such field in turn (at most MAX_FIELDS * 5 tried), for probes that need one the data decides on. */
  async *nullPairs(types: ReadonlySet<string> = SCALAR): AsyncGenerator<NullPair> {
    let tried = 0;
    // Identifier fields are seldom NULL: the others first.
    const fields = this.fields(types).filter((f) => f.field !== this.schema.site.identifier(f.type));
    for (const { type, field, dt } of fields) {
      if (tried++ >= MAX_FIELDS * 5) break;
      const [nul] = await this.read(type, and({ path: field, relation: 'is', values: [null] }), ['id']);
      if (!nul) continue;
      const [set] = await this.read(type, and({ path: field, relation: 'is_not', values: [null] }), [field]);
      let value = set?.[field];
      if (dt === 'multi_entity') value = Array.isArray(value) ? value[0] : undefined;
      if (value !== null && typeof value === 'object' && !Array.isArray(value))
        value = { type: (value as { type: unknown }).type, id: (value as { id: unknown }).id };
      if (!set || value === null || value === undefined) continue;
      yield { type, field, value, nullId: nul.id, setId: set.id };
    }
  }

  /**
   * Text order: text fields sorted ascending by the site; each modelled order is kept if the site's sequence is
   * consistent with it (ties broken by id). One left: measured; both: the data cannot decide; none: unmatched.
   */
  private async textOrder(rec: (v: string, s: RuleRecord['status'], p?: string, e?: string) => RuleRecord): Promise<RuleRecord> {
    const candidates: Record<RuleValues['textOrder'], (a: string, b: string) => number> = {
      'case-insensitive': (a, b) => {
        const x = a.toLowerCase();
        const y = b.toLowerCase();
        return x < y ? -1 : x > y ? 1 : 0;
      },
      'code-point': cmpCodePoint,
    };
    const alive = new Set(Object.keys(candidates) as Array<RuleValues['textOrder']>);
    const probed: string[] = [];
    // Every text-like field, until one order is left: a field nobody probed could be the one that tells them apart.
    for (const { type, field } of this.fields(TEXTLIKE)) {
      const rows = await this.read(type, and({ path: field, relation: 'is_not', values: [null] }), [field], {
        sorts: [{ field_name: field, direction: 'asc' }],
        perPage: SAMPLE,
      });
      const seq = rows.filter((r) => typeof r[field] === 'string').map((r) => ({ v: r[field] as string, id: r.id }));
      if (seq.length < 2) continue;
      probed.push(`${type}.${field} (${seq.length} rows)`);
      for (const c of [...alive]) if (!consistent(seq, candidates[c])) alive.delete(c);
      if (alive.size <= 1) break;
    }
    const probe = `read text fields sorted asc: ${probed.join(', ') || 'none with two values'}`;
    if (alive.size === 1) {
      const [v] = alive;
      return rec(v, 'measured', probe, `only ${v} order is consistent with the site's`);
    }
    if (alive.size === 0) return rec(DEFAULT_RULES.textOrder, 'unmatched', probe, "the site's order matches neither case-insensitive nor code-point order");
    return rec(DEFAULT_RULES.textOrder, 'assumed', probe, 'the data is consistent with both orders: cannot decide');
  }

  /** Entity sort key: entity fields sorted ascending; by the linked name (under the text order) or by the linked id. */
  private async entityOrder(
    rec: (v: string, s: RuleRecord['status'], p?: string, e?: string) => RuleRecord,
    text: RuleRecord | undefined,
  ): Promise<RuleRecord> {
    const textCmp =
      text?.status === 'measured' && text.value === 'code-point'
        ? cmpCodePoint
        : (a: string, b: string) => {
            const x = a.toLowerCase();
            const y = b.toLowerCase();
            return x < y ? -1 : x > y ? 1 : 0;
          };
    type L = { type: string; id: number; name: string };
    const candidates: Record<RuleValues['entityOrder'], (a: L, b: L) => number> = {
      name: (a, b) => textCmp(a.name, b.name) || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0) || a.id - b.id,
      id: (a, b) => a.id - b.id || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0),
    };
    const alive = new Set(Object.keys(candidates) as Array<RuleValues['entityOrder']>);
    const probed: string[] = [];
    for (const { type, field } of this.fields(new Set(['entity']))) {
      const rows = await this.read(type, and({ path: field, relation: 'is_not', values: [null] }), [field], {
        sorts: [{ field_name: field, direction: 'asc' }],
        perPage: SAMPLE,
      });
      const seq = rows.flatMap((r) => {
        const l = r[field] as { type?: unknown; id?: unknown; name?: unknown } | null;
        return l && typeof l.type === 'string' && typeof l.id === 'number'
          ? [{ v: { type: l.type, id: l.id, name: typeof l.name === 'string' ? l.name : '' }, id: r.id }]
          : [];
      });
      if (new Set(seq.map((s) => `${s.v.type}#${s.v.id}`)).size < 2) continue;
      probed.push(`${type}.${field} (${seq.length} rows)`);
      for (const c of [...alive]) if (!consistent(seq, candidates[c])) alive.delete(c);
      if (alive.size <= 1) break;
    }
    const probe = `read entity fields sorted asc: ${probed.join(', ') || 'none with two targets'}`;
    if (alive.size === 1) {
      const [v] = alive;
      return rec(v, 'measured', probe, `only the by-${v} order is consistent with the site's`);
    }
    if (alive.size === 0) return rec(DEFAULT_RULES.entityOrder, 'unmatched', probe, "the site's order matches neither by-name nor by-id");
    return rec(DEFAULT_RULES.entityOrder, 'assumed', probe, 'the data is consistent with both: cannot decide');
  }
}

/** Whether a sequence the site sorted ascending is in order under `cmp`, ties by row id ascending. */
function consistent<T>(seq: Array<{ v: T; id: number }>, cmp: (a: T, b: T) => number): boolean {
  for (let i = 1; i < seq.length; i++) {
    const c = cmp(seq[i - 1].v, seq[i].v);
    if (c > 0 || (c === 0 && seq[i - 1].id > seq[i].id)) return false;
  }
  return true;
}

/** Runs the probes and records every rule in the state table (readiness partition); returns what was found. */
export async function calibrate(
  client: ProbeClient,
  schema: CachedSchema,
  readiness: Pick<ReadinessStore, 'saveSiteRules' | 'recordSiteFields' | 'schemaGeneration'>,
  now?: () => Date,
): Promise<CalibrationOutcome> {
  const outcome = await new Calibration(client, schema, now).run();
  await readiness.saveSiteRules(outcome.records);
  await recordNamesIfAnswerable(client, schema, readiness, outcome.records.missingReturnField);
  return outcome;
}

/**
 * When the site's answer to a missing return field is measured as something the cache can give (omitted, a null
 * column), the site's field names of every cached type are recorded at once from one `schema_read` (the script's
 * view), read under the schema generation taken before it: reads naming fields the site lacks are then answered from
 * the first one on, instead of passing once per type while the API learns the names (shared/reads/site-field-learning.ts).
 */
async function recordNamesIfAnswerable(
  client: ProbeClient,
  schema: CachedSchema,
  readiness: Pick<ReadinessStore, 'recordSiteFields' | 'schemaGeneration'>,
  rule: RuleRecord | undefined,
): Promise<void> {
  if (rule?.status !== 'measured' || (rule.value !== 'omit' && rule.value !== 'null')) return;
  try {
    const generation = await readiness.schemaGeneration();
    await recordSiteFieldNames(readiness, await client.call('schema_read'), schema.site.typeNames, generation);
  } catch {
    // Not fatal: the rules are saved; the API learns a type's names on the first pass that needs them.
  }
}

/** Calibration as the sync functions run it (at import, from the reconciler, `fpt-cache calibrate`), with their context's client. */
export function calibrationFor(ctx: Pick<SyncContext, 'client' | 'schema' | 'readiness'>): () => Promise<CalibrationOutcome> {
  return () => calibrate(ctx.client, ctx.schema, ctx.readiness);
}
