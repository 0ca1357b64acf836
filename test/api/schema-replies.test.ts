// Schema methods over HTTP: the site's own replies served byte-identical per caller and per project, invalidated by DisplayColumn events, the periodic schema digest and a new cached schema; too-large replies and bad params pass.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DEFAULT_USER_PASSWORD } from '../../local/sim/credentials.js';
import { SEEDED_PROFILE_LOGINS } from '../../local/sim/permissions.js';
import { ReadinessStore, readGenerations, SCHEMA_GENERATION } from '../../shared/store/index.js';
import { SchemaDigest } from '../../shared/sync/index.js';
import type { RawResponse } from '../stack/http.js';
import { dynamo } from '../store/helpers.js';
import { editedSchema } from '../sync/schema-edits.js';
import { pollOnce } from './poll-once.js';
import { SCRIPT_AUTH, fault, results, schema, startHarness, type Harness } from './harness.js';

let h: Harness;
let ddb: DynamoDBClient;

const ARTIST = { user_login: SEEDED_PROFILE_LOGINS.restrictedArtist, user_password: DEFAULT_USER_PASSWORD };
const tag = (r: RawResponse) => ({ cache: r.headers['x-fpt-cache'], reason: r.headers['x-fpt-cache-reason'] });
const siteCalls = () =>
  Object.entries(h.sim.control.stats().byMethod as Record<string, number>)
    .filter(([m]) => m.startsWith('schema_'))
    .reduce((n, [, c]) => n + c, 0);
/** A schema call as shotgun_api3 sends it: no params[1] for schema_read / schema_entity_read without a project. */
const call = (method: string, auth: unknown, params?: unknown) => ({ method_name: method, params: params === undefined ? [auth] : [auth, params] });

/** Through the API, with the site's schema calls counted meanwhile. */
async function viaApi(payload: unknown, headers?: Record<string, string>): Promise<{ r: RawResponse; site: number }> {
  h.sim.control.resetStats();
  const r = await h.rpc(payload, headers);
  return { r, site: siteCalls() };
}

beforeAll(async () => {
  h = await startHarness('api-schema', { responseCache: { enabled: true } });
  ddb = dynamo();
});
afterAll(async () => {
  await h?.close();
  ddb?.destroy();
});

describe('schema replies from the cache', () => {
  const shapes: Array<[string, string, unknown]> = [
    ['schema_read', 'schema_read', undefined],
    ['schema_entity_read', 'schema_entity_read', undefined],
    ['schema_field_read of a type', 'schema_field_read', { type: 'Shot' }],
    ['schema_field_read of a field', 'schema_field_read', { type: 'Shot', field_name: 'description' }],
    ['schema_read of a project', 'schema_read', { project: { type: 'Project', id: 1 } }],
  ];
  it.each(shapes)("%s: the site's reply the first time, then served byte-identical without the site", async (_what, method, params) => {
    const payload = call(method, SCRIPT_AUTH, params);
    const first = await viaApi(payload);
    expect(tag(first.r)).toEqual({ cache: 'pass', reason: 'schema-miss' });
    expect(first.site).toBe(1);
    const second = await viaApi(payload);
    expect(tag(second.r)).toEqual({ cache: 'hit', reason: 'schema-reply' });
    expect(second.site).toBe(0);
    expect(second.r.body.equals(first.r.body)).toBe(true);
    expect(second.r.body.equals((await h.direct(payload)).body)).toBe(true);
    expect(tag((await viaApi(payload, { 'x-fpt-cache-require': 'hit' })).r).cache).toBe('hit');
  });

  it("per caller: a restricted user gets its own reply (its hidden fields not visible), never the script's", async () => {
    const script = call('schema_field_read', SCRIPT_AUTH, { type: 'Shot' });
    const artist = call('schema_field_read', ARTIST, { type: 'Shot' });
    await viaApi(script);
    const a1 = await viaApi(artist);
    expect(tag(a1.r)).toEqual({ cache: 'pass', reason: 'schema-miss' });
    expect(results(a1.r).description.visible.value).toBe(false);
    const a2 = await viaApi(artist);
    expect(tag(a2.r).cache).toBe('hit');
    expect(a2.r.body.equals((await h.direct(artist)).body)).toBe(true);
    const s2 = await viaApi(script);
    expect(tag(s2.r).cache).toBe('hit');
    expect(results(s2.r).description.visible.value).toBe(true);
    expect(s2.r.body.equals(a2.r.body)).toBe(false);
  });

  it('per project: another project_entity (or none) is its own entry', async () => {
    const p2 = call('schema_field_read', SCRIPT_AUTH, { type: 'Asset', project: { type: 'Project', id: 2 } });
    const p3 = call('schema_field_read', SCRIPT_AUTH, { type: 'Asset', project: { type: 'Project', id: 3 } });
    const none = call('schema_field_read', SCRIPT_AUTH, { type: 'Asset' });
    expect(tag((await viaApi(p2)).r).reason).toBe('schema-miss');
    expect(tag((await viaApi(p3)).r).reason).toBe('schema-miss');
    expect(tag((await viaApi(none)).r).reason).toBe('schema-miss');
    for (const p of [p2, p3, none]) expect((await viaApi(p)).site).toBe(0);
  });

  it("per project: a field hidden in one project (schema_field_update through the cache) shows in that project's reply only", async () => {
    const inP2 = call('schema_field_read', SCRIPT_AUTH, { type: 'Asset', field_name: 'description', project: { type: 'Project', id: 2 } });
    const plain = call('schema_field_read', SCRIPT_AUTH, { type: 'Asset', field_name: 'description' });
    await viaApi(inP2);
    await viaApi(plain);
    const update = await viaApi(
      call('schema_field_update', SCRIPT_AUTH, {
        type: 'Asset',
        field_name: 'description',
        properties: [{ property_name: 'visible', value: false }],
        project: { type: 'Project', id: 2 },
      }),
    );
    expect(tag(update.r)).toEqual({ cache: 'pass', reason: 'method:schema_field_update' });
    expect(results(update.r)).toBe(true);
    // Bumped by the write itself (no poll yet): both replies are read again, each the site's.
    for (const [payload, visible] of [
      [inP2, false],
      [plain, true],
    ] as const) {
      const first = await viaApi(payload);
      expect(tag(first.r).reason).toBe('schema-miss');
      expect(results(first.r).description.visible.value).toBe(visible);
      const again = await viaApi(payload);
      expect(tag(again.r).cache).toBe('hit');
      expect(again.r.body.equals((await h.direct(payload)).body)).toBe(true);
    }
  });

  it("read-your-writes: a field created through the cache is in the caller's next schema reply", async () => {
    const payload = call('schema_field_read', SCRIPT_AUTH, { type: 'Shot' });
    await viaApi(payload);
    expect(tag((await viaApi(payload)).r).cache).toBe('hit');
    const created = await viaApi(
      call('schema_field_create', SCRIPT_AUTH, { type: 'Shot', data_type: 'text', properties: [{ property_name: 'name', value: 'Plugin Ids' }] }),
    );
    expect(results(created.r)).toBe('sg_plugin_ids');
    const after = await viaApi(payload);
    expect(tag(after.r).reason).toBe('schema-miss');
    expect(results(after.r).sg_plugin_ids.name.value).toBe('Plugin Ids');
    expect(after.r.body.equals((await h.direct(payload)).body)).toBe(true);
  });

  it("wrong credentials get the site's own fault, a stored reply notwithstanding", async () => {
    const payload = call('schema_entity_read', SCRIPT_AUTH);
    await viaApi(payload);
    const wrong = await viaApi(call('schema_entity_read', { ...SCRIPT_AUTH, script_key: 'not-the-key' }));
    expect(tag(wrong.r).cache).toBe('pass');
    expect(fault(wrong.r)).toMatchObject({ exception: true, error_code: 102 });
  });

  it("bad params get the site's fault, never kept", async () => {
    const payload = call('schema_field_read', SCRIPT_AUTH, { type: 'NoSuchType' });
    for (let i = 0; i < 2; i++) {
      const r = await viaApi(payload);
      expect(tag(r.r)).toEqual({ cache: 'pass', reason: 'schema-miss' });
      expect(r.site).toBe(1);
      expect(r.r.body.equals((await h.direct(payload)).body)).toBe(true);
      expect(fault(r.r).exception).toBe(true);
    }
    expect(tag((await viaApi(call('schema_read', undefined))).r).reason).toBe('no-credentials');
  });
});

describe('invalidation', () => {
  it('a field change on the site (its DisplayColumn event, seen by the poller) stops serving the old reply', async () => {
    const payload = call('schema_field_read', SCRIPT_AUTH, { type: 'Shot', field_name: 'sg_cut_order' });
    await viaApi(payload);
    expect((await viaApi(payload)).site).toBe(0);
    h.sim.control.changeField({ type: 'Shot', field: 'sg_cut_order', data_type: 'text' });
    expect(await pollOnce(h, ddb)).toBeGreaterThan(0);
    const after = await viaApi(payload);
    expect(tag(after.r)).toEqual({ cache: 'pass', reason: 'schema-miss' });
    expect(results(after.r).sg_cut_order.data_type.value).toBe('text');
    expect(tag((await viaApi(payload)).r).cache).toBe('hit');
  });

  it('a change the site logs no event for (a deleted field) is caught by the periodic schema digest', async () => {
    const payload = call('schema_field_read', SCRIPT_AUTH, { type: 'Shot' });
    const readiness = new ReadinessStore(ddb, h.tables, schema);
    const digest = new SchemaDigest({ schema, site: h.site, ddb, table: h.tables.state, readiness });
    await digest.check();
    expect((await digest.check()).changed).toBe(false);
    await viaApi(payload);
    expect((await viaApi(payload)).site).toBe(0);
    const before = (await readGenerations(ddb, h.tables.state, [SCHEMA_GENERATION]))[SCHEMA_GENERATION];
    // Names a read once needed (the API learnt them): the digest keeps them current.
    await readiness.recordSiteFields('Shot', ['code', 'sg_hero'], before);
    expect((await readiness.load()).siteFields.lacks('Shot', 'sg_hero')).toBe(false);
    expect(h.sim.control.changeField({ type: 'Shot', field: 'sg_hero', remove: true })).toBe(0);
    expect(await pollOnce(h, ddb)).toBe(0);
    expect((await viaApi(payload)).site).toBe(0);
    const check = await digest.check();
    expect(check.changed).toBe(true);
    expect((await readGenerations(ddb, h.tables.state, [SCHEMA_GENERATION]))[SCHEMA_GENERATION]).toBe(before + 1);
    const after = await viaApi(payload);
    expect(tag(after.r).reason).toBe('schema-miss');
    expect(results(after.r)).not.toHaveProperty('sg_hero');
    // The digest also recorded the names again under the new generation; only those of types recorded before.
    const known = (await readiness.load()).siteFields;
    expect([known.lacks('Shot', 'sg_hero'), known.lacks('Shot', 'code'), known.knows('Asset')]).toEqual([true, false, false]);
  });

  it('a new cached schema deployed keys replies anew', async () => {
    const payload = call('schema_entity_read', SCRIPT_AUTH);
    await viaApi(payload);
    expect((await viaApi(payload)).site).toBe(0);
    const deployed = await h.another(
      editedSchema((t) => {
        delete t.Shot.fields.sg_cut_order;
      }),
    );
    h.sim.control.resetStats();
    const r = await deployed.rpc(payload);
    expect(tag(r)).toEqual({ cache: 'pass', reason: 'schema-miss' });
    expect(siteCalls()).toBe(1);
    expect(tag(await deployed.rpc(payload)).cache).toBe('hit');
  });
});

describe('limits', () => {
  it('a reply too large to keep passes with its reason, every time', async () => {
    const small = await startHarness('api-schema-small', { empty: true, responseCache: { enabled: true, maxStoredBytes: 2048 } });
    try {
      const payload = call('schema_read', SCRIPT_AUTH);
      for (let i = 0; i < 2; i++) {
        const r = await small.rpc(payload);
        expect(tag(r)).toEqual({ cache: 'pass', reason: 'schema-too-large' });
        expect(r.body.equals((await small.direct(payload)).body)).toBe(true);
      }
      // A small reply is kept.
      const one = call('schema_field_read', SCRIPT_AUTH, { type: 'Shot', field_name: 'code' });
      await small.rpc(one);
      expect(tag(await small.rpc(one)).cache).toBe('hit');
    } finally {
      await small.close();
    }
  });
});
