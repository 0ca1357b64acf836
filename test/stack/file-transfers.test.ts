// Uploads, downloads and the site's extra methods with the simulated site, straight and through the API Lambda behind the local API Gateway: the same replies, the same bytes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { startSimSite, type SimSite } from '../../local/sim/server.js';
import { startLocalApiGateway, type LocalApiGateway } from '../../local/api-gateway.js';
import { API_FUNCTION } from '../../local/functions.js';
import { PENDING_PATH } from '../../local/sim/media-urls.js';
import { authParams, findPlan, rpcPayload, type AuthParams } from '../../shared/site/index.js';
import { httpRequest, postRpc, type RawResponse } from './http.js';

let sim: SimSite;
let api: LocalApiGateway;
let auth: AuthParams;
let version: { type: string; id: number };
let session: string;

beforeAll(async () => {
  sim = await startSimSite({ port: 0, entities: 150 });
  api = await startLocalApiGateway({ port: 0, fn: API_FUNCTION.fn, handler: await API_FUNCTION.create({ SHOTGUN_URL: sim.url, SHOTGUN_MAX_ATTEMPTS: '2' }) });
  auth = authParams({ scriptName: sim.credentials.scriptName, apiKey: sim.credentials.scriptKey });
  const read = await postRpc(
    `${sim.url}/api3/json`,
    rpcPayload('read', auth, findPlan({ type: 'Version', fields: ['code'] }, { version: [8, 50, 0], recordsPerPage: 1 }).params),
  );
  const v = (read.json() as { results: { entities: Array<{ id: number }> } }).results.entities[0];
  version = { type: 'Version', id: v.id };
  session = ((await postRpc(`${sim.url}/api3/json`, rpcPayload('get_session_token', auth))).json() as { results: { session_id: string } }).results.session_id;
});
afterAll(async () => {
  await api.close();
  await sim.close();
});

/** A multipart form as shotgun_api3's FormPostHandler writes it (fields, then files with their own length header). */
function form(fields: Record<string, string>, files: Record<string, { name: string; type: string; data: Buffer }>): { body: Buffer; contentType: string } {
  const b = `b${randomBytes(8).toString('hex')}`;
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) parts.push(Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`));
  for (const [k, f] of Object.entries(files)) {
    parts.push(
      Buffer.from(
        `--${b}\r\nContent-Disposition: form-data; name="${k}"; filename="${f.name}"\r\nContent-Type: ${f.type}\r\nContent-Length: ${f.data.length}\r\n\r\n`,
      ),
      f.data,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${b}--\r\n\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${b}` };
}

const scriptFields = () => ({ script_name: sim.credentials.scriptName, script_key: sim.credentials.scriptKey });

function upload(base: string, path: string, fields: Record<string, string>, files: Parameters<typeof form>[1]): Promise<RawResponse> {
  const f = form({ ...scriptFields(), ...fields }, files);
  return httpRequest(`${base}${path}`, { headers: { 'content-type': f.contentType }, body: f.body });
}

async function readOne(base: string, type: string, id: number, fields: string[]): Promise<Record<string, unknown>> {
  const r = await postRpc(
    `${base}/api3/json`,
    rpcPayload('read', auth, findPlan({ type, filters: [['id', 'is', id]], fields }, { version: [8, 50, 0], recordsPerPage: 1 }).params),
  );
  return (r.json() as { results: { entities: Array<Record<string, unknown>> } }).results.entities[0];
}

describe.each([
  ['straight', () => sim.url],
  ['through the cache', () => api.url],
] as const)('file transfers %s', (_label, base) => {
  it('uploads a file into a url field (link_type upload) and downloads the same bytes; an unknown attachment is 400, a bad session cookie 403', async () => {
    const bytes = randomBytes(300_000);
    const up = await upload(
      base(),
      '/upload/upload_file',
      { entity_type: 'Version', entity_id: String(version.id), field_name: 'sg_uploaded_movie', display_name: 'clip.mov' },
      { file: { name: 'clip.mov', type: 'video/quicktime', data: bytes } },
    );
    expect(up.status).toBe(200);
    const id = Number(/^1:(\d+)\n$/.exec(up.body.toString())?.[1]);
    expect(id).toBeGreaterThan(0);
    const movie = (await readOne(base(), 'Version', version.id, ['sg_uploaded_movie'])).sg_uploaded_movie as Record<string, unknown>;
    expect(movie).toMatchObject({ type: 'Attachment', id, link_type: 'upload', name: 'clip.mov', content_type: 'video/quicktime' });
    const down = await httpRequest(`${base()}/file_serve/attachment/${id}`, { method: 'GET', headers: { cookie: `_session_id=${session}` } });
    expect(down.status).toBe(200);
    expect(down.headers['content-type']).toBe('video/quicktime');
    expect(down.body.equals(bytes)).toBe(true);
    expect((await httpRequest(`${base()}/file_serve/attachment/99999999`, { method: 'GET' })).status).toBe(400);
    expect((await httpRequest(`${base()}/file_serve/attachment/${id}`, { method: 'GET', headers: { cookie: '_session_id=nope' } })).status).toBe(403);
  });

  it('takes a thumbnail that reads as the transient placeholder while it processes; the placeholder is an image', async () => {
    const up = await upload(
      base(),
      '/upload/publish_thumbnail',
      { entity_type: 'Version', entity_id: String(version.id) },
      { thumb_image: { name: 'logo.png', type: 'image/png', data: randomBytes(2_000) } },
    );
    expect(up.body.toString()).toMatch(/^1:\d+\n$/);
    const image = (await readOne(base(), 'Version', version.id, ['image'])).image as string;
    expect(image).toBe(`${sim.url}${PENDING_PATH}`);
    // The placeholder lives on the site's own host (through the cache too: the client fetches it from there).
    const png = await httpRequest(image, { method: 'GET' });
    expect(png.status).toBe(200);
    expect(png.headers['content-type']).toBe('image/png');
  });

  it("answers a form with bad credentials, or for a missing field, in the site's text protocol (0:...)", async () => {
    const bad = await httpRequest(`${base()}/upload/publish_thumbnail`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'entity_type=Version&entity_id=1&script_name=x&script_key=y',
    });
    expect(bad.status).toBe(200);
    expect(bad.body.toString()).toMatch(/^0:Can't authenticate script 'x'/);
    const noField = await upload(
      base(),
      '/upload/upload_file',
      { entity_type: 'Version', entity_id: String(version.id), field_name: 'code' },
      { file: { name: 'a.txt', type: 'text/plain', data: Buffer.from('x') } },
    );
    expect(noField.body.toString()).toMatch(/^0:.*not a File\/Link field/);
  });
});

describe('upload size limits', () => {
  it("takes a 5 MB legacy upload straight; through the cache it is over Lambda's 6 MB request (base64 in the event): 413 before the function runs", async () => {
    const big = { file: { name: 'big.mov', type: 'video/quicktime', data: randomBytes(5 * 1024 * 1024) } };
    const fields = { entity_type: 'Version', entity_id: String(version.id), field_name: 'sg_uploaded_movie' };
    expect((await upload(sim.url, '/upload/upload_file', fields, big)).body.toString()).toMatch(/^1:\d+\n$/);
    const via = await upload(api.url, '/upload/upload_file', fields, big);
    expect(via.status).toBe(413);
  });
});

describe("the site's extra methods through the cache", () => {
  it.each([
    ['preferences_read', { prefs: ['date_component_order'] }],
    ['work_schedule_read', { start_date: '2012-01-01', end_date: '2012-01-03', project: null, user: null }],
    ['followers', { entity: { type: 'Version', id: 1 } }],
    ['export_page', { page_id: null, format: 'csv' }],
  ] as const)("relays %s with the caller's credentials and hands back the site's exact reply", async (method, params) => {
    const payload = rpcPayload(method, auth, params);
    const via = await postRpc(`${api.url}/api3/json`, payload);
    const direct = await postRpc(`${sim.url}/api3/json`, payload);
    expect(via.headers['x-fpt-cache']).toBe('pass');
    expect(via.headers['x-fpt-cache-reason']).toBe(`method:${method}`);
    expect(via.body.toString()).toBe(direct.body.toString());
  });
});
