// Benchmark of a Toolkit-shaped artist session (the call shapes of reference/toolkit-calls.md) through the cached API against the simulated site at 150 ms: share served, identical, session time.
import { Agent, request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { Logger } from '@aws-lambda-powertools/logger';
import { createApiHandler } from '../functions/api/app.js';
import { startLocalApiGateway, type LocalApiGateway } from '../local/api-gateway.js';
import { API_FUNCTION } from '../local/functions.js';
import { DEFAULT_SCRIPT, DEFAULT_USER_PASSWORD, SEEDED_LOGINS } from '../local/sim/credentials.js';
import { startLocalSqs, type LocalSqs } from '../local/sqs-local.js';
import { createParams, ShotgunClient, firstPage, readParams as read, wireCondition as cond } from '../shared/site/index.js';
import { ReadinessStore } from '../shared/store/index.js';
import { calibrate } from '../shared/sync/index.js';
import { benchPoller, type ImportedCache, withImportedCache } from './fixtures.js';
import { sameAnswer } from '../test/support/same-answer.js';
import { ms, table } from './measure.js';

const SITE_LATENCY_MS = 150;
const AUTH = { script_name: DEFAULT_SCRIPT.name, script_key: DEFAULT_SCRIPT.key };
type Call = { name: string; method: string; params?: Record<string, unknown> };
type Reply = { headers: Record<string, unknown>; body: Buffer };
const any = (...conditions: unknown[]) => ({ logical_operator: 'or', conditions });
const IMG = ['image'];

function post(agent: Agent, url: string, body: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json; charset=utf-8', 'accept-encoding': 'gzip', 'content-length': String(body.length) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          resolve({ headers: res.headers, body: res.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** One artist session's reads, in Toolkit's order (Desktop start, launch, File Open, loader, panel, publish checks); as docs/real-client.md's script. */
async function session(site: ShotgunClient, artistLogin: string): Promise<Call[]> {
  const one = async (type: string, filters: unknown[], fields: string[], extra: Record<string, unknown> = {}) =>
    (await site.call<{ entities: any[] }>('read', read(type, filters, fields, { ...firstPage(1), ...extra }))).entities[0];
  const byIdAsc = { sorts: [{ field_name: 'id', direction: 'asc' }] };
  const project = await one('Project', [cond('archived', 'is', false), cond('name', 'is_not', 'Template Project')], ['name'], byIdAsc);
  const user = await one('HumanUser', [cond('login', 'is', artistLogin)], ['login']);
  const shot = await one('Shot', [cond('project', 'is', project), cond('tasks', 'is_not', null)], ['code']);
  const task = await one('Task', [cond('entity', 'is', shot)], ['step']);
  const pf = await one('PublishedFile', [cond('project', 'is', project)], ['entity', 'task', 'code', 'name']);
  const note = await one('Note', [cond('project', 'is', project)], ['note_links']);
  const tk = cond('event_type', 'in', 'Toolkit_Folders_Create', 'Toolkit_Folders_Delete');
  // What tk-core's local path cache knows: the newest folder event it synced.
  const lastEvent = await one('EventLogEntry', [tk, cond('project', 'is', project)], ['id'], { sorts: [{ field_name: 'id', direction: 'desc' }] });
  const r = (name: string, type: string, filters: unknown[], fields: string[], extra: Record<string, unknown> = {}): Call => ({
    name,
    method: 'read',
    params: read(type, filters, fields, extra),
  });
  const paths = ['windows_path', 'linux_path', 'mac_path'];
  const byId = byIdAsc;
  const me = { type: 'HumanUser', id: user.id };
  const pfFields = [
    'code',
    'name',
    'path',
    'version_number',
    'published_file_type',
    'published_file_type.PublishedFileType.code',
    ...IMG,
    'entity',
    'task',
    'task.Task.sg_status_list',
    'task.Task.due_date',
    'task.Task.content',
    'project',
    'created_by',
    'created_by.HumanUser.name',
    'created_by.HumanUser.image',
    'created_at',
    'version',
    'version.Version.sg_status_list',
    'description',
  ];
  return [
    { name: 'info', method: 'info' },
    r('current user', 'HumanUser', [cond('login', 'is', artistLogin)], ['id', 'login', 'name', 'email', 'firstname', 'lastname', ...IMG]),
    r(
      'pipeline configurations',
      'PipelineConfiguration',
      [any(cond('project', 'is', project), cond('project', 'is', null)), any(cond('users.HumanUser.login', 'is', user.login), cond('users', 'is', null))],
      ['code', 'project', 'users', 'plugin_ids', 'sg_plugin_ids', ...paths, 'descriptor', 'sg_descriptor', 'uploaded_config'],
      byId,
    ),
    r(
      'pipeline configuration Primary',
      'PipelineConfiguration',
      [cond('code', 'is', 'Primary'), cond('project', 'is', project)],
      ['code', 'project', ...paths],
      byId,
    ),
    r('local storages', 'LocalStorage', [], ['code', 'id', ...paths]),
    r('project tank_name', 'Project', [cond('id', 'is', project.id)], ['tank_name'], firstPage(1)),
    r('project fields (flow)', 'Project', [cond('id', 'is', project.id)], ['tank_name', 'sg_flow_am_id', 'sg_flow_schema_config_version'], firstPage(1)),
    r(
      'desktop projects',
      'Project',
      [cond('name', 'is_not', 'Template Project'), cond('archived', 'is_not', true), cond('is_template', 'is_not', true)],
      ['name', 'sg_status', 'current_user_favorite', 'last_accessed_by_current_user', 'sg_description', ...IMG],
      { include_archived_projects: false },
    ),
    r(
      'software',
      'Software',
      [
        any(cond('projects', 'is', null), cond('projects', 'in', project)),
        any(cond('user_restrictions', 'is', null), any(cond('user_restrictions', 'in', me), cond('user_restrictions.Group.users', 'in', me))),
      ],
      ['code', 'engine', 'version_names', 'products', 'group_name', 'group_default', ...paths, 'linux_args', 'mac_args', 'windows_args', ...IMG],
    ),
    { name: 'schema_read', method: 'schema_read', params: { project } },
    { name: 'schema_entity_read', method: 'schema_entity_read', params: { project } },
    { name: 'schema_field_read Shot', method: 'schema_field_read', params: { type: 'Shot', project } },
    { name: 'schema_field_read PublishedFile.path', method: 'schema_field_read', params: { type: 'PublishedFile', field_name: 'path' } },
    r('statuses', 'Status', [], ['bg_color', 'code', 'name', 'icon']),
    r(
      'path cache: new events',
      'EventLogEntry',
      [tk, cond('project', 'is', project), cond('id', 'greater_than', lastEvent?.id ?? 0)],
      ['id', 'meta', 'attribute_name', 'event_type'],
      { sorts: [{ field_name: 'id', direction: 'asc' }] },
    ),
    r('path cache: last event', 'EventLogEntry', [tk, cond('project', 'is', project)], ['id', 'meta', 'event_type'], {
      sorts: [{ field_name: 'id', direction: 'desc' }],
      ...firstPage(1),
    }),
    r(
      'filesystem locations',
      'FilesystemLocation',
      [cond('project', 'is', project)],
      ['id', 'configuration_metadata', 'is_primary', 'linked_entity_id', 'linked_entity_type', 'path', 'code'],
      byId,
    ),
    r('context entity', 'Shot', [cond('id', 'is', shot.id)], ['project', 'code'], firstPage(1)),
    r('my tasks', 'Task', [cond('project', 'is', project), cond('task_assignees', 'is', me)], ['content', ...IMG, 'entity'], {
      sorts: [{ field_name: 'content', direction: 'asc' }],
    }),
    r('steps', 'Step', [], ['code', 'entity_type', 'color'], { sorts: [{ field_name: 'code', direction: 'asc' }] }),
    r(
      'shots of the project',
      'Shot',
      [cond('project', 'is', project)],
      ['sg_sequence', 'code', ...IMG, 'sg_status_list', 'description', 'project.Project.name'],
    ),
    r(
      'assets of the project',
      'Asset',
      [cond('project', 'is', project)],
      ['sg_asset_type', 'code', ...IMG, 'sg_status_list', 'description', 'project.Project.name'],
    ),
    r('tasks of a shot by step', 'Task', [cond('entity', 'is', shot), cond('step.Step.id', 'in', task.step?.id ?? 0)], ['step', 'content', 'entity']),
    r('workfiles publishes', 'PublishedFile', [cond('entity', 'is', pf.entity), cond('task', 'is', pf.task)], pfFields, {
      sorts: [{ field_name: 'version_number', direction: 'desc' }],
    }),
    r('publish types', 'PublishedFileType', [], ['code', 'id']),
    r('loader latest publishes', 'PublishedFile', [cond('entity', 'is', pf.entity), cond('sg_status_list', 'is_not', null)], pfFields, {
      sorts: [{ field_name: 'created_at', direction: 'asc' }],
    }),
    r('loader publishes without a task', 'PublishedFile', [cond('entity', 'is', pf.entity), cond('task', 'is', null)], pfFields),
    r(
      'loader publish history',
      'PublishedFile',
      [cond('project.Project.id', 'is', project.id), cond('name', 'is', pf.name), cond('entity', 'is', pf.entity)],
      pfFields,
      { sorts: [{ field_name: 'version_number', direction: 'desc' }] },
    ),
    r('users by id (legacy in)', 'HumanUser', [cond('id', 'in', user.id, user.id)], ['id', ...IMG, 'login', 'name', 'email', 'department', 'firstname']),
    r(
      'panel: notes of the shot',
      'Note',
      [cond('note_links', 'in', ...(note.note_links?.length ? note.note_links : [shot]))],
      ['subject', 'content', 'user', 'created_at', 'replies', 'created_by.HumanUser.image'],
      { sorts: [{ field_name: 'updated_at', direction: 'desc' }], ...firstPage(201) },
    ),
    r(
      'panel: versions of the shot',
      'Version',
      [cond('entity', 'is', shot)],
      ['code', 'sg_status_list', 'sg_uploaded_movie', 'sg_path_to_movie', 'user', 'created_at', 'client_approved_by', ...IMG],
      { sorts: [{ field_name: 'created_at', direction: 'desc' }], ...firstPage(201) },
    ),
    r(
      'panel: tasks of the shot',
      'Task',
      [cond('entity', 'is', shot), cond('sg_status_list', 'is_not', 'fin')],
      ['content', 'sg_status_list', 'task_assignees', 'due_date', ...IMG],
      { sorts: [{ field_name: 'due_date', direction: 'desc' }], ...firstPage(201) },
    ),
    r(
      'panel: my notes',
      'Note',
      [any(cond('addressings_cc.Group.users', 'in', me), cond('replies.Reply.user', 'is', me), cond('tasks.Task.task_assignees', 'in', me))],
      ['subject', 'created_at'],
      { sorts: [{ field_name: 'created_at', direction: 'desc' }], ...firstPage(201) },
    ),
    r('panel: dependencies', 'PublishedFile', [cond('downstream_published_files', 'in', { type: 'PublishedFile', id: pf.id })], ['code', 'path'], {
      sorts: [{ field_name: 'id', direction: 'desc' }],
      ...firstPage(201),
    }),
    r(
      'panel: playlists',
      'Playlist',
      [cond('project', 'is', project), any(cond('sg_date_and_time', 'greater_than', '2025-01-01T00:00:00Z'), cond('sg_date_and_time', 'is', null))],
      ['code', 'id', 'sg_date_and_time'],
      { sorts: [{ field_name: 'updated_at', direction: 'desc' }], ...firstPage(10) },
    ),
    r(
      'context widget tasks',
      'Task',
      [cond('project', 'is', project), any(cond('task_assignees', 'is', me), cond('task_assignees.Group.users', 'is', me))],
      ['content', 'project', 'entity', 'step', 'sg_status_list'],
      {
        sorts: [
          { field_name: 'entity', direction: 'asc' },
          { field_name: 'content', direction: 'asc' },
        ],
      },
    ),
    r(
      'publish conflicts',
      'PublishedFile',
      [
        cond('code', 'is', pf.code),
        cond('entity', 'is', pf.entity),
        cond('name', 'is', pf.name),
        cond('project', 'is', project),
        cond('task', 'is', pf.task),
        cond('sg_status_list', 'is_not', null),
      ],
      ['path'],
    ),
    r('publish type Maya Scene', 'PublishedFileType', [cond('code', 'is', 'Maya Scene')], ['code', 'id'], firstPage(1)),
  ];
}

export async function benchToolkit(): Promise<string> {
  const sqs = await startLocalSqs({ port: 0 });
  try {
    return await withImportedCache({ entities: 2000, seed: 5, latencyMs: 0, tablePrefix: 'bench-toolkit-' }, (c) => measureSession(c, sqs));
  } finally {
    await sqs.close();
  }
}

async function measureSession(c: ImportedCache, sqs: LocalSqs): Promise<string> {
  const { site, ddb, client, schema, tables } = c;
  const agent = new Agent({ keepAlive: true, maxSockets: 2 });
  let api: LocalApiGateway | undefined;
  try {
    // As a deployed import does: the site's rules measured before the types come into service.
    await calibrate(client, schema, new ReadinessStore(ddb, tables, schema));
    const logger = new Logger({ serviceName: 'fpt-cache-bench', logLevel: 'SILENT' });
    const poll = await benchPoller(c, sqs, logger);
    api = await startLocalApiGateway({
      port: 0,
      fn: API_FUNCTION.fn,
      handler: createApiHandler({
        shotgun: { url: site.url, timeoutMs: 25_000, maxAttempts: 3 },
        logger,
        cache: { schema, ddb, tables, accessRules: {}, scriptAuth: async () => AUTH },
      }),
    });
    await poll();
    // The artist signs in as Toolkit does (a session token, kept across launches), and created folders before (tk-core logs the event itself).
    const { session_id: token } = await client.call<{ session_id: string }>('get_session_token', undefined, {
      auth: { user_login: SEEDED_LOGINS.artist, user_password: DEFAULT_USER_PASSWORD },
    });
    const artist = { session_token: token };
    const project = (
      await client.call<{ entities: Array<{ type: string; id: number }> }>(
        'read',
        read('Project', [cond('archived', 'is', false), cond('name', 'is_not', 'Template Project')], ['id'], {
          sorts: [{ field_name: 'id', direction: 'asc' }],
          ...firstPage(1),
        }),
      )
    ).entities[0];
    await client.call(
      'create',
      createParams('EventLogEntry', {
        event_type: 'Toolkit_Folders_Create',
        description: 'Toolkit: created folders',
        project,
        meta: { core_api_version: 'HEAD', sg_folder_ids: [1, 2] },
      }),
    );
    await poll();
    const calls = await session(client, SEEDED_LOGINS.artist);
    const bodies = calls.map((call) =>
      Buffer.from(JSON.stringify({ method_name: call.method, params: call.params ? [artist, call.params] : call.method === 'info' ? [] : [artist] })),
    );
    site.control.setLatency(SITE_LATENCY_MS);
    const run = async (url: string) => {
      const t0 = performance.now();
      const out: Reply[] = [];
      for (const b of bodies) out.push(await post(agent, url, b));
      return { ms: performance.now() - t0, out };
    };
    const direct = await run(`${site.url}/api3/json`);
    const passes: Array<{ served: number; identical: number; ms: number; reasons: Map<string, number> }> = [];
    for (let pass = 0; pass < 2; pass++) {
      await poll(); // the poller's schedule between two launches (the kept event log answers as of its last poll)
      const { ms: t, out } = await run(`${api.url}/api3/json`);
      let served = 0;
      let identical = 0;
      const reasons = new Map<string, number>();
      out.forEach((rep, i) => {
        const hit = rep.headers['x-fpt-cache'] === 'hit';
        if (hit) served++;
        else reasons.set(String(rep.headers['x-fpt-cache-reason']), (reasons.get(String(rep.headers['x-fpt-cache-reason'])) ?? 0) + 1);
        // Identical: byte for byte, signed URLs the same objects with signatures valid for the margin (test/support/same-answer.ts).
        if (sameAnswer(rep.body, direct.out[i].body)) identical++;
      });
      passes.push({ served, identical, ms: t, reasons });
    }
    site.control.setLatency(0);
    const n = calls.length;
    const reasonRows = [...new Set([...passes[0].reasons.keys(), ...passes[1].reasons.keys()])]
      .map((reason) => [reason, passes[0].reasons.get(reason) ?? 0, passes[1].reasons.get(reason) ?? 0])
      .sort((a, b) => Number(b[2]) - Number(a[2]) || Number(b[1]) - Number(a[1]));
    return [
      '## A Toolkit-shaped session (issue 14)',
      '',
      `One artist session's ${n} calls in Toolkit's own shapes (reference/toolkit-calls.md: bootstrap, launcher, schema, path cache, ` +
        'File Open, loader, panel, publish checks; `image` and the return fields many sites lack asked for as Toolkit does), as `artist1` ' +
        'with its own session token (a probed user, not trusted), one client in order, the real poller run between passes, through the ' +
        `cached API and straight to the simulated site at ${SITE_LATENCY_MS} ms latency. The second pass is the next launch with the same token. Identical: the ` +
        "reply body equals the site's byte for byte, signed image URLs naming the same objects with signatures valid for the 10-minute margin (passes are the site's own reply).",
      '',
      table(
        ['run', 'served from the cache', 'identical to the site', 'session time', 'vs the site'],
        [
          ['straight to the site', '-', '-', `${ms(direct.ms / 1000)} s`, '1.0x'],
          ...passes.map((p, i) => [
            i === 0 ? 'through the cache, first pass' : 'through the cache, second pass',
            `${p.served} / ${n} (${Math.round((100 * p.served) / n)} %)`,
            `${p.identical} / ${n}`,
            `${ms(p.ms / 1000)} s`,
            `${(direct.ms / p.ms).toFixed(1)}x`,
          ]),
        ],
      ),
      '',
      'Pass reasons:',
      '',
      table(['reason', 'first pass', 'second pass'], reasonRows),
      '',
    ].join('\n');
  } finally {
    await api?.close();
    agent.destroy();
  }
}
