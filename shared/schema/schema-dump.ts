// Turning a site's schema_read / schema_entity_read output into a cached SchemaFile: rules, uncacheable fields, identifiers.
import { z } from 'zod';
import { DataTypeSchema, type DataType } from '../site/index.js';
import type { FieldDef, SchemaFile } from './schema-model.js';
import { isCallerDependent, PER_CALLER_REASON } from './caller-dependent.js';

/** One property of schema_read output: {"editable": bool, "value": x}. */
const PropSchema = z.looseObject({ value: z.unknown() });
const SiteFieldSchema = z.looseObject({
  data_type: PropSchema,
  name: PropSchema.optional(),
  properties: z.record(z.string(), PropSchema).optional(),
});
/** schema_read results: {Type: {field: {data_type: {value}, name: {value}, properties: {...}}}}. */
export const SchemaReadSchema = z.record(z.string(), z.record(z.string(), SiteFieldSchema));
export type SchemaRead = z.infer<typeof SchemaReadSchema>;
/** schema_entity_read results: {Type: {name: {value}}}. */
export const SchemaEntityReadSchema = z.record(z.string(), z.looseObject({ name: PropSchema.optional() }));
export type SchemaEntityRead = z.infer<typeof SchemaEntityReadSchema>;

/**
 * Identifier fields (the source of a link's `name`) that are not the default `code`: protocol.md §3.3 and
 * peers.md §6. Other types use the first of code, name, title, content they have, else id.
 */
export const KNOWN_IDENTIFIERS: Readonly<Record<string, string>> = {
  Task: 'content',
  Note: 'subject',
  Reply: 'content',
  Project: 'name',
  HumanUser: 'name',
  ApiUser: 'firstname',
  Ticket: 'title',
  Delivery: 'title',
  Department: 'name',
};
export const IDENTIFIER_FALLBACKS = ['code', 'name', 'title', 'content'] as const;

export function identifierFor(type: string, fieldNames: Iterable<string>): string {
  const names = new Set(fieldNames);
  const known = Object.hasOwn(KNOWN_IDENTIFIERS, type) ? KNOWN_IDENTIFIERS[type] : undefined;
  if (known && (names.size === 0 || names.has(known))) return known;
  for (const f of IDENTIFIER_FALLBACKS) if (names.has(f)) return f;
  return names.size === 0 ? 'code' : 'id';
}

/**
 * Data types left out of the cache, with the reason written under `skipped`. Everything else is one the semantics
 * model implements (docs/semantics.md) and the store round-trips exactly. `url` values (local file links with
 * local_path_* and local_storage, web links, uploads as file_serve URLs) and `image` values are cached; a value carrying a signature
 * (S3 presigned style) is served while it stays valid for a margin, checked per answer by the read engine
 * (shared/query/volatile-values.ts; docs/semantics.md "Volatile values").
 */
export const UNCACHEABLE_TYPES: Readonly<Partial<Record<DataType, string>>> = {
  serializable: 'serializable: opaque values, not filterable',
  pivot_column: 'pivot_column: not readable through the API',
  password: 'password: never readable',
  summary: 'summary: computed by the site',
  calculated: 'calculated: computed by the site',
  addressing: 'addressing: not implemented by the semantics model',
  url_template: 'url_template: computed by the site',
};

/** One rule line: `+ Shot.*`, `- *.image`, `index Task.entity`. Patterns are fnmatch-style over "Type.field". */
export type Rule = { kind: 'include' | 'exclude' | 'index'; pattern: string; line: number; text: string };

export function parseRules(text: string, where = 'rules'): Rule[] {
  const rules: Rule[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const m = /^(\+|-|index)\s+(\S+)$/.exec(line);
    if (!m) throw new Error(`${where}:${i + 1}: expected "+ Type.field", "- Type.field" or "index Type.field", got "${raw.trim()}"`);
    if (!m[2].includes('.')) throw new Error(`${where}:${i + 1}: the pattern "${m[2]}" must be "Type.field" (use "*" for any)`);
    rules.push({ kind: m[1] === '+' ? 'include' : m[1] === '-' ? 'exclude' : 'index', pattern: m[2], line: i + 1, text: line });
  });
  return rules;
}

/** fnmatch: `*` any run, `?` one character, `[...]` a class; case-sensitive (type and field names are). */
export function fnmatch(pattern: string, s: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const j = pattern.indexOf(']', i + 1);
      if (j < 0) {
        re += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, j);
      if (body.startsWith('!')) body = '^' + body.slice(1);
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = j;
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(re + '$').test(s);
}

/** The last include/exclude rule matching `Type.field` (later rules win), or undefined. */
function lastMatch(rules: Rule[], key: string): Rule | undefined {
  let hit: Rule | undefined;
  for (const r of rules) if (r.kind !== 'index' && fnmatch(r.pattern, key)) hit = r;
  return hit;
}

export interface DumpOptions {
  types: string[];
  rules: Rule[];
  /** Free text for the file's `source`. */
  source?: string;
}

function propValue(f: z.infer<typeof SiteFieldSchema>, prop: string): unknown {
  return f.properties && Object.hasOwn(f.properties, prop) ? f.properties[prop].value : undefined;
}

/** Why a site field cannot be cached faithfully, or undefined when it can. */
export function uncacheableReason(typeName: string, fieldName: string, f: z.infer<typeof SiteFieldSchema>): string | undefined {
  const dt = DataTypeSchema.safeParse(f.data_type.value);
  if (!dt.success) return `${String(f.data_type.value)}: a data type the semantics model does not know`;
  const byType = UNCACHEABLE_TYPES[dt.data];
  if (byType) return byType;
  if (propValue(f, 'query') !== undefined || propValue(f, 'summary_field') !== undefined) return 'query field: computed by the site';
  if (isCallerDependent(typeName, fieldName)) return PER_CALLER_REASON;
  return undefined;
}

/**
 * Builds the cached SchemaFile: the listed types, each site field kept (with valid_types / valid_values) unless a rule
 * excludes it or its type cannot be cached faithfully (then it is under `skipped` with the reason); `id` and the
 * identifier field are always kept. Link-target types that are not cached go under `link_targets` with their identifier.
 */
export function buildSchemaFile(read: SchemaRead, entities: SchemaEntityRead, opts: DumpOptions): SchemaFile {
  const out: SchemaFile = { source: opts.source, types: {} };
  const indexRules = opts.rules.filter((r) => r.kind === 'index');
  const targets = new Set<string>();
  for (const type of opts.types) {
    if (!Object.hasOwn(read, type)) throw new Error(`entity type ${type} is not in the site's schema`);
    const siteFields = read[type];
    const identifier = identifierFor(type, Object.keys(siteFields));
    const fields: Record<string, FieldDef> = {};
    const skipped: Record<string, string> = {};
    for (const name of Object.keys(siteFields).sort()) {
      const f = siteFields[name];
      const forced = name === 'id' || name === identifier;
      const rule = lastMatch(opts.rules, `${type}.${name}`);
      if (!forced && rule?.kind === 'exclude') {
        skipped[name] = `excluded by rule "${rule.text}"`;
        continue;
      }
      const reason = uncacheableReason(type, name, f);
      if (reason) {
        if (forced) throw new Error(`${type}.${name} is needed (${name === 'id' ? 'id' : 'identifier'}) but cannot be cached: ${reason}`);
        skipped[name] = reason;
        continue;
      }
      const def: FieldDef = { data_type: DataTypeSchema.parse(f.data_type.value) };
      const display = f.name?.value;
      if (typeof display === 'string') def.name = display;
      const vt = propValue(f, 'valid_types');
      if ((def.data_type === 'entity' || def.data_type === 'multi_entity') && Array.isArray(vt)) {
        def.valid_types = vt.filter((x): x is string => typeof x === 'string');
        for (const t of def.valid_types) targets.add(t);
      }
      const vv = propValue(f, 'valid_values');
      if ((def.data_type === 'list' || def.data_type === 'status_list') && Array.isArray(vv)) {
        def.valid_values = vv.filter((x): x is string => typeof x === 'string');
      }
      if (indexRules.some((r) => fnmatch(r.pattern, `${type}.${name}`))) {
        if (def.data_type !== 'entity' && def.data_type !== 'multi_entity') {
          throw new Error(`${type}.${name}: only entity and multi_entity fields can be indexed (${def.data_type})`);
        }
        def.indexed = true;
      }
      fields[name] = def;
    }
    const display = entities[type]?.name?.value;
    out.types[type] = {
      ...(typeof display === 'string' ? { display_name: display } : {}),
      identifier,
      fields,
      ...(Object.keys(skipped).length ? { skipped } : {}),
    };
  }
  const linkTargets: Record<string, string> = {};
  for (const t of [...targets].sort()) {
    if (Object.hasOwn(out.types, t)) continue;
    linkTargets[t] = identifierFor(t, Object.hasOwn(read, t) ? Object.keys(read[t]) : []);
  }
  if (Object.keys(linkTargets).length) out.link_targets = linkTargets;
  if (out.source === undefined) delete out.source;
  return out;
}

/**
 * The schema_read / schema_entity_read view of a SchemaFile (what a site built from that file answers), so a cached
 * subset can be derived from a schema file the same way it is dumped from a live site.
 */
export function schemaReadFromFile(file: SchemaFile): { read: SchemaRead; entities: SchemaEntityRead } {
  const read: SchemaRead = {};
  const entities: SchemaEntityRead = {};
  for (const [typeName, t] of Object.entries(file.types)) {
    entities[typeName] = { name: { editable: false, value: t.display_name ?? typeName } };
    const fields: SchemaRead[string] = {};
    for (const [name, f] of Object.entries(t.fields)) {
      const properties: Record<string, { editable: boolean; value: unknown }> = {
        default_value: { editable: false, value: f.default_value ?? null },
      };
      if (f.valid_types) properties.valid_types = { editable: true, value: f.valid_types };
      if (f.valid_values) properties.valid_values = { editable: true, value: f.valid_values };
      fields[name] = {
        data_type: { editable: false, value: f.data_type },
        name: { editable: true, value: f.name ?? name },
        entity_type: { editable: false, value: typeName },
        properties,
      };
    }
    read[typeName] = fields;
  }
  return { read, entities };
}
