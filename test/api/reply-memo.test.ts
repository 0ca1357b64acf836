// The reply memo over HTTP: repeated plannable reads served from memory, byte-identical, and never after a change that affects them (consumer event, write-through in another container, link rename, retirement, schema change); the memory bound.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createParams, deleteParams, updateParams } from '../../shared/site/index.js';
import { EventApplier, ShotgunEventSource, SiteFetcher } from '../../shared/sync/index.js';
import { generationBumper, linkTypesOf, memoBudgetBytes, memoCounters, ReplyMemo } from '../../shared/reads/index.js';
import type { RawResponse } from '../stack/http.js';
import { dynamo } from '../store/helpers.js';
import { SCRIPT_AUTH, cond, readPayload, results, schema, siteReads, startHarness, type Harness } from './harness.js';

let h: Harness;
let ddb: DynamoDBClient;
let project: { type: string; id: number };
let other: { type: string; id: number };
let sequence: { type: string; id: number };

const reason = (r: RawResponse) => r.headers['x-fpt-cache-reason'] as string;
const isMemo = (r: RawResponse) => r.headers['x-fpt-cache'] === 'hit' && reason(r).startsWith('memo;access:');
const rpc = (method: string, params: unknown) => h.rpc({ method_name: method, params: [SCRIPT_AUTH, params] });
const SHOT_FIELDS = ['code', 'description', 'sg_status_list', 'sg_sequence'];

/** Reads until the reply comes from the memo (a reply naming link types not read before it was built is rebuilt once); checks it against the site. */
async function memoized(payload: unknown, via: (p: unknown) => Promise<RawResponse> = h.rpc): Promise<RawResponse> {
  let r = await via(payload);
  for (let i = 0; i < 3 && !isMemo(r); i++) r = await via(payload);
  expect(reason(r)).toMatch(/^memo;access:/);
  expect(r.body.toString('utf8')).toBe((await h.direct(payload)).body.toString('utf8'));
  return r;
}

/** The next read after a change: a hit built anew (not the memo), equal to the site's reply. */
async function rebuilt(payload: unknown, via: (p: unknown) => Promise<RawResponse> = h.rpc): Promise<RawResponse> {
  const r = await via(payload);
  expect(r.headers['x-fpt-cache']).toBe('hit');
  expect(reason(r)).toMatch(/^access:/);
  expect(r.body.toString('utf8')).toBe((await h.direct(payload)).body.toString('utf8'));
  return r;
}

async function lastEventId(): Promise<number> {
  const rows = results(
    await h.direct(
      readPayload(SCRIPT_AUTH, 'EventLogEntry', [], ['id'], {
        sorts: [{ field_name: 'id', direction: 'desc' }],
        paging: { entities_per_page: 1, current_page: 1 },
      }),
    ),
  ).entities;
  return rows[0]?.id ?? 0;
}

/** Applies the site's events after `after` as the consumer does (EventApplier over the cache's store). */
async function consume(after: number): Promise<void> {
  const events = new ShotgunEventSource(h.site);
  const applier = new EventApplier({ schema, store: h.store, fetcher: new SiteFetcher(h.site, schema), events });
  for (const ev of await events.readAfter(after, 500)) await applier.apply(ev);
}

beforeAll(async () => {
  h = await startHarness('api-memo', { replyMemo: { enabled: true } });
  ddb = dynamo();
  const seqs = results(await h.direct(readPayload(SCRIPT_AUTH, 'Sequence', [], ['code', 'project']))).entities as Array<{
    id: number;
    project: { type: string; id: number };
  }>;
  sequence = { type: 'Sequence', id: seqs[0].id };
  project = { type: 'Project', id: seqs[0].project.id };
  const projects = results(await h.direct(readPayload(SCRIPT_AUTH, 'Project', [], ['name']))).entities as Array<{ id: number }>;
  other = { type: 'Project', id: projects.find((p) => p.id !== project.id)!.id };
});
afterAll(async () => {
  await h?.close();
  ddb?.destroy();
});

describe('repeated plannable reads', () => {
  it('are served from the memo, byte-identical to the site, counted, without the site', async () => {
    const payload = readPayload(SCRIPT_AUTH, 'Shot', [cond('project', 'is', project)], SHOT_FIELDS);
    const hits = h.metrics.counts.MemoHit;
    await memoized(payload);
    h.sim.control.resetStats();
    const again = await h.rpc(payload);
    expect(isMemo(again)).toBe(true);
    expect(siteReads(h.sim)).toBe(0);
    expect(h.metrics.counts.MemoHit).toBeGreaterThanOrEqual(hits + 2);
    // x-fpt-cache-require: hit accepts a memo hit.
    expect(isMemo(await h.rpc(payload, { 'x-fpt-cache-require': 'hit' }))).toBe(true);
  });

  it('never answer a caller whose credentials the site rejects, even for a memoized request', async () => {
    const payload = readPayload(SCRIPT_AUTH, 'Shot', [cond('project', 'is', project)], ['code']);
    await memoized(payload);
    const bad = await h.rpc(readPayload({ ...SCRIPT_AUTH, script_key: 'wrong' }, 'Shot', [cond('project', 'is', project)], ['code']));
    expect(bad.headers['x-fpt-cache']).toBe('error');
    expect((bad.json() as { exception?: boolean }).exception).toBe(true);
  });
});

describe('a memoized reply is never served after a change that affects it', () => {
  it('an event the consumer applied (an update made at the site)', async () => {
    const payload = readPayload(SCRIPT_AUTH, 'Shot', [cond('project', 'is', project)], SHOT_FIELDS);
    await memoized(payload);
    const shot = results(await h.direct(payload)).entities[0];
    const after = await lastEventId();
    await h.site.call('update', updateParams('Shot', shot.id, { description: `changed at the site ${Date.now()}` }));
    await consume(after);
    const r = await rebuilt(payload);
    expect(r.body.toString('utf8')).toContain('changed at the site');
  });

  it('a write-through in another container over the same tables', async () => {
    const b = await h.another();
    const payload = readPayload(SCRIPT_AUTH, 'Shot', [cond('project', 'is', project)], SHOT_FIELDS);
    await memoized(payload);
    const shot = results(await h.direct(payload)).entities[1];
    const w = await b.rpc({ method_name: 'update', params: [SCRIPT_AUTH, updateParams('Shot', shot.id, { description: 'written in container B' })] });
    expect(w.headers['x-fpt-cache-write-through']).toBe('applied');
    expect((await rebuilt(payload)).body.toString('utf8')).toContain('written in container B');
  });

  it('a link target renamed (the Shots show its name)', async () => {
    const payload = readPayload(SCRIPT_AUTH, 'Shot', [cond('sg_sequence', 'is', sequence)], ['code', 'sg_sequence']);
    await memoized(payload);
    const name = `SEQ_renamed_${Date.now()}`;
    expect((await rpc('update', updateParams('Sequence', sequence.id, { code: name }))).headers['x-fpt-cache-write-through']).toBe('applied');
    expect((await rebuilt(payload)).body.toString('utf8')).toContain(name);
  });

  it('a link target renamed at the site, applied by the consumer', async () => {
    const payload = readPayload(SCRIPT_AUTH, 'Shot', [cond('project', 'is', project)], ['code', 'sg_sequence']);
    await memoized(payload);
    const name = `SEQ_site_${Date.now()}`;
    const after = await lastEventId();
    await h.site.call('update', updateParams('Sequence', sequence.id, { code: name }));
    await consume(after);
    expect((await rebuilt(payload)).body.toString('utf8')).toContain(name);
  });

  it('a retired entity', async () => {
    const b = await h.another();
    const id = results(await rpc('create', createParams('Shot', { code: 'MEMO_retire', project }))).id as number;
    const payload = readPayload(SCRIPT_AUTH, 'Shot', [cond('project', 'is', project), cond('code', 'starts_with', 'MEMO_')], ['code']);
    expect((await memoized(payload)).body.toString('utf8')).toContain('MEMO_retire');
    expect((await b.rpc({ method_name: 'delete', params: [SCRIPT_AUTH, deleteParams('Shot', id)] })).headers['x-fpt-cache-write-through']).toBe('applied');
    expect((await rebuilt(payload)).body.toString('utf8')).not.toContain('MEMO_retire');
  });

  it('a schema change (a DisplayColumn event seen by the poller, bumped again by the consumer once applied)', async () => {
    const payload = readPayload(SCRIPT_AUTH, 'Shot', [cond('project', 'is', project)], ['code']);
    await memoized(payload);
    await generationBumper(ddb, h.tables.state)([{ event_type: 'Shotgun_DisplayColumn_Change' }]);
    await rebuilt(payload);
  });

  it('per type and project: a change in another project leaves the memo standing, one in its project does not', async () => {
    const payload = readPayload(SCRIPT_AUTH, 'Shot', [cond('project', 'is', project)], ['code']);
    await memoized(payload);
    await rpc('create', createParams('Shot', { code: 'MEMO_elsewhere', project: other }));
    expect(isMemo(await h.rpc(payload))).toBe(true);
    await rpc('create', createParams('Shot', { code: 'MEMO_here', project }));
    expect((await rebuilt(payload)).body.toString('utf8')).toContain('MEMO_here');
  });
});

describe('memory', () => {
  it('stays within its byte bound, least recently used out first, evictions counted', async () => {
    const evicted: number[] = [];
    const memo = new ReplyMemo({ ddb, table: h.tables.state, maxBytes: 8 * 1024, onEvict: (n) => evicted.push(n) });
    const params = (i: number) => ({
      type: 'Shot',
      filters: { logical_operator: 'and', conditions: [{ path: 'id', relation: 'is', values: [i] }] },
      return_fields: ['code'],
    });
    const body = Buffer.from(JSON.stringify({ results: { entities: [], x: 'y'.repeat(1500) } }));
    for (let i = 1; i <= 20; i++) {
      const key = memo.key('read', params(i), 'view');
      const miss = await memo.lookup(key, params(i));
      expect(miss.kind).toBe('miss');
      if (miss.kind === 'miss') memo.keep(miss, body, { entities: [] }, 'byId');
      expect(memo.stats.bytes).toBeLessThanOrEqual(memo.maxBytes);
    }
    expect(memo.size).toBeLessThan(20);
    expect(evicted.reduce((a, b) => a + b, 0)).toBe(20 - memo.size);
    expect((await memo.lookup(memo.key('read', params(20), 'view'), params(20))).kind).toBe('hit');
    expect((await memo.lookup(memo.key('read', params(1), 'view'), params(1))).kind).toBe('miss');
    // A reply larger than the whole bound is not kept.
    const big = await memo.lookup(memo.key('read', params(99), 'view'), params(99));
    if (big.kind === 'miss') memo.keep(big, Buffer.alloc(9 * 1024, 32), { entities: [] }, 'byId');
    expect(memo.stats.bytes).toBeLessThanOrEqual(memo.maxBytes);
  });

  it('defaults to a share of the function memory, and keys its counters by what the read touches', () => {
    expect(memoBudgetBytes({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024' })).toBe(256 * 2 ** 20);
    expect(memoBudgetBytes({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '2048' }, 0.5)).toBe(1024 * 2 ** 20);
    const p = {
      type: 'Task',
      filters: {
        logical_operator: 'and',
        conditions: [
          { path: 'project', relation: 'is', values: [{ type: 'Project', id: 7 }] },
          { path: 'entity.Shot.code', relation: 'is', values: ['x'] },
        ],
      },
      return_fields: ['content'],
    };
    expect(memoCounters(p).sort()).toEqual(['*schema', 'Shot', 'Task@7']);
    expect(memoCounters(p, 'type').sort()).toEqual(['*schema', 'Shot', 'Task']);
    expect(linkTypesOf({ entities: [{ type: 'Shot', id: 1, sg_sequence: { type: 'Sequence', id: 2 }, tasks: [{ type: 'Task', id: 3 }] }] }).sort()).toEqual([
      'Sequence',
      'Task',
    ]);
    expect(memoCounters({ ...p, filters: { logical_operator: 'or', conditions: p.filters.conditions } }).sort()).toEqual(['*schema', 'Shot', 'Task']);
  });

  it('a memo that cannot read its counters answers nothing (the normal path does)', async () => {
    const memo = new ReplyMemo({ ddb, table: 'no-such-table', maxBytes: 1024 });
    await expect(memo.lookup('k', { type: 'Shot' })).rejects.toThrow();
  });
});
