// The shadow verdict rules: matched, converged, mismatch only after quiet caught-up rounds, unsettled on a busy site, skipped; query shapes, differences, sampling, the message schema.
import { describe, expect, it } from 'vitest';
import {
  ShadowSampleSchema,
  ShadowVerifier,
  differences,
  queryShape,
  resultDigest,
  sampled,
  shadowSample,
  type ShadowVerifierDeps,
  shadowRateFromEnv,
} from '../../shared/shadow/index.js';
import { linksIn, newerOnSite } from '../../shared/shadow/index.js';
import { nextInterval } from '../../shared/store/index.js';
import { ConfigError } from '../../shared/config.js';

const params = { type: 'Shot', return_fields: ['code'], filters: { logical_operator: 'and', conditions: [{ path: 'id', relation: 'is', values: [5] }] } };
const entities = (code: string) => ({ entities: [{ type: 'Shot', id: 5, code }] });

/**
 * A scripted world on a virtual clock: `site(t)` and `cache(t)` are the answers at time t, `head(t)` the site's
 * latest event id and `cursor(t)` the poller's.
 */
function world(
  w: { site: (t: number) => unknown; cache: (t: number) => unknown | undefined; head?: (t: number) => number; cursor?: (t: number) => number } & Pick<
    ShadowVerifierDeps,
    'classify' | 'repair'
  >,
  settleMs = 4000,
) {
  let t = 0;
  const deps: ShadowVerifierDeps = {
    classify: w.classify,
    repair: w.repair,
    cacheAnswer: async () => {
      const c = w.cache(t);
      return c === undefined ? undefined : { results: c };
    },
    siteAnswer: async () => w.site(t),
    siteHead: async () => w.head?.(t) ?? 10,
    cursorHead: async () => w.cursor?.(t) ?? 10,
    settleMs,
    roundMs: 250,
    now: () => t,
    sleep: async (ms) => {
      t += ms;
    },
  };
  return new ShadowVerifier(deps);
}
const sample = (answered: unknown) => shadowSample('read', params, answered, 'ids', 0);

describe('ShadowVerifier', () => {
  it('matched: the replay equals what the cache answered (key order does not matter)', async () => {
    const v = world({ site: () => ({ entities: [{ code: 'A', id: 5, type: 'Shot' }] }), cache: () => entities('A') });
    expect(await v.verify(sample(entities('A')))).toEqual({ outcome: 'matched', rounds: 0 });
  });

  it('converged: the site changed after the answer and the cache caught up within the window', async () => {
    // The cache answered A; the site says B from the start; the cache learns B at t = 1000.
    const v = world({ site: () => entities('B'), cache: (t) => entities(t >= 1000 ? 'B' : 'A') });
    const r = await v.verify(sample(entities('A')));
    expect(r.outcome).toBe('converged');
    expect(r.rounds).toBeGreaterThan(1);
  });

  it('mismatch: the cache stays wrong while the site stands still and the cursor is at its head', async () => {
    const v = world({ site: () => entities('B'), cache: () => entities('A') });
    const r = await v.verify(sample(entities('A')));
    expect(r.outcome).toBe('mismatch');
    expect(r.evidence).toEqual({ cache: entities('A'), site: entities('B'), differences: [{ id: 5, fields: ['code'] }] });
  });

  it('unsettled, never mismatch: the site log keeps moving, so no round is evidence', async () => {
    let head = 10;
    const v = world({ site: () => entities('B'), cache: () => entities('A'), head: () => head++ });
    expect((await v.verify(sample(entities('A')))).outcome).toBe('unsettled');
  });

  it('unsettled: the poller never reaches the head within the window (nothing compared)', async () => {
    const v = world({ site: () => entities('B'), cache: () => entities('A'), head: () => 20, cursor: () => 10 });
    expect(await v.verify(sample(entities('A')))).toEqual({ outcome: 'unsettled', rounds: 0 });
  });

  it('not a mismatch when the last round was on a moving site, even after earlier quiet disagreements', async () => {
    // Quiet until t = 3000, then the log moves on every read: the late rounds are not evidence.
    let n = 0;
    const v = world({ site: () => entities('B'), cache: () => entities('A'), head: (t) => (t < 3000 ? 10 : 10 + n++) });
    expect((await v.verify(sample(entities('A')))).outcome).toBe('unsettled');
  });

  it('skipped: the cache no longer answers the request', async () => {
    const v = world({ site: () => entities('B'), cache: () => undefined });
    expect(await v.verify(sample(entities('A')))).toEqual({ outcome: 'skipped', rounds: 1 });
  });
});

describe('ShadowVerifier: stale or wrong', () => {
  /** The site's version of Shot 5 is newer than the cache's until a repair copies it. */
  function versioned(siteNewer: boolean) {
    const state = { cache: 'A', repairs: 0, classified: 0 };
    const v = world({
      site: () => entities('B'),
      cache: () => entities(state.cache),
      async classify(_type, diffs) {
        state.classified++;
        return siteNewer ? { stale: [{ type: 'Shot', id: 5 }], wrong: [] } : { stale: [], wrong: diffs };
      },
      async repair() {
        state.repairs++;
        state.cache = 'B';
      },
    });
    return { v, state };
  }

  it('stale: the site is newer, so the entity is repaired at once and the verdict is stale, never mismatch', async () => {
    const { v, state } = versioned(true);
    const r = await v.verify(sample(entities('A')));
    expect(r).toMatchObject({ outcome: 'stale', stale: [{ type: 'Shot', id: 5 }] });
    expect(state.repairs).toBe(1);
  });

  it('wrong: versions equal on both sides, the difference stays a mismatch and nothing is repaired', async () => {
    const { v, state } = versioned(false);
    const r = await v.verify(sample(entities('A')));
    expect(r.outcome).toBe('mismatch');
    expect(r.evidence?.differences).toEqual([{ id: 5, fields: ['code'] }]);
    expect(state.repairs).toBe(0);
    expect(state.classified).toBeGreaterThan(1);
  });

  it('the consumer gets a round first: a difference that converges by itself is never classified', async () => {
    let classified = 0;
    const v = world({
      site: () => entities('B'),
      cache: (t) => entities(t >= 1 ? 'B' : 'A'),
      classify: async () => {
        classified++;
        return { stale: [], wrong: [] };
      },
      repair: async () => {},
    });
    expect((await v.verify(sample(entities('A')))).outcome).toBe('converged');
    expect(classified).toBe(0);
  });

  it('recheck: match, differ, or a stale difference repaired and matched', async () => {
    expect(await versioned(true).v.recheck('read', 'Shot', params)).toBe('match');
    expect(await versioned(false).v.recheck('read', 'Shot', params)).toBe('differ');
    expect(await world({ site: () => entities('B'), cache: () => undefined }).recheck('read', 'Shot', params)).toBe('skipped');
  });

  it('newerOnSite: updated_at later, retired flag different, a copy on one side only', () => {
    const at = (s: string, retired = false) => ({ retired, updatedAt: s });
    expect(newerOnSite(at('2025-06-10T10:00:01Z'), at('2025-06-10T10:00:00Z'))).toBe(true);
    // Equal at the clock's 1 s resolution: not newer (two writes in one second look like one version).
    expect(newerOnSite(at('2025-06-10T10:00:00Z'), at('2025-06-10T10:00:00Z'))).toBe(false);
    expect(newerOnSite(at('2025-06-10T09:00:00Z'), at('2025-06-10T10:00:00Z'))).toBe(false);
    // Retirement and revival do not touch updated_at.
    expect(newerOnSite(at('2025-06-10T10:00:00Z', true), at('2025-06-10T10:00:00Z'))).toBe(true);
    expect(newerOnSite(at('2025-06-10T10:00:00Z'), undefined)).toBe(true);
    expect(newerOnSite(undefined, at('2025-06-10T10:00:00Z'))).toBe(true);
    // A type without updated_at has no version to compare.
    expect(newerOnSite({ retired: false }, { retired: false })).toBe(false);
    expect(linksIn([{ type: 'Asset', id: 1, name: 'a' }, 'x'])).toEqual([{ type: 'Asset', id: 1 }]);
    expect(linksIn({ type: 'Sequence', id: 2 })).toEqual([{ type: 'Sequence', id: 2 }]);
  });

  it('nextInterval: halved with quiet writes down to the floor, doubled without up to the base', () => {
    const s = { baseMs: 300_000, floorMs: 60_000 };
    expect(nextInterval(300_000, true, s)).toBe(150_000);
    expect(nextInterval(100_000, true, s)).toBe(60_000);
    expect(nextInterval(60_000, false, s)).toBe(120_000);
    expect(nextInterval(200_000, false, s)).toBe(300_000);
  });
});

describe('queryShape', () => {
  it('names the method, type, filter paths and relations (no values), sorts and grouping', () => {
    expect(
      queryShape('read', {
        type: 'Task',
        filters: {
          logical_operator: 'and',
          conditions: [
            { path: 'project', relation: 'is', values: [{ type: 'Project', id: 1 }] },
            {
              logical_operator: 'or',
              conditions: [
                { path: 'sg_status_list', relation: 'in', values: ['ip', 'fin'] },
                { path: 'entity.Shot.code', relation: 'contains', values: ['x'] },
              ],
            },
          ],
        },
        sorts: [{ field_name: 'content', direction: 'asc' }],
      }),
    ).toBe('read Task [entity.Shot.code contains, project is, sg_status_list in] by content');
    expect(
      queryShape('summarize', { type: 'Shot', filters: { logical_operator: 'and', conditions: [] }, grouping: [{ field: 'sg_status_list', type: 'exact' }] }),
    ).toBe('summarize Shot [] group sg_status_list');
  });

  it('is bounded in length', () => {
    const conditions = Array.from({ length: 50 }, (_, i) => ({ path: `sg_field_${i}`, relation: 'is', values: [i] }));
    expect(queryShape('read', { type: 'Shot', filters: { logical_operator: 'and', conditions } }).length).toBe(200);
  });
});

describe('differences', () => {
  it('names differing fields per id, entities on one side only, and order-only differences', () => {
    const a = {
      entities: [
        { type: 'Shot', id: 1, code: 'a' },
        { type: 'Shot', id: 2, code: 'b' },
      ],
    };
    expect(
      differences(a, {
        entities: [
          { type: 'Shot', id: 1, code: 'A' },
          { type: 'Shot', id: 3, code: 'c' },
        ],
      }),
    ).toEqual([
      { id: 1, fields: ['code'] },
      { id: 2, fields: [], only: 'cache' },
      { id: 3, fields: [], only: 'site' },
    ]);
    expect(differences(a, { entities: [...a.entities].reverse() })).toEqual([{ id: null, fields: ['(order)'] }]);
    expect(differences({ groups: [], summaries: { id: 3 } }, { groups: [], summaries: { id: 4 } })).toEqual([{ id: null, fields: ['(summary)'] }]);
  });

  it('signed URLs compare by object: a newer signature is the same answer, another object is not', () => {
    const img = (object: string, date: string) => `https://m.example.com/${object}?X-Amz-Date=${date}&X-Amz-Expires=3600&X-Amz-Signature=${date.slice(9)}`;
    const cache = { entities: [{ type: 'Shot', id: 1, image: img('1.jpg', '20260101T100000Z') }] };
    const newer = { entities: [{ type: 'Shot', id: 1, image: img('1.jpg', '20260101T101500Z') }] };
    const other = { entities: [{ type: 'Shot', id: 1, image: img('2.jpg', '20260101T101500Z') }] };
    expect(resultDigest(cache)).toBe(resultDigest(newer));
    expect(differences(cache, other)).toEqual([{ id: 1, fields: ['image'] }]);
    expect(resultDigest(cache)).not.toBe(resultDigest(other));
  });
});

describe('samples', () => {
  it('sampled() honours the rate', () => {
    expect(sampled(1, () => 0.99)).toBe(true);
    expect(sampled(0, () => 0)).toBe(false);
    expect(sampled(0.01, () => 0.005)).toBe(true);
    expect(sampled(0.01, () => 0.02)).toBe(false);
  });

  it('the message carries params, digest, type and shape, and parses back', () => {
    const s = shadowSample('read', params, entities('A'), 'ids', 123, 'script:tool');
    expect(s).toEqual({
      v: 1,
      method: 'read',
      params,
      digest: resultDigest(entities('A')),
      type: 'Shot',
      shape: 'read Shot [id is]',
      access: 'ids',
      answeredAt: 123,
      principal: 'script:tool',
    });
    expect(ShadowSampleSchema.parse(JSON.parse(JSON.stringify(s)))).toEqual(s);
    expect(ShadowSampleSchema.safeParse({ ...s, v: 2 }).success).toBe(false);
  });

  it('SHADOW_SAMPLE_RATE: share or percentage, default 1 %, invalid values refused', () => {
    expect(shadowRateFromEnv({})).toBe(0.01);
    expect(shadowRateFromEnv({ SHADOW_SAMPLE_RATE: '1' })).toBe(1);
    expect(shadowRateFromEnv({ SHADOW_SAMPLE_RATE: '5%' })).toBe(0.05);
    expect(() => shadowRateFromEnv({ SHADOW_SAMPLE_RATE: '2' })).toThrow(ConfigError);
    expect(() => shadowRateFromEnv({ SHADOW_SAMPLE_RATE: 'often' })).toThrow(ConfigError);
  });
});
