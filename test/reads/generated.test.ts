import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCachedSchema } from '../../shared/schema/index.js';
import { ReadinessStore } from '../../shared/store/index.js';
import { calibrate } from '../../shared/sync/index.js';
import { operatorsFor } from '../../shared/semantics/index.js';
import type { DataType } from '../../shared/site/index.js';
import { dynamo, prng } from '../store/helpers.js';
import { SCRIPT_AUTH, startHarness, type Harness } from '../api/harness.js';
import { readGenerator } from './generator.js';
import { sameAnswer } from '../support/same-answer.js';
import { DEFAULT_USER_PASSWORD } from '../../local/sim/credentials.js';
import { SEEDED_PROFILE_LOGINS } from '../../local/sim/permissions.js';

// Hundreds of generated reads (random filters over every data type, nested groups, deep fields, sorts, pages,
// retired rows), each sent through the real API handler over HTTP (local API Gateway -> handler -> read engine over
// DynamoDB Local) and straight to the simulated site, over the same imported data. Every read the cache serves
// (x-fpt-cache: hit) must be identical to the site's reply (byte for byte, signed URLs: test/support/same-answer.ts); every other one must name a reason.
const QUERIES = 300;
const schema = loadCachedSchema('schema/default.yml');
const site$ = schema.site;
let h: Harness;
const samples = new Map<string, Array<Record<string, unknown>>>();

beforeAll(async () => {
  h = await startHarness('gen', { sim: { entities: 400, seed: 11 } });
  // As an import does: the site's rules measured before reads are served (reads a rule decides pass until it is).
  const ddb = dynamo();
  try {
    await calibrate(h.site, schema, new ReadinessStore(ddb, h.tables, schema));
  } finally {
    ddb.destroy();
  }
  for (const type of site$.typeNames) {
    const fields = Object.keys(site$.type(type)!.fields);
    const r = await h.site.call<{ entities: Array<Record<string, unknown>> }>('read', {
      type,
      return_fields: fields,
      filters: { logical_operator: 'and', conditions: [] },
      return_only: 'active',
      paging: { entities_per_page: 60, current_page: 1 },
    });
    samples.set(type, r.entities);
  }
}, 240_000);
afterAll(async () => {
  await h?.close();
});

/** Sends the generated reads as `auth` through the API and to the site; every hit must be byte-identical. Returns the served share. */
async function differential(auth: Record<string, unknown>, label: string): Promise<number> {
  const rng = prng(20261122);
  const generate = readGenerator(site$, samples);
  let served = 0;
  let siteFaults = 0;
  const reasons = new Map<string, number>();
  const mismatches: string[] = [];
  for (let i = 0; i < QUERIES; i++) {
    const payload = { method_name: 'read', params: [auth, generate(rng)] };
    const [viaApi, fromSite] = await Promise.all([h.rpc(payload), h.direct(payload)]);
    const siteFault = (fromSite.json() as { exception?: boolean }).exception === true;
    if (siteFault) siteFaults++;
    const tag = viaApi.headers['x-fpt-cache'];
    const reason = String(viaApi.headers['x-fpt-cache-reason'] ?? '');
    if (tag === 'hit') {
      served++;
      if (viaApi.body.includes('X-Amz-Signature=')) signedHits++;
      if (siteFault) mismatches.push(`#${i} served but the site faulted: ${JSON.stringify(payload)}`);
      else if (!sameAnswer(viaApi.body, fromSite.body)) mismatches.push(`#${i} differs: ${JSON.stringify(payload)}`);
    } else {
      expect(tag, `#${i}`).toBe('pass');
      expect(reason).toMatch(/^[a-z-]+(:.+)?$/);
      // A pass is the site's own reply, byte for byte.
      if (!sameAnswer(viaApi.body, fromSite.body)) mismatches.push(`#${i} pass differs from the site: ${JSON.stringify(payload)}`);
      const key = reason.split(':')[0];
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
    }
  }
  const valid = QUERIES - siteFaults;
  const share = served / valid;
  console.log(
    `generated reads (${label}): ${QUERIES}, site faults ${siteFaults}, served ${served} of ${valid} valid (${(share * 100).toFixed(1)} %), pass reasons ${JSON.stringify(Object.fromEntries(reasons))}`,
  );
  expect(mismatches).toEqual([]);
  return share;
}

let scriptShare = 0;
/** Hits carrying signed image URLs (compared through test/support/same-answer.ts). */
let signedHits = 0;

describe('generated differential reads: site vs the API over HTTP', () => {
  it(`serves most of ${QUERIES} generated reads, each byte-identical to the site, and names a reason for the rest`, async () => {
    scriptShare = await differential(SCRIPT_AUTH, "the cache's script");
    expect(scriptShare).toBeGreaterThanOrEqual(0.9);
    expect(signedHits).toBeGreaterThan(0);
  }, 300_000);

  it("an unrestricted user (not trusted by configuration: its views are probed) keeps the script's hit ratio", async () => {
    const share = await differential({ user_login: SEEDED_PROFILE_LOGINS.lead, user_password: DEFAULT_USER_PASSWORD }, 'an unrestricted user');
    expect(share).toBeGreaterThan(scriptShare - 0.03);
  }, 300_000);

  it("a restricted artist and a vendor: every answer identical to the site's for them (none leaks), some served inside their views", async () => {
    for (const login of [SEEDED_PROFILE_LOGINS.restrictedArtist, SEEDED_PROFILE_LOGINS.vendor]) {
      expect(await differential({ user_login: login, user_password: DEFAULT_USER_PASSWORD }, login)).toBeGreaterThan(0);
    }
  }, 300_000);
});
