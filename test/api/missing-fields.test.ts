// Return fields the site lacks over HTTP: answered from the cache as the site answers them once its rule is measured (omit, null) and the site's own field list says so; passes under 'fault', before calibration, for filters, sorts and summaries, and for a field the site adds later.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SimSemanticsInput } from '../../local/sim/site-semantics.js';
import { ReadinessStore } from '../../shared/store/index.js';
import { calibrate } from '../../shared/sync/index.js';
import type { RawResponse } from '../stack/http.js';
import { dynamo } from '../store/helpers.js';
import { DEFAULT_USER_PASSWORD } from '../../local/sim/credentials.js';
import { SEEDED_PROFILE_LOGINS } from '../../local/sim/permissions.js';
import { pollOnce } from './poll-once.js';
import { SCRIPT_AUTH, cond, readPayload, results, schema, siteReads, startHarness, type Harness } from './harness.js';

let h: Harness;
let ddb: DynamoDBClient;
let readiness: ReadinessStore;

const tag = (r: RawResponse) => ({ cache: r.headers['x-fpt-cache'], reason: r.headers['x-fpt-cache-reason'] });

/** Toolkit's shapes naming fields no site has (toolkit-calls.md), plain and deep. */
const TOOLKIT = {
  pipelineConfig: readPayload(
    SCRIPT_AUTH,
    'PipelineConfiguration',
    [],
    ['code', 'plugin_ids', 'sg_plugin_ids', 'descriptor', 'uploaded_config', 'windows_path'],
  ),
  version: readPayload(SCRIPT_AUTH, 'Version', [], ['code', 'client_approved_by', 'created_by.HumanUser.nope', 'entity'], {
    paging: { entities_per_page: 20, current_page: 1 },
  }),
  project: readPayload(SCRIPT_AUTH, 'Project', [], ['name', 'sg_flow_am_id', 'is_template']),
};

/** Through the API and straight to the site: the tag, whether the bodies are identical, the site's reads meanwhile. */
async function compare(payload: unknown) {
  h.sim.control.resetStats();
  const r = await h.rpc(payload);
  const siteCalls = siteReads(h.sim);
  const direct = await h.direct(payload);
  return { ...tag(r), identical: r.body.equals(direct.body), siteCalls, body: r };
}

async function configure(semantics: SimSemanticsInput): Promise<void> {
  h.sim.control.setSemantics(semantics);
  await calibrate(h.site, schema, readiness);
}

/** The first read learns the type's fields (pass), the second is served. */
async function servedAfterLearning(payload: unknown, missing: string): Promise<RawResponse> {
  const first = await compare(payload);
  if (first.cache === 'pass') expect(first.reason).toBe(`uncached-field:${missing}`);
  expect(first.identical).toBe(true);
  const second = await compare(payload);
  expect({ cache: second.cache, identical: second.identical, siteCalls: second.siteCalls }).toEqual({ cache: 'hit', identical: true, siteCalls: 0 });
  return second.body;
}

beforeAll(async () => {
  h = await startHarness('api-missing', { api: { readinessCacheMs: 0 } });
  ddb = dynamo();
  readiness = new ReadinessStore(ddb, h.tables, schema);
});
afterAll(async () => {
  await h?.close();
  ddb?.destroy();
});

describe('return fields the site lacks', () => {
  it("before calibration: pass (the rule is assumed, not measured), and the site's names are not even asked", async () => {
    h.sim.control.resetStats();
    for (const p of Object.values(TOOLKIT)) {
      const r = await compare(p);
      expect(r.cache).toBe('pass');
      expect(r.reason).toMatch(/^uncached-field:/);
      expect(r.identical).toBe(true);
    }
    expect((await readiness.load()).siteFields.knows('PipelineConfiguration')).toBe(false);
  });

  it('measured omit: served identical to the site (the keys left out), plain and deep', async () => {
    await configure({ missingReturnField: 'omit' });
    const ready = await readiness.load();
    expect(ready.siteRules.report().missingReturnField).toMatchObject({ status: 'measured', value: 'omit' });
    // Calibration recorded every cached type's site field names from one schema_read: the first read is already served.
    for (const t of ['PipelineConfiguration', 'Version', 'Project', 'Shot']) expect(ready.siteFields.knows(t)).toBe(true);
    const firstRead = await compare(TOOLKIT.pipelineConfig);
    // One site call: the cache's own verification of the caller's credential (earlier passes teach no verdict); no field learning.
    expect({ cache: firstRead.cache, identical: firstRead.identical, siteCalls: firstRead.siteCalls }).toEqual({ cache: 'hit', identical: true, siteCalls: 1 });
    const pc = results(await servedAfterLearning(TOOLKIT.pipelineConfig, 'PipelineConfiguration.plugin_ids')).entities;
    expect(pc.length).toBeGreaterThan(0);
    expect(pc[0]).not.toHaveProperty('plugin_ids');
    const v = results(await servedAfterLearning(TOOLKIT.version, 'Version.client_approved_by')).entities;
    expect(Object.keys(v[0])).toEqual(['type', 'id', 'code', 'entity']);
    await servedAfterLearning(TOOLKIT.project, 'Project.sg_flow_am_id');
  });

  it('measured null: served identical to the site (null columns in request order)', async () => {
    await configure({ missingReturnField: 'null' });
    for (const p of Object.values(TOOLKIT)) {
      const r = await compare(p);
      expect({ cache: r.cache, identical: r.identical, siteCalls: r.siteCalls }).toEqual({ cache: 'hit', identical: true, siteCalls: 0 });
    }
    const v = results((await compare(TOOLKIT.version)).body).entities;
    expect(v[0]['created_by.HumanUser.nope']).toBeNull();
    expect(Object.keys(v[0])).toEqual(['type', 'id', 'code', 'client_approved_by', 'created_by.HumanUser.nope', 'entity']);
  });

  it('a probed user (its own view verified, not trusted) is served the same way', async () => {
    const lead = { user_login: SEEDED_PROFILE_LOGINS.lead, user_password: DEFAULT_USER_PASSWORD };
    for (const p of Object.values(TOOLKIT)) {
      const asLead = { ...p, params: [lead, p.params[1]] };
      await compare(asLead); // the first read of each type probes the lead's view
      const r = await compare(asLead);
      expect({ cache: r.cache, reason: r.reason, identical: r.identical }).toMatchObject({ cache: 'hit', identical: true });
    }
  });

  it('filters, sorts and summaries on a missing field pass (the site faults); a field the site has but the cache does not keep passes', async () => {
    const cases: unknown[] = [
      readPayload(SCRIPT_AUTH, 'PipelineConfiguration', [cond('plugin_ids', 'is', 'x')], ['code']),
      readPayload(SCRIPT_AUTH, 'PipelineConfiguration', [], ['code'], { sorts: [{ field_name: 'plugin_ids', direction: 'asc' }] }),
      {
        method_name: 'summarize',
        params: [
          SCRIPT_AUTH,
          { type: 'PipelineConfiguration', filters: { logical_operator: 'and', conditions: [] }, summaries: [{ field: 'plugin_ids', type: 'count' }] },
        ],
      },
    ];
    for (const p of cases) {
      const r = await compare(p);
      expect(r.cache, JSON.stringify(p)).toBe('pass');
      expect(r.reason).toBe('uncached-field:PipelineConfiguration.plugin_ids');
      expect(r.identical).toBe(true);
    }
    // image is cached since issue 14 item 3; Shot.sg_editorial_data (serializable) is a field the site has and the cache does not keep.
    const kept = await compare(readPayload(SCRIPT_AUTH, 'Shot', [], ['code', 'sg_editorial_data']));
    expect({ cache: kept.cache, reason: kept.reason }).toEqual({ cache: 'pass', reason: 'uncached-field:Shot.sg_editorial_data' });
  });

  it("measured fault: pass (the site's fault text is the site's)", async () => {
    await configure({ missingReturnField: 'fault' });
    const r = await compare(TOOLKIT.pipelineConfig);
    expect({ cache: r.cache, reason: r.reason, identical: r.identical }).toEqual({
      cache: 'pass',
      reason: 'uncached-field:PipelineConfiguration.plugin_ids',
      identical: true,
    });
    expect((r.body.json() as { exception?: boolean }).exception).toBe(true);
  });

  it('a site answering a deep missing field unlike a plain one: the rule is unmatched, such reads pass', async () => {
    await configure({ missingReturnField: 'omit', missingDeepReturnField: 'null' });
    expect((await readiness.load()).siteRules.report().missingReturnField.status).toBe('unmatched');
    for (const p of [TOOLKIT.pipelineConfig, TOOLKIT.version]) {
      const r = await compare(p);
      expect({ cache: r.cache, identical: r.identical }).toEqual({ cache: 'pass', identical: true });
      expect(r.reason).toMatch(/^uncached-field:/);
    }
    h.sim.control.setSemantics({ missingDeepReturnField: 'same' });
  });

  it('a field the site adds afterwards (Shotgun_DisplayColumn_New) is no longer answered as missing', async () => {
    await configure({ missingReturnField: 'null' });
    const payload = readPayload(SCRIPT_AUTH, 'PipelineConfiguration', [], ['code', 'plugin_ids']);
    expect((await compare(payload)).cache).toBe('hit');
    expect(h.sim.control.changeField({ type: 'PipelineConfiguration', field: 'plugin_ids', add: true, data_type: 'text' })).toBeGreaterThan(0);
    const pc = results(await h.direct(readPayload(SCRIPT_AUTH, 'PipelineConfiguration', [], ['id']))).entities[0];
    await h.site.call('update', { type: 'PipelineConfiguration', id: pc.id, fields: [{ field_name: 'plugin_ids', value: 'basic.*' }] });
    expect(await pollOnce(h, ddb)).toBeGreaterThan(0);
    for (let i = 0; i < 2; i++) {
      const r = await compare(payload);
      expect({ cache: r.cache, reason: r.reason, identical: r.identical }).toEqual({
        cache: 'pass',
        reason: 'uncached-field:PipelineConfiguration.plugin_ids',
        identical: true,
      });
    }
    expect(JSON.stringify(results((await compare(payload)).body))).toContain('basic.*');
    const known = (await readiness.load()).siteFields;
    expect(known.knows('PipelineConfiguration')).toBe(true);
    expect(known.lacks('PipelineConfiguration', 'plugin_ids')).toBe(false);
    expect(known.lacks('PipelineConfiguration', 'sg_plugin_ids')).toBe(true);
  });
});
