// Shadow verification end to end on the one-machine stack: sampled hits replayed by the verifier against the simulated site, a change in between converging, a corrupted entity caught, its type passed through until validation clears it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createVerifierHandler } from '../../functions/verifier/app.js';
import { SHADOW_VERIFIER } from '../../local/functions.js';
import { startSqsEventSource, type SqsEventSource } from '../../local/sqs-event-source.js';
import { startStack, type LocalStack } from '../../local/stack.js';
import { authParams, readParams, rpcPayload, updateParams, wireCondition } from '../../shared/site/index.js';
import { loadCachedSchema } from '../../shared/schema/index.js';
import { EntityStore } from '../../shared/store/index.js';
import { type ShadowVerdict, MemoryShadowMetrics } from '../../shared/shadow/index.js';
import { syncContextFromEnv, validatorFor } from '../../shared/sync/index.js';
import { postRpc, httpRequest, type RawResponse } from './http.js';
import { waitFor } from './wait.js';

const schema = loadCachedSchema('schema/default.yml');
let stack: LocalStack;
let dataDir: string;
let verifier: SqsEventSource;
const metrics = new MemoryShadowMetrics();
const verdicts: Array<ShadowVerdict & { type: string; shape: string }> = [];
/** The verifier's error log lines (message and structured details). */
const errors: Array<{ message: string; details: Record<string, unknown> }> = [];
const logger = {
  error: (message: string, details: Record<string, unknown>) => {
    errors.push({ message, details });
  },
  warn: () => {},
  debug: () => {},
};

const auth = () => authParams({ scriptName: stack.functionEnv.SHOTGUN_SCRIPT_NAME!, apiKey: stack.functionEnv.SHOTGUN_SCRIPT_KEY! });
const api = (method: string, params: unknown): Promise<RawResponse> => postRpc(`${stack.apiUrl}/api3/json`, rpcPayload(method, auth(), params));
const site = (method: string, params: unknown): Promise<RawResponse> => postRpc(`${stack.simUrl}/api3/json`, rpcPayload(method, auth(), params));
const shotById = (id: number) => readParams('Shot', [wireCondition('id', 'is', id)], ['code', 'description', 'sg_sequence']);
type Status = {
  components: {
    cache: { shadow?: { checked: number; matched: number; converged: number; mismatched: number; quarantined: Array<{ type: string; reason: string }> } };
  };
};
const shadowStatus = async () => ((await httpRequest(`${stack.apiUrl}/status`, { method: 'GET' })).json() as Status).components.cache.shadow!;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'fpt-cache-shadow-'));
  stack = await startStack({
    port: 0,
    simPort: 0,
    dynamodbPort: 0,
    sqsPort: 0,
    dataDir,
    log: () => {},
    // Every hit sampled (the suite's rate); differences re-checked for 4 s in rounds from 250 ms. The verifier is
    // started by the test itself, so that the site can change between an answer and its replay.
    env: { SIM_ENTITIES: '60', SHADOW_SAMPLE_RATE: '1', SHADOW_SETTLE_MS: '4000', SHADOW_ROUND_MS: '250' },
    verifier: null,
  });
  // Ready, as the API itself sees it (its readiness snapshot lags the sync's by up to READINESS_CACHE_MS).
  await waitFor(
    'the stack ready',
    async () => {
      const s = (await httpRequest(`${stack.apiUrl}/status`, { method: 'GET' })).json() as { ready: boolean; components: { cache?: { ready?: boolean } } };
      const ready = s.ready && s.components.cache?.ready === true;
      if (!ready) await new Promise((r) => setTimeout(r, 200));
      return ready;
    },
    120_000,
  );
}, 180_000);

afterAll(async () => {
  await verifier?.stop();
  await stack?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

async function startVerifier(): Promise<void> {
  verifier = startSqsEventSource({
    endpoint: stack.sqs.endpoint,
    queueUrl: stack.sqs.shadowQueueUrl,
    dlqUrl: stack.sqs.shadowDlqUrl,
    fn: SHADOW_VERIFIER.fn,
    handler: await createVerifierHandler(stack.functionEnv, { metrics, logger, onVerdict: (v) => verdicts.push(v) }),
  });
}

describe('shadow verification', () => {
  let shots: Array<{ id: number; code: string }>;

  it('a change on the site between the answer and its replay converges: not a mismatch', async () => {
    shots = ((await site('read', readParams('Shot', [], ['code']))).json() as { results: { entities: Array<{ id: number; code: string }> } }).results.entities;
    expect(shots.length).toBeGreaterThan(2);
    const target = shots[0];
    const answered = await api('read', shotById(target.id));
    expect(answered.headers['x-fpt-cache']).toBe('hit');
    // The site changes after the cache answered and before the verifier replays the request.
    await site('update', updateParams('Shot', target.id, { description: 'changed after the answer' }));
    await startVerifier();
    const v = await waitFor('the verdict on the changed shot', () => verdicts.find((x) => x.type === 'Shot' && x.outcome !== 'matched'), 60_000);
    expect(v.outcome).toBe('converged');
    expect(metrics.total('ShadowMismatch')).toBe(0);
    expect(metrics.total('ShadowConverged')).toBeGreaterThanOrEqual(1);
    // Still served from the cache, with the site's new value.
    const again = await api('read', shotById(target.id));
    expect(again.headers['x-fpt-cache']).toBe('hit');
    expect((again.json() as { results: { entities: Array<{ description: string }> } }).results.entities[0].description).toBe('changed after the answer');
    const status = await shadowStatus();
    expect(status.mismatched).toBe(0);
    expect(status.converged).toBeGreaterThanOrEqual(1);
    expect(status.quarantined).toEqual([]);
  }, 90_000);

  it('a corrupted cached entity is caught: ShadowMismatch, then its type passes through until validation finds it clean', async () => {
    const target = shots[1];
    const ctx = await syncContextFromEnv(stack.functionEnv, { schema });
    try {
      // Corrupt the cached copy only (a version no event will ever beat), as a lost or misapplied write would.
      const store = new EntityStore(ctx.ddb, ctx.tables, schema);
      expect((await store.applyChange('Shot', target.id, { description: 'corrupted in the cache' }, 2_000_000_000)).status).toBe('applied');
      const answered = await api('read', shotById(target.id));
      expect(answered.headers['x-fpt-cache']).toBe('hit');
      expect((answered.json() as { results: { entities: Array<{ description: string }> } }).results.entities[0].description).toBe('corrupted in the cache');

      const v = await waitFor('the mismatch verdict', () => verdicts.find((x) => x.outcome === 'mismatch'), 60_000);
      expect(v.type).toBe('Shot');
      expect(v.evidence?.differences).toEqual([{ id: target.id, fields: ['description'] }]);
      expect(metrics.total('ShadowMismatch')).toBe(1);
      expect([...metrics.mismatches.keys()]).toEqual([`Shot|${v.shape}`]);
      expect(v.shape).toBe('read Shot [id is]');
      // The log line holds the request and both answers, and nothing of the caller's credentials.
      const line = errors.find((e) => e.message.startsWith('shadow mismatch'))!;
      expect(line.details).toMatchObject({
        type: 'Shot',
        shape: 'read Shot [id is]',
        request: shotById(target.id),
        principal: `script:${stack.functionEnv.SHOTGUN_SCRIPT_NAME}`,
      });
      expect(JSON.parse(line.details.cacheAnswer as string).entities[0].description).toBe('corrupted in the cache');
      expect(JSON.parse(line.details.siteAnswer as string).entities[0].description).not.toBe('corrupted in the cache');
      expect(JSON.stringify(line)).not.toContain(stack.functionEnv.SHOTGUN_SCRIPT_KEY!);
      expect(errors.some((e) => e.message.startsWith('Shot is now served from the site'))).toBe(true);

      // The type is quarantined: its reads go to the site (with the site's true value) with reason shadow-mismatch.
      const passed = await waitFor(
        'Shot reads passing through',
        async () => {
          const r = await api('read', shotById(target.id));
          if (r.headers['x-fpt-cache'] !== 'pass') await new Promise((res) => setTimeout(res, 200));
          return r.headers['x-fpt-cache'] === 'pass' ? r : undefined;
        },
        30_000,
      );
      expect(passed.headers['x-fpt-cache-reason']).toBe('shadow-mismatch');
      expect((passed.json() as { results: { entities: Array<{ description: unknown }> } }).results.entities[0].description).not.toBe('corrupted in the cache');
      // Other types are still served.
      expect((await api('read', readParams('Asset', [], ['code']))).headers['x-fpt-cache']).toBe('hit');
      const status = await shadowStatus();
      expect(status.mismatched).toBeGreaterThanOrEqual(1);
      expect(status.quarantined.map((q) => [q.type, q.reason])).toEqual([['Shot', 'shadow-mismatch']]);

      // Validation still sees the drift (the suspect is compared whatever the sample): the type stays out of service.
      const validator = validatorFor(ctx);
      const dirty = await validator.run({ types: ['Shot'], data: 0, recheckMs: 0 });
      expect(dirty.types[0]).toMatchObject({ quarantined: true, differing: [{ id: target.id, fields: ['description'] }] });
      expect(dirty.types[0].cleared).toBeUndefined();
      expect((await shadowStatus()).quarantined).toHaveLength(1);

      // Repaired (re-read from the site, newer than the corruption), validation finds it clean and clears the quarantine.
      const truth = await ctx.fetcher.one('Shot', target.id);
      expect((await store.putEntity(truth!, 2_000_000_001)).status).toBe('applied');
      const clean = await validator.run({ types: ['Shot'], data: 0, recheckMs: 0 });
      expect(clean.types[0]).toMatchObject({ quarantined: true, cleared: true, differing: [] });
      expect((await shadowStatus()).quarantined).toEqual([]);
      await waitFor(
        'Shot reads served again',
        async () => {
          const r = await api('read', shotById(target.id));
          if (r.headers['x-fpt-cache'] !== 'hit') await new Promise((res) => setTimeout(res, 200));
          return r.headers['x-fpt-cache'] === 'hit';
        },
        30_000,
      );
    } finally {
      ctx.destroy();
    }
  }, 120_000);

  it('a malformed sample is a poison message: retried, then moved to the shadow dead-letter queue', async () => {
    const sqs = new SQSClient({ endpoint: stack.sqs.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    try {
      await sqs.send(new SendMessageCommand({ QueueUrl: stack.sqs.shadowQueueUrl, MessageBody: '{"v":1,"method":"read"}' }));
      const dead = await waitFor(
        'the poison sample in the dead-letter queue',
        async () => {
          const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.sqs.shadowDlqUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }));
          return r.Messages?.[0];
        },
        60_000,
      );
      expect(dead.Body).toBe('{"v":1,"method":"read"}');
      // The emulator counts the move once its delete of the original has returned (the DLQ copy can be seen first).
      await waitFor('the move counted', () => verifier.stats().movedToDlq === 1, 10_000);
    } finally {
      sqs.destroy();
    }
  }, 90_000);
});
