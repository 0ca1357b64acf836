// Signed, expiring image URLs over HTTP through the real API handler against the simulated site, on a virtual signing clock: served while valid beyond the margin, renewed from relayed replies and by the reconciler, never the placeholder.
import { inject, afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { createReconcileRunner } from '../../functions/reconciler/app.js';
import { MEDIA_ORIGIN, PENDING_PATH } from '../../local/sim/media-urls.js';
import { DEFAULT_SCRIPT, DEFAULT_USER_PASSWORD } from '../../local/sim/credentials.js';
import { DEFAULT_PROFILES, SEEDED_PROFILE_LOGINS as P } from '../../local/sim/permissions.js';
import { createParams, expiresAt, isSignedUrl, objectOf, type AuthParams } from '../../shared/site/index.js';
import { EventApplier, MemorySyncMetrics, syncContextFromEnv, type SyncContext } from '../../shared/sync/index.js';
import { answerDifference } from '../support/same-answer.js';
import { ReplyMemo } from '../../shared/reads/index.js';
import { dynamo } from '../store/helpers.js';
import { SCRIPT_AUTH, cond, readPayload, results, schema, siteReads, startHarness, type Harness } from './harness.js';

const MARGIN_MS = 600_000;
let t = Date.now();
let h: Harness;
let ctx: SyncContext;
let shots: Array<{ id: number; image: string }>;
const ARTIST: AuthParams = { user_login: P.restrictedArtist, user_password: DEFAULT_USER_PASSWORD };

beforeAll(async () => {
  h = await startHarness('volatile', { sim: { entities: 200, seed: 7, mediaNow: () => new Date(t) }, clock: () => t, responseCache: { enabled: true } });
  ctx = await syncContextFromEnv(
    {
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
    },
    { schema },
  );
  shots = results<{ entities: Array<{ id: number; image: string }> }>(
    await h.direct(readPayload(SCRIPT_AUTH, 'Shot', [cond('image', 'is_not', null)], ['image'], { sorts: [{ field_name: 'id', direction: 'asc' }] })),
  ).entities;
}, 240_000);
afterAll(async () => {
  ctx?.destroy();
  await h?.close();
});

const shotRead = (ids: number[], fields = ['code', 'image']) =>
  readPayload(SCRIPT_AUTH, 'Shot', [cond('id', 'in', ...ids)], fields, { sorts: [{ field_name: 'id', direction: 'asc' }] });
/** The stored image of a shot (what the cache would serve). */
const stored = async (id: number) => (await h.store.get('Shot', id))!.record.values.image as string;
/** The image written on the site as a new upload's outcome would be (shotgun_api3 uploads thumbnails; the sim takes the URL). */
const setImage = (id: number, url: string) => ({
  method_name: 'update',
  params: [SCRIPT_AUTH, { type: 'Shot', id, fields: [{ field_name: 'image', value: url }] }],
});
/** Stored signatures valid beyond the margin again (the clock moved on in earlier cases): one read through the API renews them. */
const warm = async (payload: { method_name: string; params: unknown[] }) => {
  await h.rpc(payload);
};
const tags = (r: { headers: Record<string, unknown> }) => ({ cache: r.headers['x-fpt-cache'], reason: r.headers['x-fpt-cache-reason'] });

/** Through the API and at the site: identical in the sense (same objects, signatures valid for the margin at `t`). */
async function same(payload: { method_name: string; params: unknown[] }) {
  const viaApi = await h.rpc(payload);
  const site = await h.direct(payload);
  expect(answerDifference(viaApi.body, site.body, { nowMs: t, marginMs: MARGIN_MS })).toBeUndefined();
  return { ...tags(viaApi), body: viaApi.body.toString('utf8') };
}

async function reconcile() {
  const { handler } = createReconcileRunner({
    ctx,
    logger: new Logger({ logLevel: 'SILENT' as 'INFO' }),
    metrics: new MemorySyncMetrics(),
    now: () => t,
    options: { sweep: 'never', schemaDiff: 'never', calibration: 'never' },
  });
  return handler({}, { getRemainingTimeInMillis: () => 600_000 } as Context);
}

async function applyEventsAfter(afterId: number): Promise<void> {
  const applier = new EventApplier({ schema, store: ctx.store, fetcher: ctx.fetcher, events: ctx.events });
  for (const ev of await ctx.events.readAfter(afterId, 500)) await applier.apply(ev);
}

describe('signed image URLs from the cache', () => {
  it('the site signs at read time (S3 presigned, SigV4), one signature per window, a new one in the next', async () => {
    const url = shots[0].image;
    expect(url).toMatch(
      /^https:\/\/sg-media-sim\.example\.com\/thumbnail\/shot\/\d+\.jpg\?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=[^&]+&X-Amz-Date=\d{8}T\d{6}Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=[0-9a-f]{64}$/,
    );
    const again = results<{ entities: Array<{ image: string }> }>(await h.direct(shotRead([shots[0].id]))).entities[0].image;
    expect(again).toBe(url);
    t += 900_000;
    const next = results<{ entities: Array<{ image: string }> }>(await h.direct(shotRead([shots[0].id]))).entities[0].image;
    expect(objectOf(next)).toBe(objectOf(url));
    expect(expiresAt(next)).toBeGreaterThan(expiresAt(url));
  });

  it('served while valid beyond the margin; inside it the read passes, the relayed reply renews the signature, serving resumes', async () => {
    const ids = [shots[1].id, shots[2].id];
    const exp = Math.min(...(await Promise.all(ids.map(async (id) => expiresAt(await stored(id))))));
    t = exp - MARGIN_MS - 60_000;
    expect(await same(shotRead(ids))).toMatchObject({ cache: 'hit' });
    t = exp - MARGIN_MS + 1_000;
    const passed = await same(shotRead(ids));
    expect(passed).toMatchObject({ cache: 'pass', reason: 'signed-url-expiring' });
    for (const id of ids) {
      const now = await stored(id);
      expect(objectOf(now)).toBe(objectOf(shots.find((s) => s.id === id)!.image));
      expect(expiresAt(now)).toBeGreaterThan(t + MARGIN_MS);
    }
    expect(await same(shotRead(ids))).toMatchObject({ cache: 'hit' });
  });

  it("a write-through reply renews it too (a create returning the linked shot's image)", async () => {
    const id = shots[3].id;
    const exp = expiresAt(await stored(id));
    t = exp - MARGIN_MS + 1_000;
    const project = (await h.store.get('Shot', id))!.record.values.project;
    const w = await h.rpc({
      method_name: 'create',
      params: [SCRIPT_AUTH, createParams('Version', { code: `renew-${id}`, project, entity: { type: 'Shot', id } }, ['code', 'entity', 'entity.Shot.image'])],
    });
    expect(w.headers['x-fpt-cache-write-through']).toBe('applied');
    expect(isSignedUrl(results<Record<string, string>>(w)['entity.Shot.image'])).toBe(true);
    expect(objectOf(await stored(id))).toBe(objectOf(shots[3].image));
    expect(expiresAt(await stored(id))).toBeGreaterThan(t + MARGIN_MS);
    expect(await same(shotRead([id]))).toMatchObject({ cache: 'hit' });
  });

  it('the reconciler renews recently read signatures before they come within the margin', async () => {
    const ids = [shots[4].id, shots[5].id];
    await warm(shotRead(ids));
    expect(await same(shotRead(ids))).toMatchObject({ cache: 'hit' });
    const exp = Math.min(...(await Promise.all(ids.map(async (id) => expiresAt(await stored(id))))));
    t = exp - MARGIN_MS - 5 * 60_000;
    const out = await reconcile();
    expect(out.volatile?.renewed).toBeGreaterThanOrEqual(ids.length);
    for (const id of ids) expect(expiresAt(await stored(id))).toBeGreaterThan(exp);
    t = exp - MARGIN_MS + 60_000;
    // Hours later on the cache's one clock the caller's verdict has expired too: the first read verifies it again (a site call).
    expect(await h.rpc(shotRead(ids)).then(tags)).toEqual({ cache: 'hit', reason: expect.stringMatching(/^access:/) });
    const before = siteReads(h.sim);
    expect(await h.rpc(shotRead(ids)).then(tags)).toEqual({ cache: 'hit', reason: expect.stringMatching(/^access:/) });
    expect(siteReads(h.sim)).toBe(before);
  });

  it('a relayed reply never changes the object; a new thumbnail arrives through its event', async () => {
    const id = shots[6].id;
    await warm(shotRead([id]));
    const old = objectOf(await stored(id));
    const last = await ctx.events.latestId();
    const fresh = `${MEDIA_ORIGIN}/thumbnail/shot/${id}-v2.jpg`;
    await h.direct(setImage(id, fresh));
    // An unplannable read relays the site's reply (the new object): the stored value keeps the old one.
    expect(await same(shotRead([id], ['code', 'image', 'sg_editorial_data']))).toMatchObject({
      cache: 'pass',
      reason: 'uncached-field:Shot.sg_editorial_data',
    });
    expect(objectOf(await stored(id))).toBe(old);
    await applyEventsAfter(last);
    expect(objectOf(await stored(id))).toBe(fresh);
    expect((await same(shotRead([id]))).cache).toBe('hit');
  });

  it('a thumbnail not processed yet (the placeholder) is never served or kept; the reconciler stores it once processed', async () => {
    const id = shots[7].id;
    const last = await ctx.events.latestId();
    const fresh = `${MEDIA_ORIGIN}/thumbnail/shot/${id}-v3.jpg`;
    h.sim.control.setMedia({ pending: [fresh] });
    await h.direct(setImage(id, fresh));
    await applyEventsAfter(last);
    expect(await stored(id)).toBe(`${h.sim.url}${PENDING_PATH}`);
    const r = await same(shotRead([id]));
    expect(r).toMatchObject({ cache: 'pass', reason: 'thumbnail-pending' });
    expect(r.body).toContain('/images/status/transient/thumbnail_pending.png');
    const unplannable = shotRead([id], ['code', 'image', 'sg_editorial_data']);
    expect((await same(unplannable)).cache).toBe('pass');
    expect((await same(unplannable)).cache).toBe('pass');
    h.sim.control.setMedia({ pending: [] });
    const out = await reconcile();
    expect(out.volatile?.changed).toBeGreaterThanOrEqual(1);
    expect(objectOf(await stored(id))).toBe(fresh);
    expect(await same(shotRead([id]))).toMatchObject({ cache: 'hit' });
  });

  it('the response cache never serves a reply whose signatures are expiring', async () => {
    const id = shots[8].id;
    const payload = shotRead([id], ['code', 'image', 'sg_editorial_data']);
    await warm(shotRead([id]));
    expect((await same(payload)).cache).toBe('pass');
    const kept = await same(payload);
    expect(kept).toMatchObject({ cache: 'hit', reason: 'response-cache' });
    const exp = expiresAt(/"image":"([^"]+)"/.exec(kept.body)![1]);
    t = exp - MARGIN_MS + 1_000;
    expect(await same(payload)).toMatchObject({ cache: 'pass' });
    expect(await same(payload)).toMatchObject({ cache: 'hit', reason: 'response-cache' });
  });

  it('the reply memo serves a kept reply only while its signatures stay valid for the margin; a placeholder is never kept', async () => {
    const ddb = dynamo();
    try {
      const memo = new ReplyMemo({ ddb, table: h.tables.state, maxBytes: 1 << 20, volatile: { marginMs: MARGIN_MS, now: () => t } });
      const payload = shotRead([shots[10].id]);
      await warm(payload);
      const params = payload.params[1];
      const key = memo.key('read', params, 'view');
      const miss = await memo.lookup(key, params);
      const r = await h.rpc(payload);
      expect(tags(r).cache).toBe('hit');
      if (miss.kind !== 'miss') throw new Error('expected a miss');
      memo.keep(miss, r.body, results(r), 'ids');
      expect((await memo.lookup(key, params)).kind).toBe('hit');
      t = expiresAt(results<{ entities: Array<{ image: string }> }>(r).entities[0].image) - MARGIN_MS + 1_000;
      expect((await memo.lookup(key, params)).kind).toBe('miss');
      const pending = { entities: [{ type: 'Shot', id: 1, image: `${h.sim.url}${PENDING_PATH}` }] };
      const again = await memo.lookup(key, params);
      if (again.kind !== 'miss') throw new Error('expected a miss');
      memo.keep(again, Buffer.from(JSON.stringify({ results: pending })), pending, 'ids');
      expect((await memo.lookup(key, params)).kind).toBe('miss');
    } finally {
      ddb.destroy();
    }
  });

  it('deep paths follow the same rule (entity.Shot.image, created_by.HumanUser.image)', async () => {
    const versions = results<{ entities: Array<{ id: number; entity: { id: number } }> }>(
      await h.direct(
        readPayload(SCRIPT_AUTH, 'Version', [cond('entity.Shot.image', 'is_not', null)], ['entity'], { paging: { entities_per_page: 2, current_page: 1 } }),
      ),
    ).entities;
    expect(versions.length).toBeGreaterThan(0);
    const payload = readPayload(
      SCRIPT_AUTH,
      'Version',
      [cond('id', 'in', ...versions.map((v) => v.id))],
      ['code', 'entity', 'entity.Shot.image', 'created_by', 'created_by.HumanUser.image'],
    );
    // The clock moved on: the first read passes and its reply renews the shots' and users' images through the deep paths.
    await warm(payload);
    expect((await same(payload)).cache).toBe('hit');
    const exp = Math.min(...(await Promise.all(versions.map(async (v) => expiresAt(await stored(v.entity.id))))));
    t = exp - MARGIN_MS + 1_000;
    expect(await same(payload)).toMatchObject({ cache: 'pass', reason: 'signed-url-expiring' });
    expect((await same(payload)).cache).toBe('hit');
  });

  it("signed upload url values (a dict's url) follow the same rule", async () => {
    // The sim's uploads are stable file_serve links (item 2); one pointing at the media store reads signed, as a site signing uploads would hand it out.
    const v = results<{ entities: Array<{ id: number }> }>(
      await h.direct(readPayload(SCRIPT_AUTH, 'Version', [], ['id'], { paging: { entities_per_page: 1, current_page: 1 } })),
    ).entities[0];
    const upload = { url: `${MEDIA_ORIGIN}/movie/v${v.id}.mp4`, name: `v${v.id}.mp4`, link_type: 'upload', content_type: 'video/mp4' };
    const w = await h.rpc({
      method_name: 'update',
      params: [SCRIPT_AUTH, { type: 'Version', id: v.id, fields: [{ field_name: 'sg_uploaded_movie', value: upload }] }],
    });
    expect(w.headers['x-fpt-cache-write-through']).toBe('applied');
    const payload = readPayload(SCRIPT_AUTH, 'Version', [cond('id', 'is', v.id)], ['code', 'sg_uploaded_movie']);
    await warm(payload);
    const served = await same(payload);
    expect(served.cache).toBe('hit');
    expect(served.body).toMatch(/"sg_uploaded_movie":\{"url":"https:\/\/sg-media-sim\.example\.com\/movie\/[^"]+\?X-Amz-Algorithm=/);
    const movie = (await h.store.get('Version', v.id))!.record.values.sg_uploaded_movie as { url: string };
    t = expiresAt(movie.url) - MARGIN_MS + 1_000;
    expect(await same(payload)).toMatchObject({ cache: 'pass', reason: 'signed-url-expiring' });
    expect(await same(payload)).toMatchObject({ cache: 'hit' });
  });

  it('a site handing out plain URLs: stored and served byte-identical', async () => {
    const id = shots[9].id;
    h.sim.control.setMedia({ signed: false });
    try {
      expect((await h.rpc(setImage(id, `${MEDIA_ORIGIN}/thumbnail/shot/${id}-plain.jpg`))).headers['x-fpt-cache-write-through']).toBe('applied');
      const viaApi = await h.rpc(shotRead([id]));
      expect(tags(viaApi).cache).toBe('hit');
      expect(viaApi.body.toString('utf8')).toBe((await h.direct(shotRead([id]))).body.toString('utf8'));
      expect(viaApi.body.toString('utf8')).toContain(`"image":"${MEDIA_ORIGIN}/thumbnail/shot/${id}-plain.jpg"`);
    } finally {
      h.sim.control.setMedia({ signed: true });
    }
  });

  it("a caller the site hides images from gets the site's answer (null), never the cached image", async () => {
    h.sim.control.setPermissions({ [`user:${P.restrictedArtist}`]: { projects: 'assigned', hiddenFields: { Shot: ['image'] } } });
    try {
      const r = await same(readPayload(ARTIST, 'Shot', [], ['code', 'image']));
      expect(r).toMatchObject({ cache: 'pass', reason: 'permission-restricted:Shot' });
      expect(r.body).not.toContain('X-Amz-Signature');
      expect((await same(readPayload(ARTIST, 'Version', [], ['code', 'entity', 'entity.Shot.image']))).cache).toBe('pass');
    } finally {
      h.sim.control.setPermissions({ [`user:${P.restrictedArtist}`]: DEFAULT_PROFILES[`user:${P.restrictedArtist}`] });
    }
  });
});
