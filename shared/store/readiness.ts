// Readiness of cached types and fields (state table): a type or field is served only once imported, under the deployed definition, and while the site has not drifted from it.
import { GetItemCommand, QueryCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { z } from 'zod';
import type { CachedSchema } from '../schema/index.js';
import { periodicSnapshot } from './periodic-snapshot.js';
import { readGenerations, SCHEMA_GENERATION } from './change-counters.js';
import { SITE_FIELDS_PREFIX, SiteFieldKnowledge } from './site-fields.js';
import { SiteRules, type RuleName, type RuleRecord } from '../semantics/index.js';
import type { TableNames } from './table-design.js';

/**
 * State-table partition holding one item per cached type: sk "type#<Type>", the ready flag, the set of ready fields,
 * per field the definition fingerprint it was imported under (`def:<field>`) and any site drift (`drift:<field>`,
 * `drift:*` for the whole type).
 */
export const READINESS_PK = 'readiness';
const sk = (type: string) => `type#${type}`;
/** The item (same partition) holding the site's calibrated rules (shared/site-rules.ts, shared/calibration.ts), one JSON attribute per rule. */
const RULES_SK = 'site-rules';
const DEF = 'def:';
const DRIFT = 'drift:';
/** The drift key of a whole type (gone from the site). */
export const WHOLE_TYPE = '*';

/** What the site changed under the deployed schema, for one field (or WHOLE_TYPE). */
export const DriftRecordSchema = z.object({
  kind: z.enum(['type-changed', 'targets-changed', 'removed', 'type-removed']),
  /** The deployed definition (fingerprint). */
  cached: z.string(),
  /** The site's definition (fingerprint), absent when the field or type is gone. */
  site: z.string().optional(),
  /** ISO time it was first seen. */
  at: z.string(),
});
export type DriftRecord = z.infer<typeof DriftRecordSchema>;

/**
 * A field's storage-relevant definition: data type, sorted link targets, and for indexed link fields the GSI slot or
 * membership items. A field imported under one fingerprint is not served under another (its stored values were
 * encoded, indexed or filtered for the old definition) until it is rebuilt.
 */
export function definitionFingerprint(schema: CachedSchema, type: string, field: string): string | undefined {
  const def = schema.site.field(type, field);
  if (!def) return undefined;
  let fp: string = def.data_type;
  if (def.data_type === 'entity' || def.data_type === 'multi_entity') {
    fp += `[${[...(def.valid_types ?? [])].sort().join(',')}]`;
    const slot = schema.linkSlot(type, field);
    if (slot !== undefined) fp += `@l${slot}`;
    else if (def.indexed === true) fp += '+indexed';
  }
  return fp;
}

interface TypeReadiness {
  ready: boolean;
  fields: ReadonlySet<string>;
  /** Fingerprints recorded when fields were marked ready (absent for items written before fingerprints existed). */
  defs?: ReadonlyMap<string, string>;
  drift?: ReadonlyMap<string, DriftRecord>;
}

export interface DriftEntry extends DriftRecord { type: string; field: string }

/** A snapshot of readiness, as the read path consults it, with the site's rules the read path follows. */
export class Readiness {
  /** With `schema`, a field whose recorded fingerprint differs from the deployed definition is not ready. */
  constructor(private readonly types: ReadonlyMap<string, TypeReadiness>, private readonly schema?: CachedSchema,
    readonly siteRules: SiteRules = SiteRules.assumed(), readonly siteFields: SiteFieldKnowledge = SiteFieldKnowledge.none()) {}

  /** The same readiness under other site rules (tests and tools). */
  withRules(rules: SiteRules): Readiness { return new Readiness(this.types, this.schema, rules, this.siteFields); }

  /** The same readiness with other knowledge of the site's fields (tests and tools). */
  withSiteFields(siteFields: SiteFieldKnowledge): Readiness { return new Readiness(this.types, this.schema, this.siteRules, siteFields); }

  static empty(): Readiness { return new Readiness(new Map()); }

  /** Everything in `schemaFields` ready (tests and tools that import whole types). */
  static all(schemaFields: Record<string, Iterable<string>>): Readiness {
    return new Readiness(new Map(Object.entries(schemaFields).map(([t, f]) => [t, { ready: true, fields: new Set(f) }])));
  }

  isTypeReady(type: string): boolean {
    const t = this.types.get(type);
    return t?.ready === true && !t.drift?.has(WHOLE_TYPE);
  }

  /**
   * A field is ready when its type is ready, the field was imported (`id` always is) under the definition deployed
   * now (or before fingerprints were recorded: docs/sync.md "Schema changes"), and the site has not drifted from it.
   */
  isFieldReady(type: string, field: string): boolean {
    const t = this.types.get(type);
    if (!t || !this.isTypeReady(type)) return false;
    if (field === 'id') return true;
    return t.fields.has(field) && !t.drift?.has(field) && this.definitionMatches(type, field, t);
  }

  /** Whether the site's definition of the field (or of its whole type) differs from the deployed one. */
  isDrifted(type: string, field: string): boolean {
    const d = this.types.get(type)?.drift;
    return d !== undefined && (d.has(field) || d.has(WHOLE_TYPE));
  }

  /** Every recorded drift. */
  drifted(): DriftEntry[] {
    const out: DriftEntry[] = [];
    for (const [type, t] of this.types) for (const [field, r] of t.drift ?? []) out.push({ type, field, ...r });
    return out;
  }

  /** The recorded drift of one type, by field. */
  driftOf(type: string): ReadonlyMap<string, DriftRecord> { return this.types.get(type)?.drift ?? new Map(); }

  /** Of `fields`, those an import can make ready: not ready and not drifted (a drifted field waits for a deploy). */
  pendingFields(type: string, fields: readonly string[]): string[] {
    return fields.filter((f) => !this.isFieldReady(type, f) && !this.isDrifted(type, f));
  }

  /** Ready fields that have no recorded fingerprint (written before fingerprints existed). */
  unfingerprinted(type: string): string[] {
    const t = this.types.get(type);
    if (!t?.ready) return [];
    return [...t.fields].filter((f) => !t.defs?.has(f));
  }

  get readyTypes(): string[] { return [...this.types.keys()].filter((n) => this.isTypeReady(n)); }

  private definitionMatches(type: string, field: string, t: TypeReadiness): boolean {
    const recorded = t.defs?.get(field);
    if (recorded === undefined || !this.schema) return true;
    return recorded === definitionFingerprint(this.schema, type, field);
  }
}

export class ReadinessStore {
  /** With `schema`, fingerprints are recorded when fields are marked ready and compared when readiness is loaded. */
  constructor(private readonly ddb: DynamoDBClient, private readonly tables: TableNames, private readonly schema?: CachedSchema) {}

  private key(type: string) { return { pk: { S: READINESS_PK }, sk: { S: sk(type) } }; }

  /** SET clauses recording the deployed fingerprint of each field. */
  private fingerprints(type: string, fields: readonly string[], names: Record<string, string>, values: Record<string, AttributeValue>): string[] {
    if (!this.schema) return [];
    const sets: string[] = [];
    [...new Set(fields)].forEach((f, i) => {
      const fp = definitionFingerprint(this.schema!, type, f);
      if (fp === undefined) return;
      names[`#d${i}`] = DEF + f;
      values[`:d${i}`] = { S: fp };
      sets.push(`#d${i} = :d${i}`);
    });
    return sets;
  }

  /** Marks `type` ready with `fields` imported (adds to the fields already ready), each under the deployed definition. */
  async markTypeReady(type: string, fields: string[], at = new Date()): Promise<void> {
    const values: Record<string, AttributeValue> = { ':y': { BOOL: true }, ':at': { S: at.toISOString() } };
    const names: Record<string, string> = { '#ready': 'ready', '#at': 'at' };
    const sets = ['#ready = :y', '#at = :at', ...this.fingerprints(type, fields, names, values)];
    let expr = `SET ${sets.join(', ')}`;
    if (fields.length) { expr += ' ADD #fields :f'; values[':f'] = { SS: [...new Set(fields)] }; names['#fields'] = 'fields'; }
    await this.ddb.send(new UpdateItemCommand({
      TableName: this.tables.state, Key: this.key(type),
      UpdateExpression: expr, ExpressionAttributeValues: values, ExpressionAttributeNames: names,
    }));
  }

  /** Adds fields to a type's ready set (a field added to the schema or rebuilt, once backfilled); does not change the type flag. */
  async markFieldsReady(type: string, fields: string[]): Promise<void> {
    if (!fields.length) return;
    const names: Record<string, string> = { '#fields': 'fields' };
    const values: Record<string, AttributeValue> = { ':f': { SS: [...new Set(fields)] } };
    const sets = this.fingerprints(type, fields, names, values);
    await this.ddb.send(new UpdateItemCommand({
      TableName: this.tables.state, Key: this.key(type),
      UpdateExpression: `${sets.length ? `SET ${sets.join(', ')} ` : ''}ADD #fields :f`, ExpressionAttributeNames: names, ExpressionAttributeValues: values,
    }));
  }

  /** Takes a type out of service (re-import, slot reassignment): reads of it pass through until marked ready again. */
  async markTypeNotReady(type: string): Promise<void> {
    await this.ddb.send(new UpdateItemCommand({
      TableName: this.tables.state, Key: this.key(type),
      UpdateExpression: 'SET #ready = :n REMOVE #fields', ExpressionAttributeNames: { '#ready': 'ready', '#fields': 'fields' }, ExpressionAttributeValues: { ':n': { BOOL: false } },
    }));
  }

  /**
   * Records site drift of fields of `type` (or WHOLE_TYPE) and takes them out of service: a drifted field leaves the
   * ready set (a drifted type its ready flag), so whenever the drift clears it is rebuilt before it is served again.
   */
  async recordDrift(type: string, drifts: ReadonlyArray<{ field: string; record: DriftRecord }>): Promise<void> {
    if (!drifts.length) return;
    const names: Record<string, string> = {};
    const values: Record<string, AttributeValue> = {};
    const sets: string[] = [];
    drifts.forEach((d, i) => {
      names[`#x${i}`] = DRIFT + d.field;
      values[`:x${i}`] = { S: JSON.stringify(DriftRecordSchema.parse(d.record)) };
      sets.push(`#x${i} = :x${i}`);
    });
    const whole = drifts.some((d) => d.field === WHOLE_TYPE);
    let expr = `SET ${sets.join(', ')}`;
    if (whole) {
      names['#ready'] = 'ready'; names['#fields'] = 'fields'; values[':n'] = { BOOL: false };
      expr += ', #ready = :n REMOVE #fields';
    } else {
      names['#fields'] = 'fields'; values[':f'] = { SS: [...new Set(drifts.map((d) => d.field))] };
      expr += ' DELETE #fields :f';
    }
    await this.ddb.send(new UpdateItemCommand({
      TableName: this.tables.state, Key: this.key(type), UpdateExpression: expr, ExpressionAttributeNames: names, ExpressionAttributeValues: values,
    }));
  }

  /** Forgets the drift of these fields of `type` (the deployed schema matches the site again). */
  async clearDrift(type: string, fields: readonly string[]): Promise<void> {
    if (!fields.length) return;
    const names = Object.fromEntries(fields.map((f, i) => [`#x${i}`, DRIFT + f]));
    await this.ddb.send(new UpdateItemCommand({
      TableName: this.tables.state, Key: this.key(type), UpdateExpression: `REMOVE ${Object.keys(names).join(', ')}`, ExpressionAttributeNames: names,
    }));
  }

  /**
   * Records the deployed fingerprint of ready fields that have none (items written before fingerprints existed), so a
   * later deploy that changes their definition is noticed. Returns how many fields were adopted.
   */
  async adoptFingerprints(readiness?: Readiness): Promise<number> {
    if (!this.schema) return 0;
    const r = readiness ?? await this.load();
    let n = 0;
    for (const type of this.schema.site.typeNames) {
      const fields = r.unfingerprinted(type).filter((f) => this.schema!.isCached(type, f));
      if (!fields.length) continue;
      const names: Record<string, string> = {};
      const values: Record<string, AttributeValue> = {};
      const sets = this.fingerprints(type, fields, names, values).map((s) => s.replace(/^(#d\d+) = (:d\d+)$/, '$1 = if_not_exists($1, $2)'));
      if (!sets.length) continue;
      await this.ddb.send(new UpdateItemCommand({
        TableName: this.tables.state, Key: this.key(type), UpdateExpression: `SET ${sets.join(', ')}`, ExpressionAttributeNames: names, ExpressionAttributeValues: values,
      }));
      n += sets.length;
    }
    return n;
  }

  /** Records measured (or re-assumed) rules, each with when and how it was established; other rules are kept. */
  async saveSiteRules(records: Partial<Record<RuleName, RuleRecord>>): Promise<void> {
    const entries = Object.entries(records);
    if (!entries.length) return;
    const names: Record<string, string> = {};
    const values: Record<string, AttributeValue> = {};
    const sets = entries.map(([name, rec], i) => {
      names[`#r${i}`] = `rule:${name}`;
      values[`:r${i}`] = { S: JSON.stringify(rec) };
      return `#r${i} = :r${i}`;
    });
    await this.ddb.send(new UpdateItemCommand({
      TableName: this.tables.state, Key: { pk: { S: READINESS_PK }, sk: { S: RULES_SK } },
      UpdateExpression: `SET ${sets.join(', ')}`, ExpressionAttributeNames: names, ExpressionAttributeValues: values,
    }));
  }

  /**
   * Records the field names the site's schema_field_read answered for `type` (shared/store/site-fields.ts), read
   * under schema generation `generation`; names read under a newer generation are never replaced.
   */
  async recordSiteFields(type: string, names: readonly string[], generation: number, at = new Date()): Promise<void> {
    if (!names.length) return;
    try {
      await this.ddb.send(new UpdateItemCommand({
        TableName: this.tables.state, Key: { pk: { S: READINESS_PK }, sk: { S: SITE_FIELDS_PREFIX + type } },
        UpdateExpression: 'SET #names = :n, #gen = :g, #at = :at', ConditionExpression: 'attribute_not_exists(#gen) OR #gen <= :g',
        ExpressionAttributeNames: { '#names': 'names', '#gen': 'gen', '#at': 'at' },
        ExpressionAttributeValues: { ':n': { SS: [...new Set(names)] }, ':g': { N: String(generation) }, ':at': { S: at.toISOString() } },
      }));
    } catch (e) {
      if ((e as { name?: string }).name !== 'ConditionalCheckFailedException') throw e;
    }
  }

  /** The schema generation now (`*schema`, bumped by DisplayColumn events and the periodic schema diff). */
  async schemaGeneration(): Promise<number> {
    return (await readGenerations(this.ddb, this.tables.state, [SCHEMA_GENERATION]))[SCHEMA_GENERATION];
  }

  async isTypeReady(type: string): Promise<boolean> {
    const r = await this.ddb.send(new GetItemCommand({ TableName: this.tables.state, Key: this.key(type) }));
    return r.Item?.ready?.BOOL === true && r.Item[DRIFT + WHOLE_TYPE] === undefined;
  }

  /**
   * A readiness source for the read path: reloads at most every `maxAgeMs` (one Query), so a container sees a type
   * come into or go out of service within that time. Concurrent callers share one load.
   */
  snapshots(maxAgeMs: number, now: () => number = Date.now): () => Promise<Readiness> {
    return periodicSnapshot(() => this.load(), maxAgeMs, now);
  }

  /** Every type's readiness (one Query). */
  async load(): Promise<Readiness> {
    const types = new Map<string, TypeReadiness>();
    let rules = SiteRules.assumed();
    const siteFieldItems: Array<Record<string, AttributeValue>> = [];
    // Read before the items: knowledge recorded under a later generation is then at worst taken as stale.
    const schemaGeneration = await this.schemaGeneration();
    let start: Record<string, AttributeValue> | undefined;
    do {
      const r = await this.ddb.send(new QueryCommand({
        TableName: this.tables.state, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: READINESS_PK } },
        ExclusiveStartKey: start, ConsistentRead: true,
      }));
      for (const it of r.Items ?? []) {
        if (it.sk.S === RULES_SK) { rules = parseRules(it); continue; }
        if (it.sk.S?.startsWith(SITE_FIELDS_PREFIX)) { siteFieldItems.push(it); continue; }
        if (!it.sk.S?.startsWith('type#')) continue;
        const defs = new Map<string, string>();
        const drift = new Map<string, DriftRecord>();
        for (const [k, v] of Object.entries(it)) {
          if (k.startsWith(DEF) && v.S !== undefined) defs.set(k.slice(DEF.length), v.S);
          else if (k.startsWith(DRIFT) && v.S !== undefined) {
            const d = DriftRecordSchema.safeParse(safeJson(v.S));
            if (d.success) drift.set(k.slice(DRIFT.length), d.data);
          }
        }
        types.set(it.sk.S!.slice('type#'.length), { ready: it.ready?.BOOL === true, fields: new Set(it.fields?.SS ?? []), defs, drift });
      }
      start = r.LastEvaluatedKey;
    } while (start);
    return new Readiness(types, this.schema, rules, SiteFieldKnowledge.fromItems(siteFieldItems, schemaGeneration));
  }
}

function parseRules(it: Record<string, AttributeValue>): SiteRules {
  const raw: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(it)) if (k.startsWith('rule:') && v.S !== undefined) raw[k.slice('rule:'.length)] = safeJson(v.S);
  return SiteRules.fromRecords(raw);
}

function safeJson(s: string): unknown {
  try { return JSON.parse(s); } catch { return undefined; }
}
