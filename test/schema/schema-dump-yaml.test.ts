// The cached-schema file the dump writes is one YAML document: any value an operator's site or paths can carry
// (long paths, colons, `#`, quotes, newlines, non-ASCII) parses back to what was dumped, wherever the files are.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { parseCachedSchema, type SchemaFile } from '../../shared/schema/index.js';
import { renderSchemaYaml, schemaDump } from '../../local/commands/schema-dump.js';

/** Every kind of text that has broken a hand-pasted YAML line: indicators, quotes, a newline, non-ASCII, length. */
const AWKWARD = `a: b #c "d" 'e' - [f] {g} & *h ! | > % @ \` é 日本 ✓\nsecond line\t${'x'.repeat(120)}`;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the cached-schema YAML the dump writes', () => {
  it('parses back to the same SchemaFile, header comments included, whatever the values hold', () => {
    const file: SchemaFile = {
      source: `fpt-cache schema dump of /${'long path: #1 '.repeat(25)}/site "schema".yml`,
      types: {
        Shot: {
          display_name: AWKWARD,
          identifier: 'code',
          fields: {
            id: { data_type: 'number', name: 'Id' },
            code: { data_type: 'text', name: AWKWARD, description: `# not a comment: ${AWKWARD}` },
            sg_status: { data_type: 'list', valid_values: ['ip', 'on: hold', '#1', "it's", '"q"', 'ünï', ''], default_value: 'on: hold' },
          },
          skipped: { 'sg_odd: name #x': `excluded by rule "- *.sg_odd*" ${AWKWARD}` },
        },
        Task: { identifier: 'content', fields: { id: { data_type: 'number' }, content: { data_type: 'text' } } },
      },
      link_targets: { CustomEntity05: 'code' },
    };
    const header = ['first header line', `  npx fpt-cache schema dump --from ${AWKWARD}`];
    const text = renderSchemaYaml(file, header);
    expect(parseCachedSchema(text, 'dump').site.file).toEqual(file);
    const doc = parseDocument(text);
    expect(doc.errors).toEqual([]);
    expect(doc.toJS()).toEqual(file);
    // The header stays comment text: each of its lines, the newline-split one too, is a comment line of the file.
    for (const line of header.join('\n').split('\n')) expect(text.split('\n')).toContain(`# ${line}`);
    // The layout of schema/*.yml: one line per field, a blank line between types.
    expect(text).toMatch(/^ {6}id: \{ data_type: number, name: Id \}$/m);
    expect(text).toMatch(/\n\n {2}Task:\n/);
    expect(text).toMatch(/\n\n# Identifier fields of link-target types that are not cached \(for link names\)\.\nlink_targets:\n {2}CustomEntity05: code\n$/);
  });

  it('dumps from a 300-character --from path with colons, `#`, quotes, a newline and non-ASCII in it and parses back', async () => {
    const base = mkdtempSync(join(tmpdir(), 'fpt-cache-dump-'));
    dirs.push(base);
    let dir = base;
    for (const part of ['a: b #c', '"quoted" \'single\'', 'new\nline', 'ünïcödé 日本', 'x'.repeat(100)]) dir = join(dir, part);
    mkdirSync(dir, { recursive: true });
    const from = join(dir, `${'s'.repeat(Math.max(1, 300 - dir.length - 12))}: #site.yml`);
    expect(from.length).toBeGreaterThanOrEqual(300);
    copyFileSync(join(import.meta.dirname, '..', '..', 'local', 'sim', 'site-schema.yml'), from);
    const out = join(dir, 'dump: #1.yml');
    const err: string[] = [];
    const code = await schemaDump(['--from', from, '--types', 'Shot,Task', '--out', out], {}, { stdout: () => {}, stderr: (s) => err.push(s) });
    expect(err.join('')).toMatch(/^wrote [^]*: 2 types, \d+ cached fields/);
    expect(code).toBe(0);
    const text = readFileSync(out, 'utf8');
    const dumped = parseCachedSchema(text, out).site.file;
    expect(dumped.source).toBe(`fpt-cache schema dump of ${from}`);
    expect(Object.keys(dumped.types)).toEqual(['Shot', 'Task']);
    expect(dumped.types.Task.identifier).toBe('content');
    // The command line in the header names the file as given, each of its lines commented out.
    const commandLine = `  npx fpt-cache schema dump --from ${from} --types Shot,Task --out ${out}`;
    for (const line of commandLine.split('\n')) expect(text.split('\n')).toContain(`# ${line}`);
  });
});
