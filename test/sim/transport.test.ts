// The simulated site's transport and envelope: info, gzip, keep-alive, and the fault shape for every class of malformed request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, Agent } from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { SimSite } from '../../local/sim/server.js';
import { DEFAULT_SCRIPT } from '../../local/sim/credentials.js';
import { postRaw } from '../support/api3-client.js';
import { startTestSite } from '../support/sim-site.js';

const AUTH = { script_name: DEFAULT_SCRIPT.name, script_key: DEFAULT_SCRIPT.key };
let site: SimSite;

beforeAll(async () => {
  site = await startTestSite();
});
afterAll(async () => {
  await site.close();
});

function rawPost(
  body: string,
  headers: Record<string, string>,
  agent?: Agent,
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer; localPort: number | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${site.url}/api3/json`,
      { method: 'POST', agent, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), localPort: req.socket?.localPort }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function expectFault(json: unknown, code: number, message?: RegExp): void {
  expect(json).toMatchObject({ exception: true, error_code: code });
  const msg = (json as { message: string }).message;
  expect(typeof msg).toBe('string');
  expect(msg).not.toMatch(/\n\s+at /); // never a stack trace
  if (message) expect(msg).toMatch(message);
}

describe('info and the envelope', () => {
  it('answers info without auth, wrapped in results', async () => {
    const r = await postRaw(site.url, JSON.stringify({ method_name: 'info', params: [] }));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(r.json).toEqual({
      results: {
        version: [8, 50, 0],
        full_version: [8, 50, 0, 0],
        api_max_entities_per_page: 500,
        s3_uploads_enabled: false,
        s3_direct_uploads_enabled: false,
        s3_enabled_upload_types: {},
        user_authentication_method: 'default',
      },
    });
  });

  it('reports 7.3.0 while the legacy switch is on', async () => {
    site.control.setLegacyVersion(true);
    try {
      const r = await postRaw(site.url, JSON.stringify({ method_name: 'info', params: [] }));
      expect((r.json as { results: { version: number[]; full_version: number[] } }).results).toMatchObject({ version: [7, 3, 0], full_version: [7, 3, 0, 0] });
    } finally {
      site.control.setLegacyVersion(false);
    }
  });

  it('gzips when the request accepts it, and not otherwise', async () => {
    const body = JSON.stringify({ method_name: 'schema_entity_read', params: [AUTH] });
    const zipped = await rawPost(body, { 'accept-encoding': 'gzip, deflate' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(Number(zipped.headers['content-length'])).toBe(zipped.body.length);
    const results = (JSON.parse(gunzipSync(zipped.body).toString('utf8')) as { results: Record<string, unknown> }).results;
    expect(results.Shot).toEqual({ name: { value: 'Shot', editable: false }, visible: { value: true, editable: false } });
    const plain = await rawPost(body, {});
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(plain.body.toString('utf8'))).toEqual({ results });
  });

  it('keeps the connection alive across calls (one socket)', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const body = JSON.stringify({ method_name: 'info', params: [] });
      const a = await rawPost(body, { connection: 'keep-alive' }, agent);
      const b = await rawPost(body, { connection: 'keep-alive' }, agent);
      expect(a.headers.connection).toBe('keep-alive');
      expect(b.status).toBe(200);
      expect(a.localPort).toBeDefined();
      expect(b.localPort).toBe(a.localPort);
    } finally {
      agent.destroy();
    }
  });

  it('answers other paths with 404 and other verbs with 405', async () => {
    const r = await fetch(`${site.url}/api3/other`, { method: 'POST', body: '{}' });
    expect(r.status).toBe(404);
    const g = await fetch(`${site.url}/api3/json`);
    expect(g.status).toBe(405);
  });
});

describe('malformed requests get the fault shape, never a crash', () => {
  const cases: Array<[string, string, number, RegExp]> = [
    ['bad JSON', '{"method_name": "read", "params": [', 103, /Invalid JSON/],
    ['a JSON array body', '[1, 2]', 103, /Invalid JSON-RPC request/],
    ['no method_name', JSON.stringify({ params: [] }), 103, /method_name/],
    ['params not an array', JSON.stringify({ method_name: 'read', params: { type: 'Shot' } }), 103, /params/],
    ['more than two params', JSON.stringify({ method_name: 'read', params: [AUTH, {}, {}] }), 103, /params/],
    ['an unknown method', JSON.stringify({ method_name: 'frobnicate', params: [AUTH] }), 103, /Unknown method 'frobnicate'/],
    ['no auth', JSON.stringify({ method_name: 'read', params: [] }), 102, /Authentication failed/],
    ['auth of the wrong type', JSON.stringify({ method_name: 'read', params: ['me'] }), 102, /Authentication failed/],
    ['read without params', JSON.stringify({ method_name: 'read', params: [AUTH] }), 103, /API read\(\) invalid parameters/],
    ['read with a numeric type', JSON.stringify({ method_name: 'read', params: [AUTH, { type: 7 }] }), 103, /type/],
    ['read of an unknown entity type', JSON.stringify({ method_name: 'read', params: [AUTH, { type: 'Spaceship' }] }), 103, /Spaceship/],
    [
      'read with an unknown filter field',
      JSON.stringify({
        method_name: 'read',
        params: [AUTH, { type: 'Shot', filters: { logical_operator: 'and', conditions: [{ path: 'sg_nope', relation: 'is', values: [1] }] } }],
      }),
      103,
      /sg_nope/,
    ],
    ['create of an unknown entity type', JSON.stringify({ method_name: 'create', params: [AUTH, { type: 'Spaceship', fields: [] }] }), 103, /Spaceship/],
    [
      'create with an unknown field',
      JSON.stringify({ method_name: 'create', params: [AUTH, { type: 'Shot', fields: [{ field_name: 'sg_nope', value: 1 }] }] }),
      103,
      /Shot\.sg_nope doesn't exist/,
    ],
    [
      'create with a wrong value type',
      JSON.stringify({ method_name: 'create', params: [AUTH, { type: 'Shot', fields: [{ field_name: 'sg_cut_in', value: 'ten' }] }] }),
      103,
      /Shot\.sg_cut_in.*not an integer/,
    ],
    ['update with fields not a list', JSON.stringify({ method_name: 'update', params: [AUTH, { type: 'Shot', id: 1, fields: 'code' }] }), 103, /fields/],
    ['batch with an object instead of a list', JSON.stringify({ method_name: 'batch', params: [AUTH, { request_type: 'create' }] }), 103, /list of requests/],
    ['batch with an unknown request_type', JSON.stringify({ method_name: 'batch', params: [AUTH, [{ request_type: 'upsert', type: 'Shot' }]] }), 103, /batch/],
    ['schema_field_read of an unknown type', JSON.stringify({ method_name: 'schema_field_read', params: [AUTH, { type: 'Spaceship' }] }), 103, /Spaceship/],
  ];
  it.each(cases)('%s', async (_name, body, code, message) => {
    const r = await postRaw(site.url, body);
    expect(r.status).toBe(200);
    expectFault(r.json, code, message);
  });

  it('still serves normally afterwards', async () => {
    const r = await postRaw(
      site.url,
      JSON.stringify({ method_name: 'read', params: [AUTH, { type: 'Step', return_fields: ['code'], paging: { entities_per_page: 2, current_page: 1 } }] }),
    );
    expect((r.json as { results: { entities: unknown[] } }).results.entities).toHaveLength(2);
  });
});
