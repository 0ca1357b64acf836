// Benchmark of a Toolkit-shaped artist session (the call shapes of reference/toolkit-calls.md) through the cached API against the simulated site at 150 ms: share served, identical, session time.
import { Agent, request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createApiHandler } from '../functions/api/app.js';
import { startLocalApiGateway, type LocalApiGateway } from '../local/api-gateway.js';
import { startDynamoDbLocal } from '../local/dynamodb-local.js';
import { API_FUNCTION } from '../local/functions.js';
import { freePort } from '../local/ports.js';
import { startSimSite } from '../local/sim/server.js';
import { DEFAULT_SCRIPT } from '../local/sim/credentials.js';
import { loadCachedSchema } from '../shared/schema/index.js';
import { ShotgunClient, firstPage, readParams as read, wireCondition as cond } from '../shared/site/index.js';
import { ensureTables, ReadinessStore, tableNames } from '../shared/store/index.js';
import { calibrate } from '../shared/sync/index.js';
import { importReadyCache } from '../test/reads/importer.js';
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
    const req = request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json; charset=utf-8', 'accept-encoding': 'gzip', 'content-length': String(body.length) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => { const raw = Buffer.concat(chunks); resolve({ headers: res.headers, body: res.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw }); });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** One artist session's reads, in Toolkit's order (Desktop start, launch, File Open, loader, panel, publish checks). */
async function session(site: ShotgunClient): Promise<Call[]> {
  const one = async (type: string, filters: unknown[], fields: string[]) => (await site.call<{ entities: any[] }>('read', read(type, filters, fields, firstPage(1)))).entities[0];
  const project = await one('Project', [], ['name']);
  const user = await one('HumanUser', [cond('login', 'is', 'artist1')], ['login']);
  const shot = await one('Shot', [cond('project', 'is', project), cond('tasks', 'is_not', null)], ['code']);
  const task = await one('Task', [cond('entity', 'is', shot)], ['step']);
  const pf = await one('PublishedFile', [cond('project', 'is', project)], ['entity', 'task']);
  const note = await one('Note', [cond('project', 'is', project)], ['note_links']);
  const r = (name: string, type: string, filters: unknown[], fields: string[], extra: Record<string, unknown> = {}): Call => ({ name, method: 'read', params: read(type, filters, fields, extra) });
  const paths = ['windows_path', 'linux_path', 'mac_path'];
  const byId = { sorts: [{ field_name: 'id', direction: 'asc' }] };
  const pfFields = ['code', 'name', 'path', 'version_number', 'published_file_type', 'published_file_type.PublishedFileType.code', 'entity', 'task', 'task.Task.sg_status_list', 'task.Task.due_date', 'task.Task.content', 'project', 'created_by', 'created_at', 'version', 'description'];
  const calls: Call[] = [
    { name: 'info', method: 'info' },
    r('current user', 'HumanUser', [cond('login', 'is', 'artist1')], ['id', 'login', 'name', 'email', 'firstname', 'lastname', ...IMG]),
    r('script user', 'ApiUser', [cond('firstname', 'is', DEFAULT_SCRIPT.name)], ['id', 'firstname']),
    r('pipeline configurations', 'PipelineConfiguration', [any(cond('project', 'is', project), cond('project', 'is', null)), any(cond('users.HumanUser.login', 'is', user.login), cond('users', 'is', null))], ['code', 'project', 'users', 'plugin_ids', 'sg_plugin_ids', ...paths, 'descriptor', 'sg_descriptor', 'uploaded_config'], byId),
    r('pipeline configuration Primary', 'PipelineConfiguration', [cond('code', 'is', 'Primary'), cond('project', 'is', project)], ['code', 'project', ...paths], byId),
    r('local storages', 'LocalStorage', [], ['code', 'id', ...paths]),
    r('project tank_name', 'Project', [cond('id', 'is', project.id)], ['tank_name']),
    r('project fields (flow)', 'Project', [cond('id', 'is', project.id)], ['tank_name', 'sg_flow_am_id', 'sg_flow_schema_config_version']),
    r('desktop projects', 'Project', [cond('name', 'is_not', 'Template Project'), cond('archived', 'is_not', true), cond('is_template', 'is_not', true)], ['name', 'sg_status', 'current_user_favorite', 'last_accessed_by_current_user', 'sg_description', ...IMG], { include_archived_projects: false }),
    r('software', 'Software', [any(cond('projects', 'is', null), cond('projects', 'in', project)), any(cond('user_restrictions', 'is', null), cond('user_restrictions', 'in', user), cond('user_restrictions.Group.users', 'in', user))], ['code', 'engine', 'version_names', 'products', 'group_name', 'group_default', ...paths, 'linux_args', 'mac_args', 'windows_args', ...IMG]),
    { name: 'schema_read', method: 'schema_read', params: { project } },
    { name: 'schema_entity_read', method: 'schema_entity_read', params: { project } },
    r('statuses', 'Status', [], ['bg_color', 'code', 'name', 'icon']),
    r('path cache sync', 'EventLogEntry', [cond('event_type', 'in', 'Toolkit_Folders_Create', 'Toolkit_Folders_Delete'), cond('project', 'is', project)], ['id', 'meta', 'event_type'], { sorts: [{ field_name: 'id', direction: 'desc' }], ...firstPage(1) }),
    r('filesystem locations', 'FilesystemLocation', [cond('project', 'is', project)], ['id', 'configuration_metadata', 'is_primary', 'linked_entity_id', 'linked_entity_type', 'path', 'code'], byId),
    r('context entity', 'Shot', [cond('id', 'is', shot.id)], ['project', 'code']),
    r('my tasks', 'Task', [cond('project', 'is', project), cond('task_assignees', 'is', user)], ['content', 'entity', ...IMG], { sorts: [{ field_name: 'content', direction: 'asc' }] }),
    r('steps', 'Step', [], ['code', 'entity_type', 'color'], { sorts: [{ field_name: 'code', direction: 'asc' }] }),
    r('shots of the project', 'Shot', [cond('project', 'is', project)], ['sg_sequence', 'code', 'sg_status_list', 'description', 'project.Project.name', ...IMG]),
    r('shots of the project (no image)', 'Shot', [cond('project', 'is', project)], ['sg_sequence', 'code', 'sg_status_list', 'description', 'project.Project.name']),
    r('assets of the project', 'Asset', [cond('project', 'is', project)], ['sg_asset_type', 'code', 'sg_status_list', 'description', 'project.Project.name']),
    r('tasks of a shot by step', 'Task', [cond('entity', 'is', shot), cond('step.Step.id', 'in', task.step?.id ?? 0)], ['step', 'content', 'entity']),
    r('publishes of an entity', 'PublishedFile', [cond('entity', 'is', pf.entity), cond('sg_status_list', 'is_not', null)], pfFields),
    r('publishes of an entity (thumbnails)', 'PublishedFile', [cond('entity', 'is', pf.entity)], [...pfFields, ...IMG]),
    r('publishes of a task', 'PublishedFile', [cond('task', 'is', pf.task ?? task)], pfFields),
    r('publishes without a task', 'PublishedFile', [cond('entity', 'is', pf.entity), cond('task', 'is', null)], pfFields),
    r('publish types', 'PublishedFileType', [], ['code', 'id']),
    r('users by id', 'HumanUser', [cond('id', 'in', user.id)], ['id', 'login', 'name', 'email', 'department', 'firstname', ...IMG]),
    r('panel: notes of the shot', 'Note', [cond('note_links', 'in', ...(note.note_links ?? [shot]))], ['subject', 'content', 'user', 'created_at', 'replies'], { sorts: [{ field_name: 'updated_at', direction: 'desc' }], ...firstPage(201) }),
    r('panel: versions of the shot', 'Version', [cond('entity', 'is', shot)], ['code', 'sg_status_list', 'sg_uploaded_movie', 'sg_path_to_movie', 'user', 'created_at', 'client_approved_by'], { sorts: [{ field_name: 'created_at', direction: 'desc' }], ...firstPage(201) }),
    r('panel: versions (no missing field)', 'Version', [cond('entity', 'is', shot)], ['code', 'sg_status_list', 'sg_uploaded_movie', 'sg_path_to_movie', 'user', 'created_at'], { sorts: [{ field_name: 'created_at', direction: 'desc' }], ...firstPage(201) }),
    r('panel: tasks of the shot', 'Task', [cond('entity', 'is', shot), cond('sg_status_list', 'is_not', 'fin')], ['content', 'sg_status_list', 'task_assignees', 'due_date'], { sorts: [{ field_name: 'due_date', direction: 'desc' }], ...firstPage(201) }),
    r('panel: my notes', 'Note', [any(cond('addressings_cc.Group.users', 'in', user), cond('replies.Reply.user', 'is', user), cond('tasks.Task.task_assignees', 'in', user))], ['subject', 'created_at'], { sorts: [{ field_name: 'created_at', direction: 'desc' }], ...firstPage(201) }),
    r('panel: dependencies', 'PublishedFile', [cond('downstream_published_files', 'in', { type: 'PublishedFile', id: pf.id })], ['code', 'path'], { sorts: [{ field_name: 'id', direction: 'desc' }], ...firstPage(201) }),
    r('panel: playlists', 'Playlist', [cond('project', 'is', project), any(cond('sg_date_and_time', 'greater_than', '2025-01-01T00:00:00Z'), cond('sg_date_and_time', 'is', null))], ['code', 'id', 'sg_date_and_time'], { sorts: [{ field_name: 'updated_at', direction: 'desc' }], ...firstPage(10) }),
    r('context widget tasks', 'Task', [cond('project', 'is', project), any(cond('task_assignees', 'is', user), cond('task_assignees.Group.users', 'is', user))], ['content', 'project', 'entity', 'step', 'sg_status_list'], { sorts: [{ field_name: 'entity', direction: 'asc' }, { field_name: 'content', direction: 'asc' }] }),
    r('publish conflicts', 'PublishedFile', [cond('code', 'is', 'x.ma'), cond('entity', 'is', pf.entity), cond('name', 'is', 'x'), cond('project', 'is', project), cond('task', 'is', pf.task ?? task), cond('sg_status_list', 'is_not', null)], ['path']),
    r('publish type Maya Scene', 'PublishedFileType', [cond('code', 'is', 'Maya Scene')], ['code', 'id'], firstPage(1)),
  ];
  return calls;
}

export async function benchToolkit(): Promise<string> {
  const ddbLocal = await startDynamoDbLocal({ port: await freePort() });
  const site = await startSimSite({ port: 0, entities: 2000, seed: 5 });
  const ddb = new DynamoDBClient({ endpoint: ddbLocal.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const agent = new Agent({ keepAlive: true, maxSockets: 2 });
  let api: LocalApiGateway | undefined;
  try {
    const client = new ShotgunClient({ url: site.url, scriptName: DEFAULT_SCRIPT.name, scriptKey: DEFAULT_SCRIPT.key });
    const schema = loadCachedSchema('schema/default.yml');
    const tables = tableNames('bench-toolkit-');
    await ensureTables(ddb, tables);
    await importReadyCache(client, ddb, tables, schema);
    // As a deployed import does: the site's rules measured before the types come into service.
    await calibrate(client, schema, new ReadinessStore(ddb, tables, schema));
    const logger = new Logger({ serviceName: 'fpt-cache-bench', logLevel: 'SILENT' });
    api = await startLocalApiGateway({
      port: 0, fn: API_FUNCTION.fn,
      handler: createApiHandler({ shotgun: { url: site.url, timeoutMs: 25_000, maxAttempts: 3 }, logger, cache: { schema, ddb, tables, accessRules: {}, scriptAuth: async () => AUTH } }),
    });
    const calls = await session(client);
    const bodies = calls.map((c) => Buffer.from(JSON.stringify({ method_name: c.method, params: c.params ? [AUTH, c.params] : c.method === 'info' ? [] : [AUTH] })));
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
      const { ms: t, out } = await run(`${api.url}/api3/json`);
      let served = 0; let identical = 0;
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
    const reasonRows = [...passes[1].reasons].sort((a, b) => b[1] - a[1]).map(([reason, count]) => [reason, count]);
    return [
      '## A Toolkit-shaped session (issue 14)',
      '',
      `One artist session's ${n} calls in Toolkit's own shapes (reference/toolkit-calls.md: bootstrap, launcher, path cache, `
      + 'File Open, loader, panel, publish checks; `image` and the return fields many sites lack asked for as Toolkit does), one '
      + `client in order, through the cached API and straight to the simulated site at ${SITE_LATENCY_MS} ms latency. Identical: the `
      + 'reply body equals the site\'s byte for byte, signed image URLs naming the same objects with signatures valid for the 10-minute margin (passes are the site\'s own reply).',
      '',
      table(['run', 'served from the cache', 'identical to the site', 'session time', 'vs the site'], [
        ['straight to the site', '-', '-', `${ms(direct.ms / 1000)} s`, '1.0x'],
        ...passes.map((p, i) => [i === 0 ? 'through the cache, first pass' : 'through the cache, second pass', `${p.served} / ${n} (${Math.round((100 * p.served) / n)} %)`,
          `${p.identical} / ${n}`, `${ms(p.ms / 1000)} s`, `${(direct.ms / p.ms).toFixed(1)}x`]),
      ]),
      '',
      'Pass reasons on the second pass:',
      '',
      table(['reason', 'calls'], reasonRows),
      '',
    ].join('\n');
  } finally {
    await api?.close();
    agent.destroy();
    ddb.destroy();
    await site.close();
    await ddbLocal.stop();
  }
}
