// tk-core's path-cache reads of EventLogEntry over HTTP: served from the log the real poller kept (DynamoDB Local, local SQS, the simulated site) only when complete, byte-identical to the site; otherwise passed with the reason.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Context } from 'aws-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { createPollerHandler, type PollerHandler } from '../../functions/poller/app.js';
import { startLocalSqs, type LocalSqs } from '../../local/sqs-local.js';
import { DEFAULT_SCRIPT, DEFAULT_USER_PASSWORD } from '../../local/sim/credentials.js';
import { SEEDED_PROFILE_LOGINS } from '../../local/sim/permissions.js';
import { batchParams, createParams, type AuthParams } from '../../shared/site/index.js';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_KEPT_TYPES, MemorySyncMetrics, PollerLease, runPoller, ShotgunEventSource } from '../../shared/sync/index.js';
import { NO_POLLER_METRICS } from '../sync/helpers.js';
import { dynamo } from '../store/helpers.js';
import { SCRIPT_AUTH, cond, fault, readPayload, results, schema, startHarness, type Harness } from './harness.js';

const MAX_LAG_MS = 5_000;
const TK_TYPES = ['Toolkit_Folders_Create', 'Toolkit_Folders_Delete'];
const ARTIST: AuthParams = { user_login: SEEDED_PROFILE_LOGINS.restrictedArtist, user_password: DEFAULT_USER_PASSWORD };
const link = (id: number) => ({ type: 'Project', id });
let h: Harness;
let sqs: LocalSqs;
let poller: PollerHandler;
let p1: number;
let p2: number;
let pc: { type: string; id: number };
let artist: { type: string; id: number };

/** One poller invocation (a few polls), as the schedule runs it. */
async function poll(): Promise<void> {
  await poller({}, { getRemainingTimeInMillis: () => 30_000 } as Context);
}

/** tk-core's Toolkit_Folders_* event, created as path_cache.py creates it (through the cache: a pass-through write). */
async function folderEvent(type: string, project: number, folderIds: number[]): Promise<number> {
  const r = await h.rpc({
    method_name: 'create',
    params: [
      SCRIPT_AUTH,
      createParams('EventLogEntry', {
        event_type: type,
        description: `Toolkit HEAD: ${type}`,
        project: link(project),
        entity: pc,
        meta: { core_api_version: 'HEAD', sg_folder_ids: folderIds },
        user: artist,
      }),
    ],
  });
  const created = results<{ id: number } | undefined>(r);
  if (typeof created?.id !== 'number') throw new Error(`create failed: ${r.body.toString('utf8')}`);
  return created!.id;
}

/** find() as shotgun_api3 sends it without a limit (paging loop, has_next_page asked). */
const incremental = (auth: AuthParams, project: number, afterId: number, fields = ['id', 'meta', 'event_type']) =>
  readPayload(
    auth,
    'EventLogEntry',
    [cond('event_type', 'in', ...TK_TYPES), cond('id', 'greater_than', afterId), cond('project', 'is', link(project))],
    fields,
    { sorts: [{ field_name: 'id', direction: 'asc' }], api_return_image_urls: true, return_paging_info_without_counts: true },
  );
/** find_one(): the full sync's newest event, no lower bound. */
const newest = (project: number) =>
  readPayload(SCRIPT_AUTH, 'EventLogEntry', [cond('event_type', 'in', ...TK_TYPES), cond('project', 'is', link(project))], ['id'], {
    sorts: [{ field_name: 'id', direction: 'desc' }],
    paging: { entities_per_page: 1, current_page: 1 },
    api_return_image_urls: true,
    return_paging_info_without_counts: false,
  });

/** Through the cache and straight to the site: identical bytes; returns how the cache answered. */
async function same(payload: { method_name: string; params: unknown[] }): Promise<{ kind: string; reason: string; body: string }> {
  const viaCache = await h.rpc(payload);
  const site = await h.direct(payload);
  const body = viaCache.body.toString('utf8');
  expect(body).toBe(site.body.toString('utf8'));
  return { kind: String(viaCache.headers['x-fpt-cache']), reason: String(viaCache.headers['x-fpt-cache-reason']), body };
}

const ids = (body: string) => (JSON.parse(body).results.entities as Array<{ id: number }>).map((e) => e.id);

beforeAll(async () => {
  h = await startHarness('event-log-reads', { eventLog: { maxLagMs: MAX_LAG_MS } });
  sqs = await startLocalSqs({ port: 0 });
  const env: Record<string, string> = {
    SHOTGUN_URL: h.sim.url,
    SHOTGUN_SCRIPT_NAME: DEFAULT_SCRIPT.name,
    SHOTGUN_SCRIPT_KEY: DEFAULT_SCRIPT.key,
    ENTITIES_TABLE: h.tables.entities,
    STATE_TABLE: h.tables.state,
    REFS_TABLE: h.tables.refs,
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamodbEndpoint'),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    EVENTS_QUEUE_URL: sqs.queueUrl,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    POLL_INTERVAL_MS: '50',
    POLL_LOOP_MS: '300',
    POLLER_LEASE_MS: '5000',
  };
  poller = await createPollerHandler(env, { metrics: new MemorySyncMetrics(), logger: new Logger({ serviceName: 'test-poller', logLevel: 'CRITICAL' }) });
  const projects = results<{ entities: Array<{ id: number }> }>(await h.direct(readPayload(SCRIPT_AUTH, 'Project', [], ['id']))).entities;
  [p1, p2] = projects.map((p) => p.id);
  artist = results<{ entities: Array<{ type: string; id: number }> }>(
    await h.direct(readPayload(SCRIPT_AUTH, 'HumanUser', [cond('login', 'is', SEEDED_PROFILE_LOGINS.lead)], ['id'])),
  ).entities[0];
  pc = results<{ entities: Array<{ type: string; id: number }> }>(await h.direct(readPayload(SCRIPT_AUTH, 'PipelineConfiguration', [], ['id']))).entities[0];
  await poll();
}, 120_000);
afterAll(async () => {
  await h?.close();
  await sqs?.close();
});

describe('EventLogEntry reads from the kept log', () => {
  let first: number;
  let del: number;

  it("serves tk-core's incremental and full-sync reads once the poller has read the events, identical to the site", async () => {
    first = await folderEvent('Toolkit_Folders_Create', p1, [11, 12]);
    // The caller's own event is beyond the last poll: its next read passes (read-your-writes), with the site's answer.
    expect(await same(incremental(SCRIPT_AUTH, p1, first - 1))).toMatchObject({ kind: 'pass', reason: 'event-log-ahead' });
    await folderEvent('Toolkit_Folders_Create', p2, [13]);
    await h.rpc({
      method_name: 'create',
      params: [SCRIPT_AUTH, createParams('EventLogEntry', { event_type: 'Toolkit_App_Startup', description: 'noise', project: link(p1) })],
    });
    del = await folderEvent('Toolkit_Folders_Delete', p1, [12]);
    await poll();
    const inc = await same(incremental(SCRIPT_AUTH, p1, first - 1));
    expect(inc).toMatchObject({ kind: 'hit', reason: 'access:event-log' });
    expect(ids(inc.body)).toEqual([first, del]);
    expect(JSON.parse(inc.body).results.entities[0].meta).toEqual({ core_api_version: 'HEAD', sg_folder_ids: [11, 12] });
    // Nothing new since the marker: the one row tk-core expects.
    expect(ids((await same(incremental(SCRIPT_AUTH, p1, del - 1))).body)).toEqual([del]);
    // The full sync's find_one: the newest matching id lies in the known part of the log, though older ids are not kept.
    const top = await same(newest(p1));
    expect(top).toMatchObject({ kind: 'hit', reason: 'access:event-log' });
    expect(ids(top.body)).toEqual([del]);
    // Nothing after the newest polled event (tk-core's sync when nothing is new): served, empty.
    const none = await same(incremental(SCRIPT_AUTH, p1, del));
    expect(none).toMatchObject({ kind: 'hit', reason: 'access:event-log' });
    expect(ids(none.body)).toEqual([]);
    // Other kept fields, the project link (named from the cached Project), and descending order.
    const wide = await same(incremental(SCRIPT_AUTH, p1, first - 1, ['event_type', 'project', 'created_at', 'attribute_name', 'session_uuid', 'meta']));
    expect(wide.kind).toBe('hit');
    expect(JSON.parse(wide.body).results.entities[0].project).toMatchObject({ type: 'Project', id: p1 });
  });

  it('an event created through the cache in a batch: reads of its range pass until the poller has read it (read-your-writes)', async () => {
    await poll();
    const top = ids((await same(newest(p2))).body)[0];
    const r = await h.rpc({
      method_name: 'batch',
      params: [
        SCRIPT_AUTH,
        batchParams([
          {
            request_type: 'create',
            entity_type: 'EventLogEntry',
            data: {
              event_type: 'Toolkit_Folders_Create',
              description: 'Toolkit HEAD: batch',
              project: link(p2),
              meta: { sg_folder_ids: [77] },
            },
          },
        ]),
      ],
    });
    const made = results<Array<{ id: number }>>(r)[0].id;
    const ahead = await same(incremental(SCRIPT_AUTH, p2, top));
    expect(ahead).toMatchObject({ kind: 'pass', reason: 'event-log-ahead' });
    expect(ids(ahead.body)).toEqual([made]);
    await poll();
    const served = await same(incremental(SCRIPT_AUTH, p2, top));
    expect(served).toMatchObject({ kind: 'hit', reason: 'access:event-log' });
    expect(ids(served.body)).toEqual([made]);
  });

  it('passes what the kept log cannot prove complete or does not hold', async () => {
    // Below the low watermark (events before the poller kept the log).
    expect(await same(incremental(SCRIPT_AUTH, p1, 0))).toMatchObject({ kind: 'pass', reason: 'event-log-incomplete' });
    // A field the kept rows cannot answer exactly (link names of any type), a type not kept, no project filter.
    expect(await same(incremental(SCRIPT_AUTH, p1, first - 1, ['id', 'entity']))).toMatchObject({ kind: 'pass', reason: 'event-log-field:entity' });
    expect(
      await same(
        readPayload(
          SCRIPT_AUTH,
          'EventLogEntry',
          [cond('event_type', 'is', 'Toolkit_App_Startup'), cond('project', 'is', link(p1)), cond('id', 'greater_than', first)],
          ['id'],
        ),
      ),
    ).toMatchObject({ kind: 'pass', reason: 'event-log-type:Toolkit_App_Startup' });
    expect(
      await same(readPayload(SCRIPT_AUTH, 'EventLogEntry', [cond('event_type', 'in', ...TK_TYPES), cond('id', 'greater_than', first)], ['id'])),
    ).toMatchObject({ kind: 'pass', reason: 'event-log-filter:project' });
  });

  it('an out-of-order commit: a read covering the late id passes until the poller has seen it, then is served with it', async () => {
    h.sim.control.holdEvents(1);
    const late = await folderEvent('Toolkit_Folders_Create', p1, [21]);
    const after = await folderEvent('Toolkit_Folders_Delete', p1, [21]);
    await poll();
    // The backlog id could match: the incremental read passes; the site does not show the late row yet either.
    const pending = await same(incremental(SCRIPT_AUTH, p1, del - 1));
    expect(pending).toMatchObject({ kind: 'pass', reason: 'event-log-backlog' });
    expect(ids(pending.body)).toEqual([del, after]);
    // find_one's newest row lies above the backlog id: known, served.
    expect(await same(newest(p1))).toMatchObject({ kind: 'hit', reason: 'access:event-log' });
    expect(h.sim.control.releaseEvents()).toBeGreaterThan(0);
    await poll();
    const served = await same(incremental(SCRIPT_AUTH, p1, del - 1));
    expect(served).toMatchObject({ kind: 'hit', reason: 'access:event-log' });
    expect(ids(served.body)).toEqual([del, late, after]);
  });

  it('a differential of find / find_one shapes over the kept log: every answer identical to the site, served where provable', async () => {
    await folderEvent('Toolkit_Folders_Create', p2, [51]);
    await folderEvent('Toolkit_Folders_Delete', p2, [51]);
    await poll();
    const tk = cond('event_type', 'in', ...TK_TYPES);
    const inP1 = cond('project', 'is', link(p1));
    const r = (conditions: unknown[], fields: string[], extra: Record<string, unknown> = {}) =>
      readPayload(SCRIPT_AUTH, 'EventLogEntry', conditions, fields, extra);
    const desc = { sorts: [{ field_name: 'id', direction: 'desc' }] };
    const page = (n: number, p = 1) => ({ paging: { entities_per_page: n, current_page: p } });
    const shapes = [
      r([tk, inP1, cond('id', 'greater_than', first - 1)], ['id', 'meta', 'event_type'], desc),
      r([tk, inP1, cond('id', 'greater_than', first - 1)], ['id'], { ...desc, ...page(2) }),
      r([tk, inP1, cond('id', 'greater_than', first - 1)], ['id'], { ...page(1, 2) }),
      r([tk, inP1, cond('id', 'greater_than', first - 1)], ['id'], { return_paging_info: true }),
      r([tk, inP1, cond('id', 'between', first, del)], ['event_type', 'meta']),
      r([tk, inP1, cond('id', 'in', first, del, del + 1000)], ['event_type']),
      r([tk, inP1, cond('id', 'is', del)], ['meta', 'created_at']),
      r([tk, inP1, cond('id', 'greater_than', first - 1), cond('id', 'less_than', del + 2)], ['id']),
      r([cond('event_type', 'is', 'Toolkit_Folders_Delete'), inP1, cond('id', 'greater_than', first - 1)], ['meta']),
      r([tk, cond('project', 'in', link(p1), link(p2)), cond('id', 'greater_than', first - 1)], ['project', 'event_type']),
      r([tk, inP1, cond('id', 'greater_than', first - 1)], ['id', 'project.Project.name', 'type'], { include_archived_projects: false }),
      r(
        [
          tk,
          inP1,
          cond('id', 'greater_than', first - 1),
          { logical_operator: 'or', conditions: [cond('attribute_name', 'is', null), cond('event_type', 'is', 'x')] },
        ],
        ['attribute_name'],
      ),
      r([tk, inP1, cond('id', 'greater_than', first - 1)], ['meta'], {
        sorts: [
          { field_name: 'created_at', direction: 'desc' },
          { field_name: 'id', direction: 'asc' },
        ],
      }),
      r([tk, inP1], ['id'], { ...desc, ...page(3) }),
      r([tk, inP1], ['id'], page(1)),
      r([tk, inP1, cond('id', 'greater_than', first - 1)], ['id'], { return_only: 'retired' }),
    ];
    const kinds: string[] = [];
    for (const payload of shapes) kinds.push(`${(await same(payload)).kind} ${(await h.rpc(payload)).headers['x-fpt-cache-reason']}`);
    // Every shape over the known part of the log is served (a desc page from the top holds 3 of p1's 4 known rows); an asc
    // read from below the window, and retired rows, pass.
    expect(kinds).toEqual([...Array(14).fill('hit access:event-log'), 'pass event-log-incomplete', 'pass event-log-filter:return_only']);
  });

  it('a caller is answered from the kept log only for projects whose events it sees as the script does (probed); elsewhere it gets what the site shows it', async () => {
    const own = await same(incremental(ARTIST, p1, first - 1));
    const hidden = await same(incremental(ARTIST, p2, first - 1));
    // The site hides the events of a project the artist is not assigned to: for one of the two it shows fewer than the script sees.
    const script = [
      ids((await same(incremental(SCRIPT_AUTH, p1, first - 1))).body).length,
      ids((await same(incremental(SCRIPT_AUTH, p2, first - 1))).body).length,
    ];
    expect(script.every((n) => n > 0)).toBe(true);
    expect(ids(own.body).length < script[0] || ids(hidden.body).length < script[1]).toBe(true);
    const [seen, unseen] = ids(own.body).length === script[0] ? [own, hidden] : [hidden, own];
    expect(seen).toMatchObject({ kind: 'hit', reason: 'access:event-log' });
    expect(unseen).toMatchObject({ kind: 'pass', reason: 'permission-restricted:EventLogEntry' });
    // An unrestricted user (probed like anyone else) is answered for both, identical to the site.
    const LEAD: AuthParams = { user_login: SEEDED_PROFILE_LOGINS.lead, user_password: DEFAULT_USER_PASSWORD };
    for (const p of [p1, p2]) expect(await same(incremental(LEAD, p, first - 1))).toMatchObject({ kind: 'hit', reason: 'access:event-log' });
  });

  it('a caller whose role hides a field of EventLogEntry is not answered from the kept log (a fresh container probes again)', async () => {
    h.sim.control.setPermissions({ [`user:${SEEDED_PROFILE_LOGINS.lead}`]: { projects: 'all', hiddenFields: { EventLogEntry: ['meta'] } } });
    try {
      const other = await h.another();
      const LEAD: AuthParams = { user_login: SEEDED_PROFILE_LOGINS.lead, user_password: DEFAULT_USER_PASSWORD };
      const payload = incremental(LEAD, p2, first - 1);
      const via = await other.rpc(payload);
      expect(via.headers['x-fpt-cache']).toBe('pass');
      expect(via.headers['x-fpt-cache-reason']).toBe('permission-restricted:EventLogEntry');
      expect(via.body.toString('utf8')).toBe((await h.direct(payload)).body.toString('utf8'));
    } finally {
      h.sim.control.setPermissions({ [`user:${SEEDED_PROFILE_LOGINS.lead}`]: { projects: 'all' } });
    }
  });

  it("bad params get the site's fault", async () => {
    const bad = readPayload(
      SCRIPT_AUTH,
      'EventLogEntry',
      [cond('event_type', 'in', ...TK_TYPES), cond('project', 'is', link(p1)), cond('id', 'greater_than', 'abc')],
      ['id'],
    );
    const r = await same(bad);
    expect(r.kind).toBe('pass');
    expect(fault(await h.rpc(bad)).exception).toBe(true);
    const unknown = readPayload(
      SCRIPT_AUTH,
      'EventLogEntry',
      [cond('event_type', 'in', ...TK_TYPES), cond('project', 'is', link(p1)), cond('no_such_field', 'is', 1)],
      ['id'],
    );
    expect((await same(unknown)).kind).toBe('pass');
  });

  it('a stale poller: the answer as of its last poll is not given once that poll is older than the limit', async () => {
    expect((await same(incremental(SCRIPT_AUTH, p1, del - 1))).kind).toBe('hit');
    await new Promise((r) => setTimeout(r, MAX_LAG_MS + 500));
    expect(await same(incremental(SCRIPT_AUTH, p1, del - 1))).toMatchObject({ kind: 'pass', reason: 'event-log-stale' });
    const status = async () =>
      ((await (await fetch(`${h.api.url}/status`, { headers: { 'x-fpt-cache-script-key': DEFAULT_SCRIPT.key } })).json()) as { eventLog: Record<string, any> })
        .eventLog;
    expect(await status()).toMatchObject({ types: TK_TYPES, serving: false, maxLagSeconds: MAX_LAG_MS / 1000, backlog: 0 });
    await poll();
    expect((await same(incremental(SCRIPT_AUTH, p1, del - 1))).kind).toBe('hit');
    const after = await status();
    expect(after.serving).toBe(true);
    expect(after.completeAfter).toBeLessThan(first);
    expect(after.lastPollSecondsAgo).toBeLessThan(MAX_LAG_MS / 1000);
  });
});

describe('durability', () => {
  it('a kept write that fails stops the poll before the cursor moves; the next poll keeps the event', async () => {
    const ddb = dynamo();
    // A lease of 1 ms: the failed run's lease is free again for the real poller at once.
    const lease = new PollerLease(DynamoDBDocumentClient.from(ddb), h.tables.state, 1);
    const before = (await lease.read()).cursor!;
    const id = await folderEvent('Toolkit_Folders_Create', p2, [41]);
    const quiet = NO_POLLER_METRICS;
    await expect(
      runPoller({
        lease,
        source: new ShotgunEventSource(h.site),
        sink: { send: async () => {} },
        schema: schema.site,
        metrics: quiet,
        pollIntervalMs: 10,
        deadline: Date.now() + 5_000,
        keep: {
          types: DEFAULT_KEPT_TYPES,
          retentionMs: 86_400_000,
          write: async () => {
            throw new Error('state table unavailable');
          },
        },
      }),
    ).rejects.toThrow('state table unavailable');
    expect((await lease.read()).cursor).toEqual(before);
    ddb.destroy();
    await poll();
    const served = await same(incremental(SCRIPT_AUTH, p2, id - 1));
    expect(served).toMatchObject({ kind: 'hit', reason: 'access:event-log' });
    expect(ids(served.body)).toEqual([id]);
  });

  it('a row too large to keep (poison for an item) moves the window past it, and the poller goes on', async () => {
    const big = await folderEvent(
      'Toolkit_Folders_Create',
      p2,
      Array.from({ length: 70_000 }, (_, i) => 1_000_000 + i),
    );
    const next = await folderEvent('Toolkit_Folders_Delete', p2, [1]);
    await poll();
    expect(await same(incremental(SCRIPT_AUTH, p2, big - 1))).toMatchObject({ kind: 'pass', reason: 'event-log-incomplete' });
    const later = await same(incremental(SCRIPT_AUTH, p2, next - 1));
    expect(later).toMatchObject({ kind: 'hit', reason: 'access:event-log' });
    expect(ids(later.body)).toEqual([next]);
  });
});
