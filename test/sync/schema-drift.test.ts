// Schema drift: the pure comparison, the fetching wrapper against the simulated site, definition fingerprints and drift records in readiness.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CachedSchema, schemaReadFromFile } from '../../shared/schema/index.js';
import { Readiness, ReadinessStore, WHOLE_TYPE, definitionFingerprint } from '../../shared/store/index.js';
import { compareType, diffSchema, displayColumnEntityType, fetchLiveFields, type LiveFields } from '../../shared/sync/index.js';
import { startRig, schema, type Rig } from './helpers.js';
import { editedSchema } from './schema-edits.js';
import { httpRequest } from '../stack/http.js';

/** What the site would answer to schema_field_read(type) if it matched `s` exactly. */
const liveOf = (s: CachedSchema, type: string): LiveFields => schemaReadFromFile(s.site.file).read[type] as LiveFields;

describe('compareType (pure)', () => {
  it('finds nothing when the site matches the deployed file, whatever order the link targets come in and whatever extra fields the site has', () => {
    const live = structuredClone(liveOf(schema, 'Task'));
    const entity = live.entity.properties!.valid_types;
    entity.value = [...(entity.value as string[])].reverse();
    live.sg_brand_new = { data_type: { value: 'text' }, properties: {} };
    expect(compareType(schema, 'Task', live)).toEqual([]);
    for (const t of schema.site.typeNames) expect(compareType(schema, t, liveOf(schema, t)), t).toEqual([]);
  });

  it('reports a changed data type, changed link targets, a removed field and a removed type', () => {
    const live = structuredClone(liveOf(schema, 'Shot'));
    live.sg_cut_order.data_type.value = 'text';
    live.sg_sequence.properties!.valid_types.value = ['Sequence', 'Episode'];
    delete live.sg_hero;
    expect(compareType(schema, 'Shot', live)).toEqual(
      [
        { type: 'Shot', field: 'sg_cut_order', kind: 'type-changed', cached: 'number', site: 'text' },
        { type: 'Shot', field: 'sg_hero', kind: 'removed', cached: 'checkbox' },
        { type: 'Shot', field: 'sg_sequence', kind: 'targets-changed', cached: 'entity[Sequence]', site: 'entity[Episode,Sequence]' },
      ]
        .sort((a, b) => a.field.localeCompare(b.field))
        .map((x) => expect.objectContaining(x)),
    );
    expect(compareType(schema, 'Shot', undefined)).toEqual([{ type: 'Shot', field: WHOLE_TYPE, kind: 'type-removed', cached: 'Shot' }]);
    expect(compareType(schema, 'NotCached', undefined)).toEqual([]);
  });

  it('a link field turned into another data type is a type change, not a targets change', () => {
    const live = structuredClone(liveOf(schema, 'Shot'));
    live.sg_sequence = { data_type: { value: 'text' }, properties: {} };
    expect(compareType(schema, 'Shot', live)).toEqual([{ type: 'Shot', field: 'sg_sequence', kind: 'type-changed', cached: 'entity[Sequence]', site: 'text' }]);
  });

  it('the entity type of a DisplayColumn event, only when its meta names one', () => {
    expect(displayColumnEntityType({ entity_type: 'DisplayColumn', attribute_name: 'data_type', old_value: 'number', new_value: 'text' })).toBeUndefined();
    expect(displayColumnEntityType({ entity_type: 'Shot' })).toBe('Shot');
    expect(displayColumnEntityType({ entity_type: 'DisplayColumn', new_value: { entity_type: 'Asset', data_type_properties: {} } })).toBe('Asset');
    expect(displayColumnEntityType(null)).toBeUndefined();
  });
});

describe('definition fingerprints', () => {
  it('cover data type, sorted link targets and the link slot', () => {
    expect(definitionFingerprint(schema, 'Shot', 'sg_cut_order')).toBe('number');
    expect(definitionFingerprint(schema, 'Shot', 'sg_sequence')).toMatch(/^entity\[Sequence\]@l\d$/);
    const reordered = editedSchema((t) => {
      t.Task.fields.entity.valid_types = [...(t.Task.fields.entity.valid_types as string[])].reverse();
    });
    expect(definitionFingerprint(reordered, 'Task', 'entity')).toBe(definitionFingerprint(schema, 'Task', 'entity'));
    const unindexed = editedSchema((t) => {
      delete t.Shot.fields.sg_sequence.indexed;
    });
    expect(definitionFingerprint(unindexed, 'Shot', 'sg_sequence')).toBe('entity[Sequence]');
    expect(definitionFingerprint(schema, 'Shot', 'no_such_field')).toBeUndefined();
  });

  it('a snapshot without recorded fingerprints (written before they existed) serves the field; a differing one does not', () => {
    const legacy = new Readiness(new Map([['Shot', { ready: true, fields: new Set(['code', 'sg_cut_order']) }]]), schema);
    expect(legacy.isFieldReady('Shot', 'sg_cut_order')).toBe(true);
    expect(legacy.unfingerprinted('Shot').sort()).toEqual(['code', 'sg_cut_order']);
    const recorded = new Readiness(
      new Map([
        [
          'Shot',
          {
            ready: true,
            fields: new Set(['code', 'sg_cut_order']),
            defs: new Map([
              ['code', 'text'],
              ['sg_cut_order', 'text'],
            ]),
          },
        ],
      ]),
      schema,
    );
    expect(recorded.isFieldReady('Shot', 'code')).toBe(true);
    expect(recorded.isFieldReady('Shot', 'sg_cut_order')).toBe(false);
    expect(recorded.pendingFields('Shot', ['code', 'sg_cut_order'])).toEqual(['sg_cut_order']);
  });
});

describe('against the simulated site and DynamoDB Local', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig('drift-unit', { entities: 60, seed: 3 });
  });
  afterAll(async () => {
    await rig?.close();
  });

  it('fetchLiveFields reads schema_field_read; a type the site does not have is undefined; the deployed file matches the sim', async () => {
    const live = await fetchLiveFields(rig.sg, 'Shot');
    expect(live?.sg_cut_order.data_type.value).toBe('number');
    expect(await fetchLiveFields(rig.sg, 'NoSuchType')).toBeUndefined();
    expect(await diffSchema(schema, rig.sg)).toEqual([]);
  });

  it('diffSchema sees the sim change a type and remove a field (changeField knob)', async () => {
    const s = await startRig('drift-unit-knob', { entities: 30, seed: 4 });
    try {
      const eventId = s.site.control.changeField({ type: 'Shot', field: 'sg_cut_order', data_type: 'text' });
      expect(eventId).toBeGreaterThan(0);
      expect(s.site.control.changeField({ type: 'Shot', field: 'sg_hero', remove: true })).toBe(0);
      const ev = (await s.ctx.events.readIds([eventId]))[0];
      expect(ev.event_type).toBe('Shotgun_DisplayColumn_Change');
      expect(ev.attribute_name).toBe('data_type');
      expect(await diffSchema(schema, s.sg, ['Shot', 'Asset'])).toEqual([
        { type: 'Shot', field: 'sg_cut_order', kind: 'type-changed', cached: 'number', site: 'text' },
        { type: 'Shot', field: 'sg_hero', kind: 'removed', cached: 'checkbox' },
      ]);
      // The same knob over HTTP: link targets changed; a field the site does not have is a 400.
      const post = (body: unknown) =>
        httpRequest(`${s.site.url}/__sim/control`, { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const ok = await post({ changeField: { type: 'Asset', field: 'sg_asset_type', data_type: 'text' } });
      expect(ok.status).toBe(200);
      expect((ok.json() as { eventId: number }).eventId).toBeGreaterThan(eventId);
      expect((await post({ changeField: { type: 'Shot', field: 'no_such_field', data_type: 'text' } })).status).toBe(400);
      expect(await diffSchema(schema, s.sg, ['Asset'])).toEqual([
        { type: 'Asset', field: 'sg_asset_type', kind: 'type-changed', cached: 'list', site: 'text' },
      ]);
      // The site's values follow the new type.
      const r = await s.sg.call<{ entities: Array<Record<string, unknown>> }>('read', {
        type: 'Shot',
        return_fields: ['sg_cut_order'],
        filters: { logical_operator: 'and', conditions: [{ path: 'sg_cut_order', relation: 'is_not', values: [null] }] },
        return_only: 'active',
        paging: { entities_per_page: 5, current_page: 1 },
      });
      expect(r.entities.length).toBeGreaterThan(0);
      for (const e of r.entities) expect(typeof e.sg_cut_order).toBe('string');
    } finally {
      await s.close();
    }
  });

  it('readiness records fingerprints under the deployed schema and a redeploy with another definition takes the field out of service', async () => {
    const before = new ReadinessStore(rig.ctx.ddb, rig.ctx.tables, schema);
    await before.markTypeReady('Shot', ['id', 'code', 'sg_sequence', 'sg_cut_order']);
    expect((await before.load()).isFieldReady('Shot', 'sg_sequence')).toBe(true);
    const redeployed = editedSchema((t) => {
      delete t.Shot.fields.sg_sequence.indexed;
    });
    const after = await new ReadinessStore(rig.ctx.ddb, rig.ctx.tables, redeployed).load();
    expect(after.isFieldReady('Shot', 'sg_sequence')).toBe(false);
    expect(after.isFieldReady('Shot', 'code')).toBe(true);
    expect(after.pendingFields('Shot', ['code', 'sg_sequence'])).toEqual(['sg_sequence']);
    // Backfilled under the new definition: served again.
    await new ReadinessStore(rig.ctx.ddb, rig.ctx.tables, redeployed).markFieldsReady('Shot', ['sg_sequence']);
    expect((await new ReadinessStore(rig.ctx.ddb, rig.ctx.tables, redeployed).load()).isFieldReady('Shot', 'sg_sequence')).toBe(true);
  });

  it('drift records take a field out of the ready set until cleared; legacy fields adopt fingerprints', async () => {
    const store = new ReadinessStore(rig.ctx.ddb, rig.ctx.tables, schema);
    const legacy = new ReadinessStore(rig.ctx.ddb, rig.ctx.tables);
    await legacy.markTypeReady('Asset', ['id', 'code', 'sg_asset_type']);
    expect((await store.load()).unfingerprinted('Asset').sort()).toEqual(['code', 'id', 'sg_asset_type']);
    expect(await store.adoptFingerprints()).toBeGreaterThanOrEqual(3);
    expect((await store.load()).unfingerprinted('Asset')).toEqual([]);

    await store.recordDrift('Asset', [
      { field: 'sg_asset_type', record: { kind: 'type-changed', cached: 'list', site: 'text', at: new Date().toISOString() } },
    ]);
    let r = await store.load();
    expect(r.isDrifted('Asset', 'sg_asset_type')).toBe(true);
    expect(r.isFieldReady('Asset', 'sg_asset_type')).toBe(false);
    expect(r.isFieldReady('Asset', 'code')).toBe(true);
    expect(r.pendingFields('Asset', ['code', 'sg_asset_type'])).toEqual([]);
    expect(r.drifted()).toEqual([expect.objectContaining({ type: 'Asset', field: 'sg_asset_type', kind: 'type-changed' })]);
    await store.clearDrift('Asset', ['sg_asset_type']);
    r = await store.load();
    expect(r.isDrifted('Asset', 'sg_asset_type')).toBe(false);
    // Still not ready: it left the ready set, so it is rebuilt before it is served.
    expect(r.isFieldReady('Asset', 'sg_asset_type')).toBe(false);
    expect(r.pendingFields('Asset', ['code', 'sg_asset_type'])).toEqual(['sg_asset_type']);

    await store.recordDrift('Asset', [{ field: WHOLE_TYPE, record: { kind: 'type-removed', cached: 'Asset', at: new Date().toISOString() } }]);
    r = await store.load();
    expect(r.isTypeReady('Asset')).toBe(false);
    expect(r.isDrifted('Asset', 'code')).toBe(true);
  });
});
