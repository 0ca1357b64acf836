// Transport: every class of malformed input answered with a fault (never a crash), request and reply size limits, file-transfer relays.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Logger } from '@aws-lambda-powertools/logger';
import { createApiHandler } from '../../functions/api/app.js';
import { jsonDepthExceeds } from '../../functions/api/request.js';
import { estimateReadReply } from '../../functions/api/reply.js';
import { startLocalApiGateway, type LocalApiGateway } from '../../local/api-gateway.js';
import { API_FUNCTION } from '../../local/functions.js';
import { randomBytes } from 'node:crypto';
import { httpRequest, type RawResponse } from '../stack/http.js';
import { SCRIPT_AUTH, cond, fault, readPayload, results, startHarness, type Harness } from './harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness('api-transport', { sim: { entities: 120 } });
});
afterAll(async () => {
  await h?.close();
});

const raw = (body: string | Buffer, contentType = 'application/json; charset=utf-8', headers: Record<string, string> = {}) =>
  httpRequest(`${h.api.url}/api3/json`, { headers: { 'content-type': contentType, 'accept-encoding': 'gzip', ...headers }, body });

function expectFault(r: RawResponse, code: number, message?: RegExp): void {
  expect(r.status).toBe(200);
  const f = fault(r);
  expect(f).toMatchObject({ exception: true, error_code: code });
  if (message) expect(f.message).toMatch(message);
  expect(f.message).not.toMatch(/\n\s+at /);
}

describe("malformed input: a fault in the site's shape, never a crash", () => {
  it.each([
    ['bad JSON', '{"method_name": "read", "params": [', /not valid JSON/],
    ['not an object', '[1, 2, 3]', /no method_name/],
    ['method_name of the wrong type', '{"method_name": 5, "params": []}', /no method_name/],
    ['params of the wrong type', '{"method_name": "read", "params": "x"}', /malformed request/],
    ['wrong arity (three params)', JSON.stringify({ method_name: 'read', params: [SCRIPT_AUTH, {}, {}] }), /malformed request/],
    ['an empty body', '', /no body/],
  ])("%s: fpt-cache's own fault 103, the site not asked", async (_what, body, message) => {
    const before = h.sim.control.stats().requests;
    const r = await raw(body);
    expectFault(r, 103, message);
    expect(r.headers['x-fpt-cache']).toBe('error');
    expect(h.sim.control.stats().requests).toBe(before);
  });

  it('a wrong content type is refused', async () => {
    expectFault(await raw(JSON.stringify({ method_name: 'info', params: [] }), 'text/plain'), 103, /must be JSON/);
    expectFault(await raw('a=1&b=2', 'application/x-www-form-urlencoded'), 103, /must be JSON/);
  });

  it.each([
    ['read params of the wrong type', { method_name: 'read', params: [SCRIPT_AUTH, 'Shot'] }, 'malformed-params'],
    ['a wrong field type in read params', { method_name: 'read', params: [SCRIPT_AUTH, { type: 5, return_fields: 'code' }] }, 'malformed-params'],
    ['an unknown operator', readPayload(SCRIPT_AUTH, 'Shot', [cond('code', 'frobnicate', 'x')], ['code']), 'operator:frobnicate'],
    ['the wrong number of values', readPayload(SCRIPT_AUTH, 'Shot', [cond('code', 'is', 'a', 'b')], ['code']), 'invalid-request'],
    ['an unknown field', readPayload(SCRIPT_AUTH, 'Shot', [cond('sg_nope', 'is', 'a')], ['code']), 'uncached-field:Shot.sg_nope'],
    ['an unknown method', { method_name: 'frobnicate', params: [SCRIPT_AUTH, {}] }, 'method:frobnicate'],
    ['create params of the wrong type', { method_name: 'create', params: [SCRIPT_AUTH, { type: 'Shot', fields: 'code' }] }, 'method:create'],
  ])("%s: passed through, the site's own fault comes back", async (_what, payload, reason) => {
    const r = await h.rpc(payload);
    expect(r.headers['x-fpt-cache']).toBe('pass');
    expect(r.headers['x-fpt-cache-reason']).toBe(reason);
    expect(fault(r)).toMatchObject({ exception: true, error_code: 103 });
    expect(r.body.equals((await h.direct(payload)).body)).toBe(true);
  });

  it('deep nesting is refused before parsing, at any depth', async () => {
    for (const depth of [65, 5_000, 200_000]) {
      const filters = '['.repeat(depth) + ']'.repeat(depth);
      expectFault(await raw(`{"method_name": "read", "params": [{}, {"type": "Shot", "filters": ${filters}}]}`), 103, /deeper than 64 levels/);
    }
    // Brackets inside strings do not count.
    expect(jsonDepthExceeds(Buffer.from(JSON.stringify({ a: '[[[[[[[[[[[[', b: '\\"[[[[' })), 3)).toBe(false);
    expect(jsonDepthExceeds(Buffer.from('[[[[1]]]]'), 3)).toBe(true);
  });

  it('a body over the request limit is refused with a fault naming the limit', async () => {
    const payload = {
      method_name: 'create',
      params: [SCRIPT_AUTH, { type: 'Shot', fields: [{ field_name: 'description', value: 'x'.repeat(5 * 1024 * 1024) }] }],
    };
    const before = h.sim.control.stats().requests;
    expectFault(await raw(JSON.stringify(payload)), 103, /over the 4194304-byte limit/);
    expect(h.sim.control.stats().requests).toBe(before);
  });

  it('still answers normally after all of that', async () => {
    const r = await h.rpc(readPayload(SCRIPT_AUTH, 'Project', [], ['name']));
    expect(r.headers['x-fpt-cache']).toBe('hit');
    expect(results(r).entities.length).toBeGreaterThan(0);
    expect(h.metrics.counts.ApiFaults).toBeGreaterThan(5);
  });
});

describe('replies that would not fit a Lambda reply', () => {
  it('estimates a read reply from a sample of its entities', () => {
    const entities = Array.from({ length: 1000 }, (_, i) => ({ type: 'Shot', id: i, code: `sh${i}`, description: 'd'.repeat(100 + (i % 7)) }));
    const e = estimateReadReply({ entities });
    const actual = Buffer.byteLength(JSON.stringify({ results: { entities } }));
    expect(Math.abs(e.raw - actual) / actual).toBeLessThan(0.03);
    expect(e.escaped).toBeGreaterThan(e.raw);
  });

  it('refuses a hit over 6 MB with fault 1002, before building it (plain) or after compressing it (gzip)', async () => {
    // 450 Shots with 16 KB of incompressible text each (~7 MB), in a project of their own.
    const project = { type: 'Project', id: 990001, name: 'Huge' };
    const ids = Array.from({ length: 450 }, (_, i) => 900000 + i);
    for (let i = 0; i < ids.length; i += 50) {
      await Promise.all(
        ids.slice(i, i + 50).map((id) =>
          h.store.putEntity(
            {
              type: 'Shot',
              id,
              retired: false,
              values: { code: `huge_${id}`, project, description: randomBytes(12 * 1024).toString('base64') },
            },
            1,
          ),
        ),
      );
    }
    const payload = readPayload(SCRIPT_AUTH, 'Shot', [cond('project', 'is', project)], ['code', 'description']);
    const plain = await h.rpc(payload, { 'accept-encoding': 'identity' });
    expectFault(plain, 1002, /^fpt-cache: the reply to this read would be about \d+\.\d MB \(450 entities\), over the 6\.0 MB an API reply can carry/);
    // Incompressible text: the estimate lets a gzip client try, the compressed reply is measured and refused.
    const zipped = await h.rpc(payload);
    expectFault(zipped, 1002, /^fpt-cache: this reply would be about \d+\.\d MB, over the 6\.0 MB/);
    // A page of it fits.
    const page = await h.rpc(
      readPayload(SCRIPT_AUTH, 'Shot', [cond('project', 'is', project)], ['code', 'description'], { paging: { entities_per_page: 50, current_page: 1 } }),
    );
    expect(page.headers['x-fpt-cache']).toBe('hit');
    expect(results(page).entities).toHaveLength(50);
  });
});

describe('file transfers (/upload, /thumbnail, /file_serve)', () => {
  let site: Server;
  let api: LocalApiGateway;
  const seen: Array<{ method: string; url: string; cookie?: string; contentType?: string; body: string }> = [];

  beforeAll(async () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 7);
    site = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({
          method: req.method!,
          url: req.url!,
          cookie: req.headers.cookie,
          contentType: req.headers['content-type'],
          body: Buffer.concat(chunks).toString('latin1'),
        });
        if (req.url === '/file_serve/attachment/5') {
          res.writeHead(302, { location: 'https://storage.example/signed?sig=abc' }).end();
        } else if (req.url === '/thumbnail/image/6') {
          res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]));
        } else if (req.url === '/file_serve/attachment/7') {
          res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(big);
        } else if (req.url === '/upload/api_get_upload_link_info') {
          res.writeHead(200, { 'content-type': 'text/plain' }).end('1\nhttps://storage.example/put\n2025-01-01\nAttachment\nabc');
        } else {
          res.writeHead(404).end('not here');
        }
      });
    });
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    const handler = createApiHandler({ shotgun: { url, timeoutMs: 5_000, maxAttempts: 1 }, logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }) });
    api = await startLocalApiGateway({ port: 0, fn: API_FUNCTION.fn, handler });
  });
  afterAll(async () => {
    await api?.close();
    site?.closeAllConnections();
    await new Promise<void>((r) => site.close(() => r()));
  });

  it("relays a download with its session cookie and hands back the site's own redirect", async () => {
    const r = await httpRequest(`${api.url}/file_serve/attachment/5`, { method: 'GET', headers: { cookie: '_session_id=tok123' } });
    expect(r.status).toBe(302);
    expect(r.headers.location).toBe('https://storage.example/signed?sig=abc');
    expect(r.headers['x-fpt-cache']).toBe('pass');
    expect(seen.at(-1)).toMatchObject({ method: 'GET', url: '/file_serve/attachment/5', cookie: '_session_id=tok123' });
  });

  it('relays small bytes as they are, and redirects to the site when they would not fit a reply', async () => {
    const thumb = await httpRequest(`${api.url}/thumbnail/image/6`, { method: 'GET' });
    expect(thumb.status).toBe(200);
    expect(thumb.headers['content-type']).toBe('image/png');
    expect([...thumb.body]).toEqual([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]);
    const big = await httpRequest(`${api.url}/file_serve/attachment/7`, { method: 'GET' });
    expect(big.status).toBe(302);
    expect(big.headers.location).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/file_serve\/attachment\/7$/);
  });

  it('relays an upload form (POST) with its body and content type, instead of a redirect urllib would not follow', async () => {
    const form = 'upload_type=Attachment&filename=a.mov&script_name=s&script_key=k';
    const r = await httpRequest(`${api.url}/upload/api_get_upload_link_info`, { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('1\nhttps://storage.example/put\n2025-01-01\nAttachment\nabc');
    expect(seen.at(-1)).toMatchObject({
      method: 'POST',
      url: '/upload/api_get_upload_link_info',
      contentType: 'application/x-www-form-urlencoded',
      body: form,
    });
    const missing = await httpRequest(`${api.url}/upload/nothing`, {
      headers: { 'content-type': 'multipart/form-data; boundary=x' },
      body: Buffer.from([0, 1, 2]),
    });
    expect(missing.status).toBe(404);
    expect(seen.at(-1)!.body).toBe('\u0000\u0001\u0002');
  });
});
