// The API as `npm start` wires it (local/functions.ts, the stack's environment, the real sync pipeline): /status carries the cache's readiness, reads hit once imported, writes read back.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type LocalStack } from '../../local/stack.js';
import { createParams } from '../../shared/site/index.js';
import { httpRequest, postRpc } from '../stack/http.js';
import { waitFor } from '../stack/wait.js';
import { waitUntil } from '../sync/helpers.js';
import { cond, readPayload, results, schema } from './harness.js';

let stack: LocalStack;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fpt-cache-api-stack-'));
  stack = await startStack({
    port: 0,
    simPort: 0,
    dynamodbPort: 0,
    sqsPort: 0,
    dataDir: dir,
    log: () => {},
    env: { SIM_ENTITIES: '80', READINESS_CACHE_MS: '1' },
  });
});
afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const auth = () => ({ script_name: stack.functionEnv.SHOTGUN_SCRIPT_NAME!, script_key: stack.functionEnv.SHOTGUN_SCRIPT_KEY! });
type CacheComponent = {
  ok: boolean;
  ready?: boolean;
  mode?: string;
  types?: Record<string, { ready: boolean; fields: number; of: number }>;
  siteRules?: Record<string, { status: string; value: string; probe?: string }>;
};
const cacheStatus = async () =>
  ((await httpRequest(`${stack.apiUrl}/status`, { method: 'GET' })).json() as { components: Record<string, CacheComponent> }).components.cache;

describe('the API in the one-machine stack', () => {
  it("reports the cache's readiness per type in the stack's /status, and serves hits once the import made it ready", async () => {
    const ready = await waitFor(
      'the import to make every cached type ready',
      async () => {
        const c = await cacheStatus();
        return c?.ready ? c : undefined;
      },
      60_000,
    );
    expect(ready).toMatchObject({ ok: true, mode: 'cache' });
    expect(Object.keys(ready.types!).sort()).toEqual([...schema.site.typeNames].sort());
    for (const t of Object.values(ready.types!)) expect(t).toMatchObject({ ready: true, fields: t.of });
    // The import calibrated the site's rules before the types came into service: /status shows each one with its probe.
    expect(Object.keys(ready.siteRules!)).toContain('nullsAsc');
    expect(ready.siteRules!.nullsAsc).toMatchObject({ status: 'measured', value: 'last', probe: expect.stringMatching(/sorted by .* asc/) });
    expect(ready.siteRules!.emptyOrTop).toMatchObject({ status: 'measured', value: 'all' });
    const payload = readPayload(auth(), 'Shot', [], ['code', 'project', 'sg_sequence']);
    const hit = await postRpc(`${stack.apiUrl}/api3/json`, payload, { 'x-fpt-cache-require': 'hit' });
    expect(hit.headers['x-fpt-cache']).toBe('hit');
    expect(hit.body.equals((await postRpc(`${stack.upstream}/api3/json`, payload)).body)).toBe(true);
  });

  it("reads a write back at once (write-through with the stack's script credentials)", async () => {
    const project = (results(await postRpc(`${stack.apiUrl}/api3/json`, readPayload(auth(), 'Project', [], ['name']))) as { entities: any[] }).entities[0];
    const created = await postRpc(`${stack.apiUrl}/api3/json`, {
      method_name: 'create',
      params: [auth(), createParams('Shot', { code: 'stack_ryw', project })],
    });
    expect(created.headers['x-fpt-cache-write-through']).toBe('applied');
    // The write's own event may be polled before the read: Shot reads then pass (the freshness gate) until it is applied,
    // and answer the same. Every answer carries the write; the read becomes a hit without waiting for a reconcile.
    const payload = readPayload(auth(), 'Shot', [cond('id', 'is', results(created).id)], ['code']);
    await waitUntil(
      'the written Shot to be a hit',
      async () => {
        const read = await postRpc(`${stack.apiUrl}/api3/json`, payload);
        expect(results(read).entities).toEqual([{ type: 'Shot', id: results(created).id, code: 'stack_ryw' }]);
        return read.headers['x-fpt-cache'] === 'hit';
      },
      10_000,
    );
  });
});
