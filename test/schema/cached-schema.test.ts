import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  loadCachedSchema,
  parseCachedSchema,
  schemaFileFromEnv,
  buildSchemaFile,
  fnmatch,
  identifierFor,
  parseRules,
  schemaReadFromFile,
  SiteSchema,
  type SchemaFile,
} from '../../shared/schema/index.js';
import { schemaDump } from '../../local/commands/schema-dump.js';
import { startSimSite, type SimSite } from '../../local/sim/server.js';
import { DEFAULT_SCRIPT } from '../../local/sim/credentials.js';

const DEFAULT_TYPES =
  'Project,Sequence,Shot,Asset,Task,Step,HumanUser,Group,Version,PublishedFile,Note,Playlist,PipelineConfiguration,LocalStorage,PublishedFileType,PublishedFileDependency,FilesystemLocation,Status,Software,Reply';

describe('loading a cached schema file', () => {
  it('loads schema/default.yml and assigns link slots in field-name order', () => {
    const s = loadCachedSchema('schema/default.yml');
    expect(s.site.typeNames).toEqual(DEFAULT_TYPES.split(','));
    expect([...s.linkSlots('Task')]).toEqual([
      ['entity', 1],
      ['step', 2],
    ]);
    expect([...s.linkSlots('PublishedFile')]).toEqual([
      ['entity', 1],
      ['published_file_type', 2],
      ['task', 3],
      ['version', 4],
    ]);
    expect(s.linkSlot('Shot', 'sg_sequence')).toBe(1);
    expect(s.linkSlot('Shot', 'project')).toBeUndefined();
    expect(s.site.field('Task', 'task_assignees')?.indexed).toBe(true);
    expect(s.isCached('Shot', 'image')).toBe(true);
    expect(s.isCached('Shot', 'sg_editorial_data')).toBe(false);
    expect(s.skipReason('Shot', 'sg_editorial_data')).toMatch(/^serializable/);
    expect(s.site.identifier('ApiUser')).toBe('firstname');
  });

  it('names the file and the place of a schema error', () => {
    const bad = 'types:\n  Shot:\n    identifier: code\n    fields:\n      id: {data_type: number}\n      code: {data_type: txt}\n';
    expect(() => parseCachedSchema(bad, 'schema/x.yml')).toThrow(/^schema\/x\.yml: invalid at types\.Shot\.fields\.code\.data_type \(line 6, column \d+\): /);
    expect(() => parseCachedSchema('types: [', 'schema/x.yml')).toThrow(/^schema\/x\.yml: invalid YAML/);
    expect(() => parseCachedSchema('types:\n  Shot:\n    identifier: code\n    fields:\n      code: {data_type: text}\n', 'f.yml')).toThrow(
      /f\.yml: invalid at types\.Shot\.fields: every type needs an id field/,
    );
  });

  it('checks link fields: valid_types present and known, at most LINK_SLOTS indexed entity fields, indexes only on links', () => {
    const head = 'types:\n  T:\n    identifier: id\n    fields:\n      id: {data_type: number}\n';
    expect(() => parseCachedSchema(`${head}      e: {data_type: entity}\n`, 'f.yml')).toThrow(/types\.T\.fields\.e\.valid_types.*needs valid_types/);
    expect(() => parseCachedSchema(`${head}      e: {data_type: entity, valid_types: [Nope]}\n`, 'f.yml')).toThrow(
      /Nope is neither cached nor listed under link_targets/,
    );
    expect(() => parseCachedSchema(`${head}      c: {data_type: text, indexed: true}\n`, 'f.yml')).toThrow(
      /types\.T\.fields\.c\.indexed.*only entity and multi_entity/,
    );
    const five = [1, 2, 3, 4, 5].map((i) => `      e${i}: {data_type: entity, valid_types: [T], indexed: true}\n`).join('');
    expect(() => parseCachedSchema(head + five, 'f.yml')).toThrow(/types\.T\.fields.*5 indexed entity fields, at most 4/);
    const four = [1, 2, 3, 4].map((i) => `      e${i}: {data_type: entity, valid_types: [T], indexed: true}\n`).join('');
    expect([
      ...parseCachedSchema(`${head}${four}      m: {data_type: multi_entity, valid_types: [T], indexed: true}\n`, 'f.yml').linkSlots('T').values(),
    ]).toEqual([1, 2, 3, 4]);
  });

  it('SCHEMA selects another file', () => {
    expect(schemaFileFromEnv({}, '/repo')).toBe('/repo/schema/default.yml');
    expect(schemaFileFromEnv({ SCHEMA: 'schema/other.yml' }, '/repo')).toBe('/repo/schema/other.yml');
    expect(() => loadCachedSchema('/nonexistent/x.yml')).toThrow(/^\/nonexistent\/x\.yml: cannot read/);
  });
});

describe('schema dump rules', () => {
  const site = SiteSchema.parse(parseYaml(readFileSync('local/sim/site-schema.yml', 'utf8'))).file;
  const { read, entities } = schemaReadFromFile(site);

  it('fnmatch patterns and identifier choice', () => {
    expect(fnmatch('*.image', 'Shot.image')).toBe(true);
    expect(fnmatch('Shot.sg_*', 'Shot.code')).toBe(false);
    expect(fnmatch('Sh?t.[cd]ode', 'Shot.code')).toBe(true);
    expect(identifierFor('Task', ['content', 'code'])).toBe('content');
    expect(identifierFor('CustomEntity01', ['code', 'name'])).toBe('code');
    expect(identifierFor('Thing', ['title'])).toBe('title');
    expect(() => parseRules('+ Shot.code\nnonsense', 'r.txt')).toThrow(/r\.txt:2:/);
  });

  it('later rules win, uncacheable types are skipped with a reason, id and identifier are kept', () => {
    const rules = parseRules('- Shot.*\n+ Shot.sg_*\n- *.sg_cut_*\n+ Shot.sg_cut_in\nindex Shot.sg_sequence\n');
    const f: SchemaFile = buildSchemaFile(read, entities, { types: ['Shot'], rules });
    const shot = f.types.Shot;
    expect(shot.identifier).toBe('code');
    expect(Object.keys(shot.fields).sort()).toEqual([
      'code',
      'id',
      'sg_cut_in',
      'sg_due_date',
      'sg_frame_rate',
      'sg_head_in',
      'sg_hero',
      'sg_plate_uuid',
      'sg_sequence',
      'sg_shot_type',
      'sg_status_list',
      'sg_tail_out',
      'sg_timecode_in',
      'sg_vfx_complexity',
    ]);
    expect(shot.fields.sg_sequence).toEqual({ data_type: 'entity', name: 'Sequence', valid_types: ['Sequence'], indexed: true });
    expect(shot.skipped?.sg_cut_out).toBe('excluded by rule "- *.sg_cut_*"');
    expect(shot.skipped?.project).toBe('excluded by rule "- Shot.*"');
    expect(shot.skipped?.sg_editorial_data).toMatch(/^serializable/);
    expect(f.link_targets).toEqual({ Sequence: 'code' });
  });

  it("schema/default.yml is what the dump derives from the simulated site's schema file", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fpt-schema-'));
    try {
      const out = join(dir, 'default.yml');
      const err: string[] = [];
      const code = await schemaDump(
        ['--from', 'local/sim/site-schema.yml', '--types', DEFAULT_TYPES, '--rules', 'schema/default.rules', '--out', out],
        {},
        { stdout: () => {}, stderr: (s) => err.push(s) },
      );
      expect(err.join('')).toMatch(/wrote .*20 types/);
      expect(code).toBe(0);
      const strip = (t: string) =>
        t
          .split('\n')
          .filter((l) => !l.startsWith('#') && !l.startsWith('source:'))
          .join('\n');
      expect(strip(readFileSync(out, 'utf8'))).toBe(strip(readFileSync('schema/default.yml', 'utf8')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('schema dump against the running simulated site', () => {
  let site: SimSite;
  beforeAll(async () => {
    site = await startSimSite({ port: 0, entities: 20 });
  });
  afterAll(async () => {
    await site.close();
  });

  it('reads schema_read / schema_entity_read over HTTP and writes the same cached subset as schema/default.yml', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const env = { SHOTGUN_URL: site.url, SHOTGUN_SCRIPT_NAME: DEFAULT_SCRIPT.name, SHOTGUN_SCRIPT_KEY: DEFAULT_SCRIPT.key };
    const code = await schemaDump(['--types', DEFAULT_TYPES, '--rules', 'schema/default.rules'], env, {
      stdout: (s) => out.push(s),
      stderr: (s) => err.push(s),
    });
    expect(err.join('')).toBe('');
    expect(code).toBe(0);
    const dumped = parseCachedSchema(out.join(''), 'dump').site.file;
    const shipped = loadCachedSchema('schema/default.yml').site.file;
    expect({ ...dumped, source: undefined }).toEqual({ ...shipped, source: undefined });
  });

  it('fails with one clear line on bad credentials, a missing --types or no site', async () => {
    const err: string[] = [];
    const io = { stdout: () => {}, stderr: (s: string) => err.push(s) };
    expect(await schemaDump(['--types', 'Shot'], { SHOTGUN_URL: site.url, SHOTGUN_SCRIPT_NAME: 'nope', SHOTGUN_SCRIPT_KEY: 'bad' }, io)).toBe(2);
    expect(await schemaDump([], { SHOTGUN_URL: site.url }, io)).toBe(2);
    expect(await schemaDump(['--types', 'Shot'], {}, io)).toBe(2);
    expect(
      await schemaDump(['--types', 'Nope'], { SHOTGUN_URL: site.url, SHOTGUN_SCRIPT_NAME: DEFAULT_SCRIPT.name, SHOTGUN_SCRIPT_KEY: DEFAULT_SCRIPT.key }, io),
    ).toBe(2);
    expect(err[0]).toMatch(/^fpt-cache schema dump: /);
    expect(err[1]).toMatch(/--types is required/);
    expect(err[2]).toMatch(/set SHOTGUN_URL/);
    expect(err[3]).toMatch(/entity type Nope is not in the site's schema/);
  });
});
