// Toolkit's call shapes (reference/toolkit-calls.md) over HTTP against the simulated site: its types and url fields served, byte-identical.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updateParams } from '../../shared/site/index.js';
import { answerDifference } from '../support/same-answer.js';
import { SCRIPT_AUTH, cond, readPayload, results, schema, startHarness, type Harness } from '../api/harness.js';

let h: Harness;
const HIT = { 'x-fpt-cache-require': 'hit' };
const any = (...conditions: unknown[]) => ({ logical_operator: 'or', conditions });
let project: any;
let user: any;
let shot: any;
let pf: any;
let note: any;
let group: any;

async function first(type: string, fields: string[], conditions: unknown[] = []): Promise<any> {
  return (
    results(await h.direct(readPayload(SCRIPT_AUTH, type, conditions, fields, { paging: { entities_per_page: 1, current_page: 1 } }))) as { entities: any[] }
  ).entities[0];
}

beforeAll(async () => {
  h = await startHarness('toolkit-reads');
  project = await first('Project', ['name']);
  user = await first('HumanUser', ['login', 'name'], [cond('sg_status_list', 'is', 'act'), cond('login', 'starts_with', 'artist')]);
  shot = await first('Shot', ['code', 'project'], [cond('project', 'is', project)]);
  pf = await first('PublishedFile', ['code', 'entity', 'upstream_published_files'], [cond('upstream_published_files', 'is_not', null)]);
  note = await first('Note', ['note_links', 'replies'], [cond('replies', 'is_not', null)]);
  group = await first('Group', ['code']);
});
afterAll(async () => {
  await h?.close();
});

/** Through the API (must be a hit) and at the site: identical (bytes; signed URLs: test/support/same-answer.ts). Returns the entities. */
async function servedSame(type: string, filters: unknown[], fields: string[], extra: Record<string, unknown> = {}): Promise<any[]> {
  const payload = readPayload(SCRIPT_AUTH, type, filters, fields, extra);
  const viaApi = await h.rpc(payload, HIT);
  expect(viaApi.headers['x-fpt-cache'], `${type}: ${viaApi.body.toString('utf8').slice(0, 300)}`).toBe('hit');
  expect(answerDifference(viaApi.body, (await h.direct(payload)).body)).toBeUndefined();
  return (results(viaApi) as { entities: any[] }).entities;
}

const PATHS = ['windows_path', 'linux_path', 'mac_path'];
const ID_ASC = { sorts: [{ field_name: 'id', direction: 'asc' }] };

describe('the types Toolkit reads', () => {
  it("are cached with indexes for Toolkit's filters", () => {
    for (const t of [
      'PipelineConfiguration',
      'LocalStorage',
      'PublishedFileType',
      'PublishedFileDependency',
      'FilesystemLocation',
      'Status',
      'Software',
      'Reply',
    ]) {
      expect(schema.site.hasType(t), t).toBe(true);
    }
    for (const [t, f] of [
      ['PublishedFile', 'entity'],
      ['PublishedFile', 'task'],
      ['PublishedFile', 'published_file_type'],
      ['PipelineConfiguration', 'project'],
      ['FilesystemLocation', 'entity'],
      ['FilesystemLocation', 'project'],
    ])
      expect(schema.linkSlot(t, f), `${t}.${f}`).toBeDefined();
  });

  it('bootstrap: pipeline configurations, storages, software, statuses, projects', async () => {
    const pcs = await servedSame(
      'PipelineConfiguration',
      [any(cond('project', 'is', project), cond('project', 'is', null)), any(cond('users.HumanUser.login', 'is', user.login), cond('users', 'is', null))],
      ['code', 'project', 'users', ...PATHS],
      ID_ASC,
    );
    expect(pcs.length).toBeGreaterThan(0);
    await servedSame('PipelineConfiguration', [cond('code', 'is', 'Primary'), cond('project', 'is', project)], ['code', ...PATHS], ID_ASC);
    expect((await servedSame('LocalStorage', [], ['code', 'id', ...PATHS])).length).toBeGreaterThan(0);
    expect((await servedSame('Status', [], ['bg_color', 'code', 'name', 'icon'])).length).toBeGreaterThan(5);
    await servedSame(
      'Software',
      [
        any(cond('projects', 'is', null), cond('projects', 'in', project)),
        any(cond('user_restrictions', 'is', null), cond('user_restrictions', 'in', user), cond('user_restrictions.Group.users', 'in', user)),
      ],
      ['code', 'engine', 'version_names', 'products', 'group_name', 'group_default', ...PATHS, 'linux_args'],
    );
    await servedSame(
      'Project',
      [cond('name', 'is_not', 'Template Project'), cond('archived', 'is_not', true), cond('is_template', 'is_not', true)],
      ['name', 'sg_status', 'sg_description'],
    );
  });

  it('path cache, workfiles, loader, panel and publish shapes', async () => {
    const locations = await servedSame(
      'FilesystemLocation',
      [cond('project', 'is', project)],
      ['id', 'configuration_metadata', 'is_primary', 'linked_entity_id', 'linked_entity_type', 'path', 'code'],
      ID_ASC,
    );
    expect(locations.length).toBeGreaterThan(0);
    expect(locations[0].path).toMatchObject({
      link_type: 'local',
      local_storage: { type: 'LocalStorage' },
      local_path_linux: expect.any(String),
      local_path_windows: expect.any(String),
    });
    await servedSame('FilesystemLocation', [cond('entity', 'is', shot)], ['path', 'code']);
    await servedSame('Task', [cond('project', 'is', project), cond('task_assignees', 'is', user)], ['content', 'entity'], {
      sorts: [{ field_name: 'content', direction: 'asc' }],
    });
    const pfFields = [
      'code',
      'name',
      'path',
      'version_number',
      'published_file_type',
      'published_file_type.PublishedFileType.code',
      'entity',
      'task',
      'task.Task.sg_status_list',
      'task.Task.due_date',
      'task.Task.content',
      'project',
      'created_by',
      'created_at',
      'version',
    ];
    const pfs = await servedSame('PublishedFile', [cond('entity', 'is', pf.entity), cond('sg_status_list', 'is_not', null)], pfFields);
    expect(pfs.find((p) => p.id === pf.id)?.path).toMatchObject({ link_type: 'local', type: 'Attachment' });
    await servedSame(
      'PublishedFile',
      [cond('entity', 'in', pf.entity, shot), cond('published_file_type.PublishedFileType.code', 'in', 'Maya Scene', 'Nuke Script')],
      pfFields,
    );
    await servedSame('PublishedFile', [cond('downstream_published_files', 'in', pf.upstream_published_files[0])], ['code', 'path'], {
      sorts: [{ field_name: 'id', direction: 'desc' }],
      paging: { entities_per_page: 201, current_page: 1 },
    });
    await servedSame('PublishedFileDependency', [cond('published_file', 'is', pf)], ['dependent_published_file', 'published_file']);
    await servedSame('PublishedFileType', [], ['code', 'id']);
    await servedSame('Note', [cond('note_links', 'in', ...note.note_links)], ['subject', 'content', 'replies', 'user'], {
      sorts: [{ field_name: 'updated_at', direction: 'desc' }],
      paging: { entities_per_page: 201, current_page: 1 },
    });
    await servedSame(
      'Note',
      [any(cond('addressings_cc.Group.users', 'in', user), cond('replies.Reply.user', 'is', user), cond('tasks.Task.task_assignees', 'in', user))],
      ['subject'],
      { sorts: [{ field_name: 'created_at', direction: 'desc' }] },
    );
    await servedSame('Reply', [cond('entity', 'is', { type: 'Note', id: note.id })], ['content', 'user']);
    const versions = await servedSame('Version', [cond('project', 'is', project)], ['code', 'sg_uploaded_movie', 'sg_path_to_movie']);
    expect(versions.some((v) => v.sg_uploaded_movie?.link_type === 'upload')).toBe(true);
  });

  it("url values written through the cache are served in the site's shape: local links, web links, uploads", async () => {
    const link = (value: unknown) => ({ method_name: 'update', params: [SCRIPT_AUTH, updateParams('Project', project.id, { billboard: value })] });
    for (const value of [
      { url: 'https://studio.example.com/board.png', name: 'board' },
      { local_path: '/mnt/projects/board.png', name: 'local board' },
      null,
    ]) {
      const w = await h.rpc(link(value));
      expect(w.headers['x-fpt-cache-write-through']).toBe('applied');
      await servedSame('Project', [cond('id', 'is', project.id)], ['billboard', 'name']);
    }
  });

  it('a url value carrying an S3-style signature is served while valid beyond the margin, passes once expiring (signed-url-expiring)', async () => {
    const amz = (ms: number) =>
      new Date(ms)
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d{3}Z$/, 'Z');
    const board = (dated: number) => ({
      url: `https://sg-media.s3.amazonaws.com/f/board.png?X-Amz-Date=${amz(dated)}&X-Amz-Expires=3600&X-Amz-Signature=abc123`,
      name: 'signed board',
    });
    const payload = readPayload(SCRIPT_AUTH, 'Project', [cond('id', 'is', project.id)], ['billboard']);
    const w = await h.rpc({ method_name: 'update', params: [SCRIPT_AUTH, updateParams('Project', project.id, { billboard: board(Date.now()) })] });
    expect(w.headers['x-fpt-cache-write-through']).toBe('applied');
    await servedSame('Project', [cond('id', 'is', project.id)], ['billboard']);
    // Dated 55 minutes ago with a 60-minute expiry: 5 minutes left, inside the 10-minute margin.
    await h.rpc({ method_name: 'update', params: [SCRIPT_AUTH, updateParams('Project', project.id, { billboard: board(Date.now() - 55 * 60_000) })] });
    const r = await h.rpc(payload);
    expect({ cache: r.headers['x-fpt-cache'], reason: r.headers['x-fpt-cache-reason'] }).toEqual({ cache: 'pass', reason: 'signed-url-expiring' });
    expect(r.body.equals((await h.direct(payload)).body)).toBe(true);
    await h.rpc({ method_name: 'update', params: [SCRIPT_AUTH, updateParams('Project', project.id, { billboard: null })] });
    await servedSame('Project', [cond('id', 'is', project.id)], ['billboard']);
  });
});
