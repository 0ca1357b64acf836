// What is deployed is what is tested: the synthesized bundles (cdk.out asset.*/index.mjs) run in Lambda-like containers against the local stack, with each trigger's real events and every AWS call checked against the function's role.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startLocalApiGateway, type LocalApiGateway } from '../../local/api-gateway.js';
import type { SimSite } from '../../local/sim/server.js';
import { startLocalSqs, type LocalSqs } from '../../local/sqs-local.js';
import { authParams, readParams, rpcPayload, updateParams, wireCondition } from '../../shared/site/index.js';
import { httpRequest, postRpc, type RawResponse } from '../stack/http.js';
import { waitFor } from '../stack/wait.js';
import { startTestSite } from '../support/sim-site.js';
import { synthAssembly, type Assembly } from './assembly.js';
import { startWorld, type World } from './world.js';

/** Peak RSS above this share of the configured memory fails the test: Lambda kills a function at 100 %. */
const MEMORY_BUDGET = 0.6;
const SITE = 'https://bundle-test.shotgrid.autodesk.com';
/**
 * The only deviations from the template's environment, each for the suite's time budget: the poller loops 2 s per
 * invocation instead of 55 s, and the local machine's Node (not the runtime's) is told not to warn about its own age.
 */
const OVERRIDES = { poller: { POLL_LOOP_MS: '2000' } };
const LOCAL_NODE = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: '1' };

let assembly: Assembly;
let sim: SimSite;
let sqs: LocalSqs;
let world: World;
let api: LocalApiGateway;

const phases: Record<string, number> = {};
beforeAll(async () => {
  let t = Date.now();
  const phase = (name: string) => {
    phases[name] = Date.now() - t;
    t = Date.now();
  };
  [sim, sqs] = await Promise.all([startTestSite({ entities: 60 }), startLocalSqs({ port: 0 })]);
  // One synth for the whole file; the shadow sample rate is 1 so the API's first hit is verified.
  phase('site and queues');
  assembly = synthAssembly({ siteUrl: SITE, scriptName: sim.credentials.scriptName, shadowSampleRate: 1, pollIntervalMs: 500 });
  phase('synth');
  const names = Object.keys(assembly.functionIds);
  world = await startWorld(assembly, {
    dynamodbEndpoint: inject('dynamodbEndpoint'),
    sqsEndpoint: sqs.endpoint,
    literals: { [SITE]: sim.url },
    secretValues: () => sim.credentials.scriptKey,
    overrides: Object.fromEntries(names.map((n) => [n, { ...LOCAL_NODE, ...(OVERRIDES as Record<string, Record<string, string>>)[n] }])),
  });
  phase('tables, queues and containers (init)');
  const f = world.functions.api;
  api = await startLocalApiGateway({
    port: 0,
    fn: { name: f.name, timeoutMs: f.timeoutS * 1000, memoryMb: f.memoryMb },
    handler: (event) => world.invoke('api', event),
  });
  // Synth and seven container inits are CPU-bound: on a loaded two-core machine they take several times longer.
}, 420_000);

afterAll(async () => {
  await api?.close();
  await world?.stop();
  await Promise.allSettled([sim?.close(), sqs?.close()]);
  if (assembly) rmSync(assembly.dir, { recursive: true, force: true });
});

const auth = () => authParams({ scriptName: sim.credentials.scriptName, apiKey: sim.credentials.scriptKey });
const viaApi = (method: string, params: unknown): Promise<RawResponse> => postRpc(`${api.url}/api3/json`, rpcPayload(method, auth(), params));
const viaSite = (method: string, params: unknown): Promise<RawResponse> => postRpc(`${sim.url}/api3/json`, rpcPayload(method, auth(), params));
const shotById = (id: number) => readParams('Shot', [wireCondition('id', 'is', id)], ['code', 'description', 'sg_sequence']);
type Read = { results: { entities: Array<Record<string, unknown>> } };
/** The API function's own GET /status. */
type Status = { ready?: boolean; shadow?: { checked: number; matched: number; mismatched: number } };
const status = async () =>
  (await httpRequest(`${api.url}/status`, { method: 'GET', headers: { 'x-fpt-cache-script-key': sim.credentials.scriptKey } })).json() as Status;

describe('the deployed bundles, run as Lambda runs them', () => {
  let shot: { id: number; code: string };

  it("every function of the template has a bundle that starts with only the runtime's modules", () => {
    expect(Object.keys(world.containers).sort()).toEqual(['api', 'consumer', 'importer', 'poller', 'reconciler', 'validator', 'verifier']);
    for (const [name, f] of Object.entries(world.functions)) {
      expect(f.runtime, name).toBe('nodejs24.x');
      expect(world.containers[name].initMs, name).toBeGreaterThan(0);
    }
  });

  it('poller (EventBridge schedule): starts the import with an asynchronous invoke of the importer', async () => {
    const run = await world.invoke<{ status: string; importTriggered: boolean }>('poller', world.scheduledEvent('poller'));
    expect(run.importTriggered).toBe(true);
    expect(world.endpoint.invocations).toEqual([
      { caller: world.functions.poller.name, functionArn: world.functions.importer.arn, payload: { source: 'fpt-cache-poller' } },
    ]);
  });

  it("importer (async invoke with the poller's payload): completes the import", async () => {
    const payload = world.endpoint.invocations[0].payload;
    let run: { complete: boolean; written: number } = { complete: false, written: 0 };
    let written = 0;
    for (let i = 0; i < 10 && !run.complete; i++) {
      run = await world.invoke('importer', payload);
      written += run.written;
    }
    expect(run.complete).toBe(true);
    expect(written).toBeGreaterThan(30);
  });

  it("api (HTTP API payload v2): a cache hit identical to the site's answer, and a fault in Shotgun's shape", async () => {
    let last: Status = {};
    await waitFor(
      'the API ready',
      async () => {
        const s = (last = await status());
        return s.ready === true;
      },
      30_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify(last)}`);
    });
    const shots = ((await viaSite('read', readParams('Shot', [], ['code']))).json() as Read).results.entities as Array<{ id: number; code: string }>;
    shot = shots[0];
    const [cached, site] = await Promise.all([viaApi('read', shotById(shot.id)), viaSite('read', shotById(shot.id))]);
    expect(cached.headers['x-fpt-cache']).toBe('hit');
    expect(cached.json()).toEqual(site.json());
    const fault = await httpRequest(`${api.url}/api3/json`, { headers: { 'content-type': 'application/json' }, body: '{"method_name": "read", "params": [' });
    expect(fault.status).toBe(200);
    expect(fault.json()).toMatchObject({ exception: true, error_code: expect.any(Number), message: expect.any(String) });
  });

  it('verifier (SQS batch, ReportBatchItemFailures): the sampled hit gets a matching verdict', async () => {
    expect(world.queueTrigger('verifier').reportBatchItemFailures).toBe(true);
    await world.drain('verifier');
    expect(world.results.verifier.every((r) => r.ok && (r.value as { batchItemFailures: unknown[] }).batchItemFailures.length === 0)).toBe(true);
    const shadow = await waitFor('a verdict', async () => {
      const s = (await status()).shadow;
      return s && s.checked > 0 ? s : undefined;
    });
    expect(shadow).toMatchObject({ mismatched: 0 });
    expect(shadow.matched).toBeGreaterThan(0);
  });

  it('poller, then consumer (SQS FIFO batch, ReportBatchItemFailures): a change on the site is applied and served', async () => {
    const description = `changed by the bundle test ${Date.now()}`;
    const upd = await viaSite('update', updateParams('Shot', shot.id, { description }));
    expect((upd.json() as { exception?: boolean }).exception).toBeUndefined();
    const run = await world.invoke<{ forwarded?: number }>('poller', world.scheduledEvent('poller'));
    expect(run).toMatchObject({ status: 'done' });
    expect(world.queueTrigger('consumer').reportBatchItemFailures).toBe(true);
    await world.drain('consumer');
    expect(world.results.consumer.length).toBeGreaterThan(0);
    expect(world.results.consumer.every((r) => r.ok && (r.value as { batchItemFailures: unknown[] }).batchItemFailures.length === 0)).toBe(true);
    const after = await waitFor('the change served from the cache', async () => {
      const r = await viaApi('read', shotById(shot.id));
      const e = (r.json() as Read).results.entities[0];
      return r.headers['x-fpt-cache'] === 'hit' && e?.description === description ? e : undefined;
    });
    expect(after.description).toBe(description);
  });

  it('reconciler (EventBridge schedule): a pass over every cached type', async () => {
    const run = await world.invoke<{ stamp: unknown; stopped: boolean; types: Record<string, unknown> }>('reconciler', world.scheduledEvent('reconciler'));
    expect(run.stopped).toBe(false);
    expect(Object.keys(run.types).length).toBeGreaterThan(0);
  });

  it('validator (EventBridge schedule): zero drift', async () => {
    const run = await world.invoke<{ drift: number; types: number }>('validator', world.scheduledEvent('validator'));
    expect(run.types).toBeGreaterThan(0);
    expect(run.drift).toBe(0);
  });
});

describe('what the bundles did', () => {
  it('ran every function', () => {
    for (const [name, c] of Object.entries(world.containers)) expect(c.invocations, name).toBeGreaterThan(0);
  });

  it('made only AWS calls their roles allow, all to services stood in for here', () => {
    expect(world.endpoint.unknown).toEqual([]);
    expect(world.endpoint.calls.length).toBeGreaterThan(50);
    expect(world.endpoint.calls.filter((c) => !c.allowed).map((c) => `${c.fn}: ${c.action} on ${c.resource}`)).toEqual([]);
    // Each function that calls the site read the script key from Secrets Manager.
    const keyReaders = new Set(world.endpoint.calls.filter((c) => c.action === 'secretsmanager:GetSecretValue').map((c) => c.fn));
    for (const name of Object.keys(world.containers)) expect(keyReaders.has(world.functions[name].name), name).toBe(true);
  });

  it('wrote nothing outside /tmp', async () => {
    for (const [name, c] of Object.entries(world.containers)) expect(c.violations, name).toEqual([]);
  });

  it(`stayed under ${MEMORY_BUDGET * 100} % of each function's configured memory`, () => {
    const over = Object.entries(world.containers)
      .filter(([, c]) => c.peakRssMb > MEMORY_BUDGET * c.spec.memoryMb)
      .map(([name, c]) => `${name}: ${c.peakRssMb.toFixed(0)} MB of ${c.spec.memoryMb} MB`);
    if (process.env.FPT_BUNDLE_REPORT) {
      console.log(
        Object.entries(phases)
          .map(([k, v]) => `${k}: ${v} ms`)
          .join('; '),
      );
      for (const [name, c] of Object.entries(world.containers))
        console.log(`${name}\tinit ${c.initMs.toFixed(0)} ms\tpeak RSS ${c.peakRssMb.toFixed(0)} MB of ${c.spec.memoryMb} MB`);
    }
    expect(over).toEqual([]);
  });

  it('logged and emitted metrics as the template names the service (POWERTOOLS_SERVICE_NAME), each log line naming its function', () => {
    for (const [name, c] of Object.entries(world.containers)) {
      const service = world.environment(name).POWERTOOLS_SERVICE_NAME;
      const json = c.jsonLogs();
      const lines = json.filter((l) => typeof l.level === 'string');
      const metrics = json.filter((l) => typeof l._aws === 'object');
      expect(lines.length + metrics.length, name).toBeGreaterThan(0);
      for (const l of lines) expect([l.service, l.function_name], name).toEqual([service, world.functions[name].name]);
      for (const m of metrics) expect(m.service, name).toBe(service);
    }
  });
});
