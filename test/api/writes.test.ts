// Writes through the API: passed to the site with the caller's credentials, then in the cache at once (read-your-writes, no waiting for events).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createParams, updateParams, batchParams } from '../../shared/site/index.js';
import { PollerLease } from '../../shared/sync/index.js';
import { VERSION_STEP, WriteThrough, cursorWatermark, writeVersion } from '../../shared/reads/index.js';
import { EntityStore } from '../../shared/store/index.js';
import { dynamo, freshTables } from '../store/helpers.js';
import { SCRIPT_AUTH, cond, readPayload, results, schema, startHarness, type Harness } from './harness.js';

let h: Harness;
let project: { type: string; id: number; name: string };
let sequence: { type: string; id: number; name: string };
const USER_AUTH = { user_login: 'artist1', user_password: 'password' };
const HIT = { 'x-fpt-cache-require': 'hit' };
const SHOT_FIELDS = ['code', 'description', 'sg_status_list', 'sg_cut_in', 'sg_sequence', 'project', 'tasks', 'created_by', 'updated_at'];

beforeAll(async () => {
  h = await startHarness('api-writes');
  const seq = (
    results(await h.direct(readPayload(SCRIPT_AUTH, 'Sequence', [], ['code', 'project'], { paging: { entities_per_page: 1, current_page: 1 } }))) as {
      entities: any[];
    }
  ).entities[0];
  sequence = { type: 'Sequence', id: seq.id, name: seq.code };
  project = seq.project;
});
afterAll(async () => {
  await h?.close();
});

const rpc = (method: string, params: unknown, auth: Record<string, unknown> = USER_AUTH, headers?: Record<string, string>) =>
  h.rpc({ method_name: method, params: [auth, params] }, headers);

/** The same read through the API (must be a hit) and at the site: identical bytes. Returns the entities. */
async function readBoth(type: string, conditions: unknown[], fields: string[], extra: Record<string, unknown> = {}, auth: Record<string, unknown> = USER_AUTH) {
  const payload = readPayload(auth as never, type, conditions, fields, extra);
  const viaApi = await h.rpc(payload, HIT);
  expect(viaApi.headers['x-fpt-cache'], JSON.stringify(viaApi.json())).toBe('hit');
  const fromSite = await h.direct(payload);
  expect(viaApi.body.toString('utf8')).toBe(fromSite.body.toString('utf8'));
  return (results(viaApi) as { entities: Array<Record<string, any>> }).entities;
}

describe('read-your-writes', () => {
  it('create: the next read by the same client is a hit with the new entity', async () => {
    const r = await rpc(
      'create',
      createParams('Shot', { code: 'RYW_create', project, sg_sequence: sequence, description: 'new <b> & café', sg_cut_in: 1001 }, ['code']),
    );
    expect(r.headers['x-fpt-cache']).toBe('pass');
    expect(r.headers['x-fpt-cache-reason']).toBe('method:create');
    expect(r.headers['x-fpt-cache-write-through']).toBe('applied');
    const id = results(r).id as number;
    const rows = await readBoth('Shot', [cond('id', 'is', id)], SHOT_FIELDS);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ code: 'RYW_create', sg_cut_in: 1001, created_by: { type: 'HumanUser' } });
    // Also visible to index-driven reads (project, link slot).
    const inProject = await readBoth('Shot', [cond('project', 'is', project), cond('code', 'starts_with', 'RYW_create')], ['code']);
    expect(inProject.map((e) => e.id)).toEqual([id]);
    const inSequence = await readBoth('Shot', [cond('sg_sequence', 'is', sequence)], ['code']);
    expect(inSequence.map((e) => e.id)).toContain(id);
  });

  it('update: the next read sees the new values, and twice in a row (no cursor move in between)', async () => {
    const id = results(await rpc('create', createParams('Shot', { code: 'RYW_update', project }))).id as number;
    const u1 = await rpc('update', updateParams('Shot', id, { code: 'RYW_update_1', sg_status_list: 'ip' }));
    expect(u1.headers['x-fpt-cache-write-through']).toBe('applied');
    expect((await readBoth('Shot', [cond('id', 'is', id)], SHOT_FIELDS))[0]).toMatchObject({ code: 'RYW_update_1', sg_status_list: 'ip' });
    await rpc('update', updateParams('Shot', id, { code: 'RYW_update_2' }));
    expect((await readBoth('Shot', [cond('id', 'is', id)], SHOT_FIELDS))[0]).toMatchObject({ code: 'RYW_update_2', sg_status_list: 'ip' });
  });

  it('delete and revive: the entity leaves and re-enters active reads at once, and reads as retired meanwhile', async () => {
    const id = results(await rpc('create', createParams('Shot', { code: 'RYW_delete', project }))).id as number;
    await readBoth('Shot', [cond('id', 'is', id)], ['code']);
    const del = await rpc('delete', { type: 'Shot', id });
    expect(results(del)).toBe(true);
    expect(del.headers['x-fpt-cache-write-through']).toBe('applied');
    expect(await readBoth('Shot', [cond('id', 'is', id)], ['code'])).toEqual([]);
    expect((await readBoth('Shot', [cond('id', 'is', id)], ['code'], { return_only: 'retired' })).map((e) => e.id)).toEqual([id]);
    const rev = await rpc('revive', { type: 'Shot', id });
    expect(results(rev)).toBe(true);
    expect((await readBoth('Shot', [cond('id', 'is', id)], ['code'])).map((e) => e.id)).toEqual([id]);
    expect(await readBoth('Shot', [cond('id', 'is', id)], ['code'], { return_only: 'retired' })).toEqual([]);
  });

  it('a retired link target reads as null at once in the entities linking to it (link facts propagated)', async () => {
    const shotId = results(await rpc('create', createParams('Shot', { code: 'RYW_link', project }))).id as number;
    const taskId = results(await rpc('create', createParams('Task', { content: 'RYW task', entity: { type: 'Shot', id: shotId }, project }))).id as number;
    expect((await readBoth('Task', [cond('id', 'is', taskId)], ['content', 'entity']))[0].entity).toMatchObject({ id: shotId, name: 'RYW_link' });
    await rpc('update', updateParams('Shot', shotId, { code: 'RYW_link_renamed' }));
    expect((await readBoth('Task', [cond('id', 'is', taskId)], ['content', 'entity', 'entity.Shot.code']))[0].entity).toMatchObject({
      name: 'RYW_link_renamed',
    });
    await rpc('delete', { type: 'Shot', id: shotId });
    expect((await readBoth('Task', [cond('id', 'is', taskId)], ['content', 'entity']))[0].entity).toBeNull();
  });

  it('the other side of a connection follows at once: Shot.tasks, old and new Sequence.shots', async () => {
    const shotId = results(await rpc('create', createParams('Shot', { code: 'RYW_conn', project, sg_sequence: sequence }))).id as number;
    expect((await readBoth('Sequence', [cond('id', 'is', sequence.id)], ['code', 'shots']))[0].shots.map((l: any) => l.id)).toContain(shotId);
    const taskId = results(await rpc('create', createParams('Task', { content: 'RYW conn task', entity: { type: 'Shot', id: shotId }, project }))).id as number;
    expect((await readBoth('Shot', [cond('id', 'is', shotId)], ['code', 'tasks']))[0].tasks).toEqual([{ type: 'Task', id: taskId, name: 'RYW conn task' }]);
    const other = (
      results(
        await h.direct(
          readPayload(SCRIPT_AUTH, 'Sequence', [cond('id', 'is_not', sequence.id)], ['code'], { paging: { entities_per_page: 1, current_page: 1 } }),
        ),
      ) as { entities: any[] }
    ).entities[0];
    await rpc('update', updateParams('Shot', shotId, { sg_sequence: { type: 'Sequence', id: other.id } }));
    const seqs = await readBoth('Sequence', [cond('id', 'in', sequence.id, other.id)], ['code', 'shots']);
    expect(seqs.find((q) => q.id === sequence.id)!.shots.map((l: any) => l.id)).not.toContain(shotId);
    expect(seqs.find((q) => q.id === other.id)!.shots.map((l: any) => l.id)).toContain(shotId);
  });

  it('batch: every item lands in the cache, results split per item', async () => {
    const a = results(await rpc('create', createParams('Shot', { code: 'RYW_batch_a', project }))).id as number;
    const b = results(await rpc('create', createParams('Shot', { code: 'RYW_batch_b', project }))).id as number;
    const r = await rpc(
      'batch',
      batchParams([
        { request_type: 'create', entity_type: 'Shot', data: { code: 'RYW_batch_new', project, sg_sequence: sequence } },
        { request_type: 'update', entity_type: 'Shot', entity_id: a, data: { code: 'RYW_batch_a2', description: 'batched' } },
        { request_type: 'delete', entity_type: 'Shot', entity_id: b },
        { request_type: 'create', entity_type: 'Version', data: { code: 'RYW_batch_v', project, entity: { type: 'Shot', id: a } } },
      ]),
    );
    expect(r.headers['x-fpt-cache-write-through']).toBe('applied');
    const [created, , deleted, version] = results(r) as [Record<string, any>, unknown, boolean, Record<string, any>];
    expect(deleted).toBe(true);
    const rows = await readBoth('Shot', [cond('id', 'in', created.id, a, b)], SHOT_FIELDS);
    expect(rows.map((e) => [e.id, e.code])).toEqual(
      [
        [a, 'RYW_batch_a2'],
        [created.id, 'RYW_batch_new'],
      ].sort((x, y) => (x[0] as number) - (y[0] as number)),
    );
    expect((await readBoth('Shot', [cond('id', 'is', b)], ['code'], { return_only: 'retired' })).map((e) => e.id)).toEqual([b]);
    expect((await readBoth('Version', [cond('entity', 'is', { type: 'Shot', id: a })], ['code', 'entity'])).map((e) => e.id)).toEqual([version.id]);
  });

  it("a script's writes are read back with the cache's own credentials; a fault from the site is passed back untouched", async () => {
    const bad = await rpc('update', updateParams('Shot', 999999999, { code: 'nope' }));
    expect(bad.json()).toMatchObject({ exception: true });
    expect(bad.headers['x-fpt-cache-write-through']).toBe('not-applicable');
    const r = await rpc('create', createParams('Asset', { code: 'RYW_asset', project, sg_asset_type: 'Prop' }), SCRIPT_AUTH);
    expect((await readBoth('Asset', [cond('id', 'is', results(r).id)], ['code', 'sg_asset_type', 'created_by'], {}, SCRIPT_AUTH))[0]).toMatchObject({
      code: 'RYW_asset',
      created_by: { type: 'ApiUser' },
    });
  });
});

describe('write-through failures and versions', () => {
  it("a failed read-back never fails the client's write (logged, counted; the cache keeps its older state)", async () => {
    const id = results(await rpc('create', createParams('Shot', { code: 'RYW_fail', project }))).id as number;
    const failures = h.metrics.counts.WriteThroughFailures;
    h.sim.control.failNext({ kind: 'http503', method: 'read', count: 5 });
    const r = await rpc('update', updateParams('Shot', id, { code: 'RYW_fail_2' }));
    h.sim.control.clearFaults();
    expect(r.status).toBe(200);
    expect(results(r)).toMatchObject({ id, code: 'RYW_fail_2' });
    expect(r.headers['x-fpt-cache-write-through']).toBe('failed');
    expect(h.metrics.counts.WriteThroughFailures).toBe(failures + 1);
    const cached = await h.rpc(readPayload(USER_AUTH as never, 'Shot', [cond('id', 'is', id)], ['code']), HIT);
    expect(results(cached).entities[0].code).toBe('RYW_fail');
  });

  it('stamps a version no newer event can lose to, and no older one can beat', async () => {
    const id = results(await rpc('create', createParams('Shot', { code: 'RYW_version', project }))).id as number;
    const { cursor } = await new PollerLease(DynamoDBDocumentClient.from(h.store.ddb), h.tables.state, 0).read();
    const base = cursorWatermark(cursor!);
    // An event at or below the watermark was reflected by the read-back: stale.
    expect((await h.store.applyChange('Shot', id, { code: 'older' }, base)).status).toBe('stale');
    // The next event id is newer than any write-through at this watermark: it applies.
    expect((await h.store.applyChange('Shot', id, { code: 'newer-event' }, base + 1)).status).toBe('applied');
    expect((await h.store.get('Shot', id))!.record.values.code).toBe('newer-event');
  });

  it('versions: between base and base + 1, increasing with the counter; the watermark stops below missing ids', () => {
    expect(writeVersion(100, 1)).toBe(100.5 + VERSION_STEP);
    expect(writeVersion(100, 2)).toBeGreaterThan(writeVersion(100, 1));
    expect(writeVersion(2 ** 31, 2 ** 19 + 5)).toBeLessThan(2 ** 31 + 1);
    expect(writeVersion(2 ** 31, 3) - 2 ** 31).toBe(0.5 + 3 * VERSION_STEP);
    expect(cursorWatermark({ maxSeen: 50, backlog: {} })).toBe(50);
    expect(cursorWatermark({ maxSeen: 50, backlog: { 47: 1, 49: 1 } })).toBe(46);
  });

  it('a Shot created with a task_template gets its Tasks fetched and cached too', async () => {
    // The simulated site has no task templates: the site's side is played by a reader returning what a real site would.
    const ddb = dynamo();
    try {
      const tables = await freshTables(ddb, 'api-tasktemplate');
      const store = new EntityStore(ddb, tables, schema);
      const reads: Array<Record<string, any>> = [];
      const shot = { type: 'Shot', id: 9001, code: 'TT_010', project: { type: 'Project', id: 1, name: 'P' }, tasks: [{ type: 'Task', id: 77, name: 'Anim' }] };
      const task = {
        type: 'Task',
        id: 77,
        content: 'Anim',
        entity: { type: 'Shot', id: 9001, name: 'TT_010' },
        project: { type: 'Project', id: 1, name: 'P' },
      };
      const wt = new WriteThrough({
        schema,
        store,
        site: {
          async read(p) {
            reads.push(p);
            return p.type === 'Shot' ? [shot] : p.type === 'Task' ? [task] : [];
          },
        },
      });
      const out = await wt.apply(
        'create',
        createParams('Shot', { code: 'TT_010', project: shot.project, task_template: { type: 'TaskTemplate', id: 3 } }),
        { type: 'Shot', id: 9001 },
        10.5,
      );
      expect(out).toMatchObject({ written: 2, stale: 0 });
      expect(reads.map((p) => [p.type, p.filters.conditions[0]])).toEqual([
        ['Shot', { path: 'id', relation: 'in', values: [9001] }],
        ['Task', { path: 'entity', relation: 'is', values: [{ type: 'Shot', id: 9001 }] }],
      ]);
      expect((await store.get('Task', 77))!.record.values).toMatchObject({ content: 'Anim', entity: { type: 'Shot', id: 9001 } });
      expect((await store.get('Shot', 9001))!.record.values.code).toBe('TT_010');
    } finally {
      ddb.destroy();
    }
  });
});
