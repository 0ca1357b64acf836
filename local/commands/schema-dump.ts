// `fpt-cache schema dump`: reads the site's schema and writes the cached subset as a SchemaFile YAML (schema/*.yml).
import { readFileSync, writeFileSync } from 'node:fs';
import { Document, parse as parseYaml, type Scalar, type YAMLMap } from 'yaml';
import {
  parseCachedSchema,
  buildSchemaFile,
  parseRules,
  SchemaEntityReadSchema,
  SchemaReadSchema,
  schemaReadFromFile,
  type Rule,
  type SchemaEntityRead,
  type SchemaRead,
  SiteSchema,
  type SchemaFile,
} from '../../shared/schema/index.js';
import { ShotgunClient } from '../../shared/site/index.js';

export const SCHEMA_DUMP_USAGE = `usage: fpt-cache schema dump --types Shot,Task,... [--rules FILE] [--out FILE] [--from SCHEMA_FILE]

Reads schema_read and schema_entity_read from the site (SHOTGUN_URL, SHOTGUN_SCRIPT_NAME, SHOTGUN_SCRIPT_KEY),
or a full-site schema file with --from (e.g. local/sim/site-schema.yml), and writes the cached subset in the
SchemaFile format (stdout without --out).
Rules file lines (fnmatch over "Type.field", later rules win, fields no rule matches are kept):
  + Shot.*          keep
  - *.sg_private_*  leave out (listed under "skipped")
  index Task.entity give the link field an index (entity: a GSI slot; multi_entity: membership queries)`;

interface DumpArgs {
  types: string[];
  rulesFile?: string;
  out?: string;
  from?: string;
}

function parseArgs(argv: string[]): DumpArgs {
  const a: Partial<DumpArgs> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new Error(`${flag} needs a value\n${SCHEMA_DUMP_USAGE}`);
      return v;
    };
    if (flag === '--types')
      a.types = value()
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    else if (flag === '--rules') a.rulesFile = value();
    else if (flag === '--out') a.out = value();
    else if (flag === '--from') a.from = value();
    else throw new Error(`unknown argument ${arg}\n${SCHEMA_DUMP_USAGE}`);
  }
  if (!a.types || a.types.length === 0) throw new Error(`--types is required\n${SCHEMA_DUMP_USAGE}`);
  return a as DumpArgs;
}

/**
 * Renders a SchemaFile the way schema/*.yml are written: the header as comment lines above the first key, one
 * flow-style line per field, a blank line between types. One YAML document built by the library (Document API), so
 * every value (long paths, colons, `#`, quotes, newlines, non-ASCII) is quoted or blocked as YAML needs and parses
 * back to the same SchemaFile; nothing is pasted into the text by hand.
 */
export function renderSchemaYaml(file: SchemaFile, header: string[]): string {
  const doc = new Document(file);
  const top = doc.contents as YAMLMap<Scalar<string>, unknown>;
  const types = doc.get('types') as YAMLMap<Scalar<string>, YAMLMap>;
  types.items.forEach((pair, i) => {
    if (i > 0) pair.key.spaceBefore = true;
    const fields = pair.value?.get('fields') as YAMLMap<Scalar<string>, YAMLMap>;
    for (const field of fields.items) if (field.value) field.value.flow = true;
  });
  const linkTargets = top.items.find((p) => p.key.value === 'link_targets');
  if (linkTargets) {
    linkTargets.key.spaceBefore = true;
    linkTargets.key.commentBefore = ' Identifier fields of link-target types that are not cached (for link names).';
  }
  const first = top.items[0].key;
  // A value with a newline in it (a --from path can hold one) goes on as further comment lines.
  first.commentBefore = header
    .flatMap((h) => h.split('\n'))
    .map((line) => ` ${line}`)
    .join('\n');
  // lineWidth 0: no folding, so a field stays on its one line however long its valid_values are.
  return doc.toString({ lineWidth: 0 });
}

/**
 * The command: returns the process exit code (0 ok, 2 usage or site error). Writes progress and errors to
 * `io.stderr`, the YAML to `--out` or `io.stdout`.
 */
export async function schemaDump(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  io: { stdout: (s: string) => void; stderr: (s: string) => void } = { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) },
): Promise<number> {
  let args: DumpArgs;
  let rules: Rule[] = [];
  try {
    args = parseArgs(argv);
    if (args.rulesFile) rules = parseRules(readFileSync(args.rulesFile, 'utf8'), args.rulesFile);
  } catch (e) {
    io.stderr(`fpt-cache schema dump: ${(e as Error).message}\n`);
    return 2;
  }
  const url = env.SHOTGUN_URL;
  if (!url && !args.from) {
    io.stderr('fpt-cache schema dump: set SHOTGUN_URL (and SHOTGUN_SCRIPT_NAME, SHOTGUN_SCRIPT_KEY) to the site to read, or pass --from FILE\n');
    return 2;
  }
  try {
    let site: { read: SchemaRead; entities: SchemaEntityRead };
    let source: string;
    if (args.from) {
      site = schemaReadFromFile(SiteSchema.parse(parseYaml(readFileSync(args.from, 'utf8')), args.from).file);
      source = `fpt-cache schema dump of ${args.from}`;
    } else {
      const client = new ShotgunClient({ url: url!, scriptName: env.SHOTGUN_SCRIPT_NAME ?? 'fpt-cache', scriptKey: env.SHOTGUN_SCRIPT_KEY ?? '' });
      site = {
        read: SchemaReadSchema.parse(await client.call('schema_read')),
        entities: SchemaEntityReadSchema.parse(await client.call('schema_entity_read')),
      };
      source = `fpt-cache schema dump of ${new URL(url!).host}`;
    }
    const file = buildSchemaFile(site.read, site.entities, { types: args.types, rules, source });
    const header = [
      'The cached subset of the schema (SchemaFile format, shared/schema/schema-model.ts); written by:',
      `  npx fpt-cache schema dump${args.from ? ` --from ${args.from}` : ''} --types ${args.types.join(',')}${args.rulesFile ? ` --rules ${args.rulesFile}` : ''}${args.out ? ` --out ${args.out}` : ''}`,
      'Fields under "skipped" are not cached: reads touching them pass through to the site.',
    ];
    const text = renderSchemaYaml(file, header);
    parseCachedSchema(text, args.out ?? '(output)');
    if (args.out) {
      writeFileSync(args.out, text);
      const skipped = Object.values(file.types).reduce((n, t) => n + Object.keys(t.skipped ?? {}).length, 0);
      const cached = Object.values(file.types).reduce((n, t) => n + Object.keys(t.fields).length, 0);
      io.stderr(`wrote ${args.out}: ${Object.keys(file.types).length} types, ${cached} cached fields, ${skipped} skipped\n`);
    } else {
      io.stdout(text);
    }
    return 0;
  } catch (e) {
    io.stderr(`fpt-cache schema dump: ${(e as Error).message}\n`);
    return 2;
  }
}
