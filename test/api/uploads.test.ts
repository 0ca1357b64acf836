// Uploads through the cache land in it at once, as writes do: the entity an upload form names is read back, so the uploader's next read is the site's answer (a hit where the engine can serve it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { httpRequest } from '../stack/http.js';
import { PENDING_PATH } from '../../local/sim/media-urls.js';
import { SCRIPT_AUTH, cond, readPayload, results, startHarness, type Harness } from './harness.js';

let h: Harness;
let version: { type: string; id: number };

beforeAll(async () => {
  h = await startHarness('api-uploads');
  const v = (
    results(await h.direct(readPayload(SCRIPT_AUTH, 'Version', [], ['code'], { paging: { entities_per_page: 1, current_page: 1 } }))) as { entities: any[] }
  ).entities[0];
  version = { type: 'Version', id: v.id };
});
afterAll(async () => {
  await h?.close();
});

/** A multipart form as shotgun_api3 writes it: fields first, then the file part with its own Content-Length header. */
function form(fields: Record<string, string>, file: { field: string; name: string; type: string; data: Buffer }): { body: Buffer; contentType: string } {
  const b = `b${randomBytes(6).toString('hex')}`;
  const parts: Buffer[] = Object.entries({ ...fields, script_name: SCRIPT_AUTH.script_name!, script_key: SCRIPT_AUTH.script_key! }).map(([k, v]) =>
    Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`),
  );
  parts.push(
    Buffer.from(
      `--${b}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${file.name}"\r\nContent-Type: ${file.type}\r\nContent-Length: ${file.data.length}\r\n\r\n`,
    ),
    file.data,
    Buffer.from(`\r\n--${b}--\r\n\r\n`),
  );
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${b}` };
}

async function post(path: string, f: { body: Buffer; contentType: string }) {
  return httpRequest(`${h.api.url}${path}`, { headers: { 'content-type': f.contentType }, body: f.body });
}

describe('uploads through the cache', () => {
  it("a file linked into a url field: the next read through the cache is a hit with the site's new value", async () => {
    const before = (results(await h.rpc(readPayload(SCRIPT_AUTH, 'Version', [cond('id', 'is', version.id)], ['sg_uploaded_movie']))) as { entities: any[] })
      .entities[0];
    const up = await post(
      '/upload/upload_file',
      form(
        { entity_type: 'Version', entity_id: String(version.id), field_name: 'sg_uploaded_movie', display_name: 'take2.mov' },
        { field: 'file', name: 'take2.mov', type: 'video/quicktime', data: randomBytes(50_000) },
      ),
    );
    expect(up.headers['x-fpt-cache']).toBe('pass');
    const id = Number(/^1:(\d+)/.exec(up.body.toString())?.[1]);
    const payload = readPayload(SCRIPT_AUTH, 'Version', [cond('id', 'is', version.id)], ['sg_uploaded_movie']);
    const viaApi = await h.rpc(payload, { 'x-fpt-cache-require': 'hit' });
    expect(viaApi.headers['x-fpt-cache'], viaApi.body.toString()).toBe('hit');
    expect(viaApi.body.toString()).toBe((await h.direct(payload)).body.toString());
    const movie = (results(viaApi) as { entities: any[] }).entities[0].sg_uploaded_movie;
    expect(movie).toMatchObject({ id, name: 'take2.mov', link_type: 'upload' });
    expect(movie).not.toEqual(before.sg_uploaded_movie);
  });

  it('a thumbnail: the next read through the cache shows the placeholder the site shows, not the old image', async () => {
    const up = await post(
      '/upload/publish_thumbnail',
      form({ entity_type: 'Version', entity_id: String(version.id) }, { field: 'thumb_image', name: 'logo.jpg', type: 'image/jpeg', data: randomBytes(3_000) }),
    );
    expect(up.body.toString()).toMatch(/^1:\d+\n$/);
    const payload = readPayload(SCRIPT_AUTH, 'Version', [cond('id', 'is', version.id)], ['image', 'code']);
    const viaApi = await h.rpc(payload);
    expect((results(viaApi) as { entities: any[] }).entities[0].image).toBe(`${h.sim.url}${PENDING_PATH}`);
    expect(viaApi.body.toString()).toBe((await h.direct(payload)).body.toString());
  });

  it('a refused upload (0:...) changes nothing and is relayed as the site words it', async () => {
    const bad = await httpRequest(`${h.api.url}/upload/upload_file`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `entity_type=Version&entity_id=${version.id}&script_name=x&script_key=y`,
    });
    expect(bad.status).toBe(200);
    expect(bad.body.toString()).toMatch(/^0:Can't authenticate script 'x'/);
  });
});
