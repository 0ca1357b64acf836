// The API Lambda behind the local API Gateway, over HTTP: every method passes through to the simulated site unchanged, tagged.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimSite, type SimSite } from '../../local/sim/server.js';
import { startLocalApiGateway, type LocalApiGateway } from '../../local/api-gateway.js';
import { API_FUNCTION } from '../../local/functions.js';
import { freePort } from '../../local/ports.js';
import {
  authParams,
  batchParams,
  createParams,
  deleteParams,
  findPlan,
  reviveParams,
  rpcPayload,
  schemaFieldReadParams,
  summarizeParams,
  updateParams,
  type AuthParams,
} from '../../shared/site/index.js';
import { postRpc, httpRequest, type RawResponse } from './http.js';

let sim: SimSite;
let api: LocalApiGateway;
let auth: AuthParams;
let projectId: number;

async function gateway(shotgunUrl: string): Promise<LocalApiGateway> {
  return startLocalApiGateway({ port: 0, fn: API_FUNCTION.fn, handler: await API_FUNCTION.create({ SHOTGUN_URL: shotgunUrl, SHOTGUN_MAX_ATTEMPTS: '2' }) });
}

beforeAll(async () => {
  sim = await startSimSite({ port: 0, entities: 150 });
  api = await gateway(sim.url);
  auth = authParams({ scriptName: sim.credentials.scriptName, apiKey: sim.credentials.scriptKey });
  const projects = await postRpc(
    `${sim.url}/api3/json`,
    rpcPayload('read', auth, findPlan({ type: 'Project', fields: ['name'] }, { version: [8, 50, 0], recordsPerPage: 500 }).params),
  );
  projectId = (projects.json() as { results: { entities: Array<{ id: number }> } }).results.entities[0].id;
});
afterAll(async () => {
  await api.close();
  await sim.close();
});
beforeEach(() => {
  sim.control.reset();
});

const viaApi = (payload: unknown, headers?: Record<string, string>) => postRpc(`${api.url}/api3/json`, payload, headers);
const direct = (payload: unknown) => postRpc(`${sim.url}/api3/json`, payload);
const results = (r: RawResponse) => (r.json() as { results: unknown }).results;

function expectPass(r: RawResponse, reason: string): void {
  expect(r.status).toBe(200);
  expect(r.headers['x-fpt-cache']).toBe('pass');
  expect(r.headers['x-fpt-cache-reason']).toBe(reason);
  expect(r.headers['content-type']).toMatch(/^application\/json/);
}

describe('API pass-through over HTTP', () => {
  it.each(['info', 'read', 'schema_read', 'schema_entity_read', 'schema_field_read', 'summarize'] as const)(
    "passes %s through with the site's exact reply",
    async (method) => {
      const payloads: Record<string, unknown> = {
        info: rpcPayload('info', undefined),
        read: rpcPayload(
          'read',
          auth,
          findPlan(
            {
              type: 'Shot',
              filters: [['project', 'is', { type: 'Project', id: projectId }]],
              fields: ['code', 'project'],
              order: [{ field_name: 'code', direction: 'desc' }],
            },
            { version: [8, 50, 0], recordsPerPage: 500 },
          ).params,
        ),
        schema_read: rpcPayload('schema_read', auth),
        schema_entity_read: rpcPayload('schema_entity_read', auth),
        schema_field_read: rpcPayload('schema_field_read', auth, schemaFieldReadParams('Shot', 'code')),
        summarize: rpcPayload(
          'summarize',
          auth,
          summarizeParams('Task', [], [{ field: 'id', type: 'count' }], { grouping: [{ field: 'sg_status_list', type: 'exact', direction: 'asc' }] }),
        ),
      };
      const payload = payloads[method];
      const viaProxy = await viaApi(payload);
      const fromSite = await direct(payload);
      expectPass(viaProxy, method === 'read' || method === 'summarize' ? 'read-engine-not-ready' : `method:${method}`);
      // info too is the site's own reply byte for byte; the cache names itself in a header (docs/api.md).
      expect(viaProxy.body.equals(fromSite.body)).toBe(true);
      if (method === 'info') expect(viaProxy.headers['x-fpt-cache-version']).toEqual(expect.any(String));
      expect(results(viaProxy)).toBeTruthy();
    },
  );

  it('passes writes through once each: create, update, delete, revive, batch', async () => {
    const created = await viaApi(rpcPayload('create', auth, createParams('Shot', { code: 'via-api', project: { type: 'Project', id: projectId } }, ['code'])));
    expectPass(created, 'method:create');
    const shot = results(created) as { id: number; code: string; type: string };
    expect(shot).toMatchObject({ type: 'Shot', code: 'via-api' });

    const updated = await viaApi(rpcPayload('update', auth, updateParams('Shot', shot.id, { code: 'via-api-2' })));
    expectPass(updated, 'method:update');
    expect(results(updated)).toMatchObject({ id: shot.id, code: 'via-api-2' });

    const deleted = await viaApi(rpcPayload('delete', auth, deleteParams('Shot', shot.id)));
    expectPass(deleted, 'method:delete');
    expect(results(deleted)).toBe(true);

    const revived = await viaApi(rpcPayload('revive', auth, reviveParams('Shot', shot.id)));
    expectPass(revived, 'method:revive');
    expect(results(revived)).toBe(true);

    const batch = await viaApi(
      rpcPayload(
        'batch',
        auth,
        batchParams([
          { request_type: 'create', entity_type: 'Shot', data: { code: 'batch-1', project: { type: 'Project', id: projectId } } },
          { request_type: 'update', entity_type: 'Shot', entity_id: shot.id, data: { code: 'via-batch' } },
        ]),
      ),
    );
    expectPass(batch, 'method:batch');
    expect(results(batch)).toMatchObject([{ type: 'Shot' }, { id: shot.id, code: 'via-batch' }]);

    const stats = sim.control.stats().byMethod as Record<string, number>;
    expect(stats).toMatchObject({ create: 1, update: 1, delete: 1, revive: 1, batch: 1 });
    // The site holds what the API wrote.
    const check = await direct(
      rpcPayload(
        'read',
        auth,
        findPlan({ type: 'Shot', filters: [['id', 'is', shot.id]], fields: ['code'] }, { version: [8, 50, 0], recordsPerPage: 500 }).params,
      ),
    );
    expect((results(check) as { entities: unknown[] }).entities).toEqual([{ type: 'Shot', id: shot.id, code: 'via-batch' }]);
  });

  it("passes an unknown method's fault through unchanged", async () => {
    const payload = rpcPayload('no_such_method', auth, { x: 1 });
    const r = await viaApi(payload);
    expectPass(r, 'method:no_such_method');
    expect(r.json()).toMatchObject({ exception: true });
    expect(r.body.equals((await direct(payload)).body)).toBe(true);
  });

  it('gzips replies for clients that accept it, and not for the others', async () => {
    const payload = rpcPayload('schema_read', auth);
    const zipped = await viaApi(payload);
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.raw.length).toBeLessThan(zipped.body.length);
    const plain = await viaApi(payload, { 'accept-encoding': 'identity' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.raw.equals(zipped.body)).toBe(true);
  });

  it("passes a read that hit a 502 after the site retried it; a create's 502 goes back to the client as is", async () => {
    sim.control.failNext({ kind: 'http502', method: 'read' });
    const read = await viaApi(rpcPayload('read', auth, findPlan({ type: 'Shot', limit: 1 }, { version: [8, 50, 0], recordsPerPage: 500 }).params));
    expectPass(read, 'read-engine-not-ready');
    expect((results(read) as { entities: unknown[] }).entities).toHaveLength(1);

    sim.control.failNext({ kind: 'http502', method: 'create' });
    const create = await viaApi(rpcPayload('create', auth, createParams('Shot', { code: 'x', project: { type: 'Project', id: projectId } })));
    expect(create.status).toBe(502);
    expect(create.headers['x-fpt-cache']).toBe('pass');
    expect((sim.control.stats().byMethod as Record<string, number>).create).toBe(1);
  });
});

describe('API faults for bad input and an unreachable site', () => {
  const fault = (r: RawResponse) => r.json() as { exception: boolean; error_code: number; message: string };

  it.each([
    ['bad JSON', '{"method_name": "read", ', 'application/json', /not valid JSON/],
    ['no method_name', '{"params": []}', 'application/json', /no method_name/],
    ['an empty body', '', 'application/json', /no body/],
    ['wrong content type', '{"method_name": "info", "params": []}', 'text/plain', /must be JSON/],
    ['params not a list', '{"method_name": "read", "params": {"a": 1}}', 'application/json', /malformed request/],
  ])('answers %s with fault 103', async (_what, body, contentType, message) => {
    const r = await httpRequest(`${api.url}/api3/json`, { headers: { 'content-type': contentType }, body });
    expect(r.status).toBe(200);
    expect(fault(r)).toMatchObject({ exception: true, error_code: 103 });
    expect(fault(r).message).toMatch(message);
    expect(r.headers['x-fpt-cache']).toBe('error');
    expect(sim.control.stats().requests as number).toBe(0);
  });

  it('answers other paths with a fault and GET /status with the pass-through status', async () => {
    const elsewhere = await httpRequest(`${api.url}/not-the-api`, {
      headers: { 'content-type': 'application/json' },
      body: '{"method_name":"info","params":[]}',
    });
    expect(fault(elsewhere)).toMatchObject({ exception: true, error_code: 103 });
    expect(fault(elsewhere).message).toMatch(/only POST <base>\/api3\/json .* not POST \/not-the-api/);
    const status = await httpRequest(`${api.url}/status`, { method: 'GET' });
    expect(status.json()).toEqual({ ready: true, mode: 'pass-through' });
    expect(sim.control.stats().requests as number).toBe(0);
  });

  it('answers fault 1003 with a clear message when the site cannot be reached', async () => {
    const nowhere = await freePort();
    const lost = await gateway(`http://127.0.0.1:${nowhere}`);
    try {
      const r = await postRpc(`${lost.url}/api3/json`, rpcPayload('read', auth, { type: 'Shot' }));
      expect(r.status).toBe(200);
      const f = fault(r);
      expect(f).toMatchObject({ exception: true, error_code: 1003 });
      expect(f.message).toBe(`fpt-cache: the Shotgun site http://127.0.0.1:${nowhere} could not be reached (read).`);
      expect(r.headers['x-fpt-cache']).toBe('pass');
    } finally {
      await lost.close();
    }
  });

  it('warns that a create may have been applied when the connection dropped after sending it', async () => {
    sim.control.failNext({ kind: 'reset', method: 'create', after: true });
    const r = await viaApi(rpcPayload('create', auth, createParams('Shot', { code: 'dropped', project: { type: 'Project', id: projectId } })));
    const f = fault(r);
    expect(f.error_code).toBe(1003);
    expect(f.message).toMatch(/dropped the connection \(create\)\. The request may have been applied/);
    expect(f.message).not.toMatch(/\n\s+at /);
  });
});
