// The Shotgun client against the real simulated site: retry policy per fault kind, timeouts, typed faults, paging.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimSite, type SimSite } from '../../local/sim/server.js';
import { freePort } from '../../local/ports.js';
import { ShotgunFault, ShotgunClient, ShotgunTransportError, type ShotgunClientOptions } from '../../shared/site/index.js';
import type { FaultKind } from '../../local/sim/knobs.js';

let sim: SimSite;
let projectId: number;

beforeAll(async () => {
  sim = await startSimSite({ port: 0, entities: 150 });
  const projects = await client().findAll({ type: 'Project', fields: ['name'] });
  projectId = projects[0].id as number;
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => {
  sim.control.reset();
});

/** Fast backoff: the policy is under test, not the wall clock. */
function client(extra: Partial<ShotgunClientOptions> = {}): ShotgunClient {
  return new ShotgunClient({
    url: sim.url,
    scriptName: sim.credentials.scriptName,
    scriptKey: sim.credentials.scriptKey,
    retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5 },
    ...extra,
  });
}

const requests = (method: string) => (sim.control.stats().byMethod as Record<string, number>)[method] ?? 0;
const readShots = (c: ShotgunClient) =>
  c.call<{ entities: unknown[] }>('read', {
    type: 'Shot',
    return_fields: ['code'],
    filters: { logical_operator: 'and', conditions: [] },
    return_only: 'active',
    paging: { entities_per_page: 5, current_page: 1 },
  });
const createShot = (c: ShotgunClient, code: string) =>
  c.call<{ id: number }>('create', {
    type: 'Shot',
    fields: [
      { field_name: 'code', value: code },
      { field_name: 'project', value: { type: 'Project', id: projectId } },
    ],
    return_fields: ['code'],
  });
async function shotsCoded(code: string): Promise<number> {
  sim.control.reset();
  return (await client().findAll({ type: 'Shot', filters: [['code', 'is', code]] })).length;
}
async function rejection(p: Promise<unknown>): Promise<ShotgunTransportError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ShotgunTransportError);
  return e as ShotgunTransportError;
}

describe('Shotgun client: retries', () => {
  it.each<[FaultKind]>([['http502'], ['http503'], ['http504'], ['reset']])('retries a read after %s and returns its answer', async (kind) => {
    sim.control.failNext({ kind, method: 'read' });
    const out = await readShots(client());
    expect(out.entities).toHaveLength(5);
    expect(requests('read')).toBe(2);
  });

  it.each<[FaultKind]>([['http502'], ['http503'], ['http504']])('never repeats a create after %s (it may have been applied)', async (kind) => {
    sim.control.failNext({ kind, method: 'create', after: true });
    const e = await rejection(createShot(client(), `no-retry-${kind}`));
    expect(e.kind).toBe('gateway');
    expect(e.details).toMatchObject({ method: 'create', attempts: 1, mayHaveReachedSite: true, status: Number(kind.slice(4)) });
    expect(requests('create')).toBe(1);
    expect(await shotsCoded(`no-retry-${kind}`)).toBe(1);
  });

  it('never repeats an update, delete or batch after a 502', async () => {
    const c = client();
    const { id } = await createShot(c, 'victim');
    for (const [method, params] of [
      ['update', { type: 'Shot', id, fields: [{ field_name: 'code', value: 'victim2' }] }],
      ['delete', { type: 'Shot', id }],
      ['batch', [{ request_type: 'delete', type: 'Shot', id }]],
      ['some_unknown_method', { x: 1 }],
    ] as const) {
      sim.control.reset();
      sim.control.failNext({ kind: 'http502', method });
      const e = await rejection(c.call(method, params));
      expect(e.details.attempts).toBe(1);
      expect(requests(method)).toBe(1);
    }
  });

  it('retries a create refused with 429 (the site did nothing), creating it once', async () => {
    sim.control.failNext({ kind: 'http429', method: 'create', count: 2 });
    const created = await createShot(client(), 'after-429');
    expect(created.id).toBeGreaterThan(0);
    expect(requests('create')).toBe(3);
    expect(await shotsCoded('after-429')).toBe(1);
  });

  it('does not repeat a create whose connection was reset after it was applied', async () => {
    sim.control.failNext({ kind: 'reset', method: 'create', after: true });
    const e = await rejection(createShot(client(), 'reset-after'));
    expect(e.kind).toBe('reset');
    expect(e.details.attempts).toBe(1);
    expect(e.message).toMatch(/not retried because the call may have been applied/);
    expect(await shotsCoded('reset-after')).toBe(1);
  });

  it('times a hung call out and retries it if it is a read, not if it is a create', async () => {
    const c = client({ timeoutMs: 300 });
    sim.control.failNext({ kind: 'timeout', method: 'read' });
    expect((await readShots(c)).entities).toHaveLength(5);
    expect(requests('read')).toBe(2);

    sim.control.failNext({ kind: 'timeout', method: 'create' });
    const e = await rejection(createShot(c, 'timed-out'));
    expect(e.kind).toBe('timeout');
    expect(e.details.attempts).toBe(1);
    expect(requests('create')).toBe(1);
  });

  it('gives up after maxAttempts with the last status', async () => {
    sim.control.failNext({ kind: 'http503', method: 'read', count: 10 });
    const e = await rejection(readShots(client()));
    expect(e.kind).toBe('gateway');
    expect(e.details).toMatchObject({ attempts: 4, status: 503 });
    expect(requests('read')).toBe(4);
  });

  it('retries any call when the connection cannot even be opened, and says nothing reached the site', async () => {
    const closed = await freePort();
    const c = new ShotgunClient({
      url: `http://127.0.0.1:${closed}`,
      scriptName: 'x',
      scriptKey: 'y',
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    });
    const e = await rejection(c.call('create', { type: 'Shot', fields: [] }));
    expect(e.kind).toBe('not-sent');
    expect(e.details).toMatchObject({ attempts: 3, mayHaveReachedSite: false });
  });
});

describe('Shotgun client: answers and faults', () => {
  it("turns a fault body into a ShotgunFault with the site's error code", async () => {
    const c = client();
    const bad = await c.call('read', { type: 'NoSuchType', return_fields: ['id'] }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ShotgunFault);
    // The site's own reply to the same body, read raw: the client must carry exactly its code and message.
    const raw = (await (
      await fetch(`${sim.url}/api3/json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          method_name: 'read',
          params: [
            { script_name: sim.credentials.scriptName, script_key: sim.credentials.scriptKey },
            { type: 'NoSuchType', return_fields: ['id'] },
          ],
        }),
      })
    ).json()) as { error_code: number; message: string };
    expect((bad as ShotgunFault).errorCode).toBe(raw.error_code);
    expect((bad as ShotgunFault).message).toBe(raw.message);

    const denied = await c.call('read', { type: 'Shot' }, { auth: { script_name: 'nobody', script_key: 'wrong' } }).catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(ShotgunFault);
    expect((denied as ShotgunFault).errorCode).toBe(102);
  });

  it('sends info without auth and caches it', async () => {
    const c = client();
    const info = await c.info();
    expect(info.version.length).toBeGreaterThanOrEqual(3);
    await c.info();
    expect(requests('info')).toBe(1);
  });

  it('forwards a raw body and hands back the reply unchanged, even a 502 it may not retry', async () => {
    const c = client();
    const body = Buffer.from(JSON.stringify({ method_name: 'info', params: [] }));
    const ok = await c.forward(body, { 'content-type': 'application/json' }, { method: 'info' });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body.toString())).toEqual({ results: await c.info() });
    expect(ok.headers['content-encoding']).toBeUndefined();

    sim.control.failNext({ kind: 'http502', method: 'create' });
    const createBody = Buffer.from(JSON.stringify({ method_name: 'create', params: [] }));
    const bad = await c.forward(createBody, {}, { method: 'create' });
    expect(bad.status).toBe(502);
    expect(bad.body.toString()).toContain('502');
    expect(requests('create')).toBe(1);
  });
});

describe('Shotgun client: paging like shotgun_api3', () => {
  const sortedIds = (rows: Array<Record<string, unknown>>) => rows.map((r) => r.id as number);

  async function pagedTasks(legacy: boolean) {
    sim.control.setLegacyVersion(legacy);
    const c = client();
    const everything = await c.call<{ entities: Array<Record<string, unknown>> }>('read', {
      type: 'Task',
      return_fields: ['content'],
      filters: { logical_operator: 'and', conditions: [] },
      return_only: 'active',
      paging: { entities_per_page: 500, current_page: 1 },
    });
    sim.control.resetStats();
    const pages: number[] = [];
    for await (const page of c.findPages({ type: 'Task', fields: ['content'] }, { pageSize: 7 })) pages.push(page.length);
    return { total: everything.entities, pages, reads: requests('read') };
  }

  it('pages with has_next_page on a modern site', async () => {
    const { total, pages, reads } = await pagedTasks(false);
    expect(total.length).toBeGreaterThan(14);
    expect(pages.reduce((a, b) => a + b, 0)).toBe(total.length);
    expect(pages.slice(0, -1).every((n) => n === 7)).toBe(true);
    // One request per page; the last page says has_next_page false (one more, empty, request if the count divides evenly).
    expect(reads).toBe(Math.ceil(total.length / 7) + (total.length % 7 === 0 ? 1 : 0));
  });

  it('pages with entity_count on a site older than 7.4', async () => {
    const { total, pages, reads } = await pagedTasks(true);
    expect(pages.reduce((a, b) => a + b, 0)).toBe(total.length);
    expect(reads).toBe(Math.ceil(total.length / 7));
  });

  it('returns the same rows as one big read, truncates at limit, and asks for a single page when told', async () => {
    const c = client();
    const one = await c.call<{ entities: Array<Record<string, unknown>> }>('read', {
      type: 'Task',
      return_fields: ['content'],
      filters: { logical_operator: 'and', conditions: [] },
      return_only: 'active',
      paging: { entities_per_page: 500, current_page: 1 },
    });
    expect(sortedIds(await c.findAll({ type: 'Task', fields: ['content'] }, { pageSize: 7 }))).toEqual(sortedIds(one.entities));

    sim.control.resetStats();
    const limited = await c.findAll({ type: 'Task', limit: 10 }, { pageSize: 7 });
    expect(sortedIds(limited)).toEqual(sortedIds(one.entities).slice(0, 10));
    expect(requests('read')).toBe(2);

    sim.control.resetStats();
    const page2 = await c.findAll({ type: 'Task', page: 2 }, { pageSize: 7 });
    expect(sortedIds(page2)).toEqual(sortedIds(one.entities).slice(7, 14));
    expect(requests('read')).toBe(1);
  });
});
