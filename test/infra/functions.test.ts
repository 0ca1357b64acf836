import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TEST_SITE, logicalId, resource, synth, type Json } from './synth.js';

const { stack, template } = synth();
const resources = template.toJSON().Resources as Record<string, Json>;
const lambdas = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
const p = stack.pipeline;
const all = {
  poller: p.poller,
  consumer: p.consumer,
  importer: p.importer,
  reconciler: p.reconciler,
  validator: p.validator,
  api: stack.api.handler,
  verifier: stack.shadow!.verifier,
};
const env = (f: { fn: unknown }) => resource(template, logicalId(f.fn as never)).Properties.Environment.Variables as Json;

// A schema file of its own, so this test does not depend on the repo's schema/default.yml.
const schemaDir = mkdtempSync(join(tmpdir(), 'fpt-infra-schema-'));
writeFileSync(join(schemaDir, 'studio.yml'), 'types: {}\n');
const withSchema = synth({ schemaFile: join(schemaDir, 'studio.yml'), logRetentionDays: '90', serviceName: 'fpt-cache-prod' });
afterAll(() => rmSync(schemaDir, { recursive: true, force: true }));

describe('every function', () => {
  it('exists once per role in the stack (5 sync functions, the API and the shadow verifier)', () => {
    expect(lambdas).toHaveLength(Object.keys(all).length);
    expect(new Set(Object.values(all).map((f) => logicalId(f.fn)))).toEqual(new Set(lambdas.map(([id]) => id)));
  });

  it('runs nodejs24.x on arm64 with the exported `handler` of an ESM bundle', () => {
    for (const [id, r] of lambdas) {
      expect(r.Properties.Runtime, id).toBe('nodejs24.x');
      expect(r.Properties.Architectures, id).toEqual(['arm64']);
      expect(r.Properties.Handler, id).toBe('index.handler');
    }
  });

  it('logs to its own log group with retention (30 days by default, configurable)', () => {
    const groups = new Set<string>();
    for (const f of Object.values(all)) {
      const id = logicalId(f.logGroup);
      expect(resource(template, logicalId(f.fn)).Properties.LoggingConfig).toEqual({ LogGroup: { Ref: id } });
      expect(resource(template, id).Properties.RetentionInDays).toBe(30);
      groups.add(id);
    }
    expect(groups.size).toBe(Object.keys(all).length);
    const v = withSchema;
    expect(resource(v.template, logicalId(v.stack.api.handler.logGroup)).Properties.RetentionInDays).toBe(90);
  });

  it('gets the site URL, Powertools service and the FptCache metrics namespace', () => {
    for (const [name, f] of Object.entries(all)) {
      expect(env(f), name).toMatchObject({
        SHOTGUN_URL: TEST_SITE,
        POWERTOOLS_SERVICE_NAME: stack.stackName,
        POWERTOOLS_METRICS_NAMESPACE: 'FptCache',
        NODE_OPTIONS: '--enable-source-maps',
      });
    }
    expect(resource(withSchema.template, logicalId(withSchema.stack.pipeline.poller.fn)).Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME).toBe(
      'fpt-cache-prod',
    );
  });

  it('gets exactly the table and queue names it uses', () => {
    const entities = { Ref: logicalId(stack.tables.entities.table) };
    const state = { Ref: logicalId(stack.tables.state.table) };
    const refs = { Ref: logicalId(stack.tables.refs.table) };
    for (const f of [p.consumer, p.importer, p.reconciler, p.validator, stack.api.handler]) {
      expect(env(f)).toMatchObject({ ENTITIES_TABLE: entities, STATE_TABLE: state, REFS_TABLE: refs });
      expect(env(f).EVENTS_QUEUE_URL).toBeUndefined();
    }
    expect(env(p.poller)).toMatchObject({ STATE_TABLE: state, EVENTS_QUEUE_URL: { Ref: logicalId(p.queue) } });
    expect(env(p.poller).ENTITIES_TABLE).toBeUndefined();
    expect(env(p.poller).REFS_TABLE).toBeUndefined();
  });

  it('names the script for the functions that call the site as the script (the API: write-through read-backs)', () => {
    for (const f of [p.poller, p.consumer, p.importer, p.reconciler, p.validator, stack.api.handler]) expect(env(f).SHOTGUN_SCRIPT_NAME).toBe('fpt-cache-sync');
  });

  it('gives the reconciler its schema-diff interval (15 minutes by default, configurable)', () => {
    expect(env(p.reconciler).SCHEMA_DIFF_INTERVAL_MS).toBe(String(15 * 60_000));
    const other = synth({ schemaDiffIntervalMinutes: '60' }, 'FptCacheDiff');
    expect(resource(other.template, logicalId(other.stack.pipeline.reconciler.fn)).Properties.Environment.Variables.SCHEMA_DIFF_INTERVAL_MS).toBe(
      String(60 * 60_000),
    );
  });

  it('points SCHEMA at the schema file copied into the bundle', () => {
    for (const f of [withSchema.stack.pipeline.consumer, withSchema.stack.api.handler]) {
      expect(resource(withSchema.template, logicalId(f.fn)).Properties.Environment.Variables.SCHEMA).toBe('/var/task/schema/studio.yml');
    }
  });

  it("keeps the API under the HTTP API's 30 s integration limit", () => {
    expect(resource(template, logicalId(stack.api.handler.fn)).Properties.Timeout).toBeLessThan(30);
  });
});
