// Shadow verification of cache hits: which hits are sampled, what the verifier is told, and how it decides match, mismatch or not yet settled.
//
// docs/design.md "Shadow verification". The API sends a sample of its hits (SHADOW_SAMPLE_RATE) to the verifier:
// the request's params (never the caller's credentials) and a digest of what the cache answered. The verifier replays
// the request against the site with the cache's own credentials. Equal digests: matched. Different: the site may have
// changed after the answer, so the verifier waits until the sync has caught up with the site's log and compares the
// cache's answer *now* with the site's answer *now*, in rounds, until they agree (converged: no fault of the cache) or
// the settle window ends. Only rounds in which the site's log stood still and the cursor had reached its head count as
// evidence: a mismatch needs `minQuietRounds` of them, every one disagreeing; otherwise the outcome is `unsettled`
// (a busy site), which is counted but never turns a type off. A difference that persists is classified
// (shared/shadow/shadow-versions.ts): entities newer on the site than in the cache are stale (sync lag, e.g. a script with
// events off) and repaired at once; only differences whose versions are equal on both sides can make a mismatch.
import { z } from 'zod';
import { canonical, canonicalDigest, readTypes } from '../semantics/index.js';
import { withoutSignatures } from '../site/index.js';
import type { StaleEntity } from './shadow-versions.js';

export const SHADOW_METHODS = ['read', 'summarize'] as const;
export type ShadowMethod = (typeof SHADOW_METHODS)[number];

/** The verifier's message: what the cache answered, never who asked with which secret. */
export const ShadowSampleSchema = z.object({
  v: z.literal(1),
  method: z.enum(SHADOW_METHODS),
  /** The request's params[1], as the client sent it. */
  params: z.record(z.string(), z.unknown()),
  /** canonicalDigest of the `results` the cache answered. */
  digest: z.string().min(1),
  /** The root entity type and the query shape (metric dimensions). */
  type: z.string().min(1),
  shape: z.string().min(1),
  /** The index access the engine used (ids, link, project, ...). */
  access: z.string(),
  /** Epoch ms of the answer. */
  answeredAt: z.number(),
  /** Who asked, as a principal name (script or user login), for the log only. */
  principal: z.string().optional(),
});
export type ShadowSample = z.infer<typeof ShadowSampleSchema>;

export type ShadowOutcome =
  /** The site's reply equals what the cache answered. */
  | 'matched'
  /** It differed, but once the sync caught up the cache and the site agreed: a change between answer and replay. */
  | 'converged'
  /** The cache and the quiet, caught-up site disagreed in every counted round, with versions equal on both sides: the cache was wrong. */
  | 'mismatch'
  /** It differed because the site had newer versions the sync had not brought yet: repaired, never quarantined. */
  | 'stale'
  /** It differed and the site never stood still long enough to tell: counted, never acted on. */
  | 'unsettled'
  /** The cache no longer answers this request (type not ready, quarantined): nothing to compare. */
  | 'skipped';

/** Whether this hit is sampled (rate 0..1). */
export function sampled(rate: number, random: () => number = Math.random): boolean {
  return rate >= 1 || (rate > 0 && random() < rate);
}

/** The digest of a reply's `results`; signed URLs count by their object (a newer signature is the same answer: docs/semantics.md "Volatile values"). */
export const resultDigest = (results: unknown): string => canonicalDigest(withoutSignatures(results));

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A low-cardinality description of a request: method, root type, the filter paths with their relations (no values),
 * the sort fields and whether it pages. Metric dimension and log key: `read Shot [project is, sg_status_list in] by code`.
 */
export function queryShape(method: ShadowMethod, params: Record<string, unknown>): string {
  const conds: string[] = [];
  const walk = (f: unknown) => {
    if (!isObj(f)) return;
    if (Array.isArray(f.conditions)) {
      for (const c of f.conditions) walk(c);
      return;
    }
    if (typeof f.path === 'string' && typeof f.relation === 'string') conds.push(`${f.path} ${f.relation}`);
  };
  walk(params.filters);
  const sorts = Array.isArray(params.sorts) ? params.sorts.map((s) => (isObj(s) && typeof s.field_name === 'string' ? s.field_name : '?')) : [];
  const grouping = Array.isArray(params.grouping) ? params.grouping.map((g) => (isObj(g) && typeof g.field === 'string' ? g.field : '?')) : [];
  let shape = `${method} ${String(params.type)} [${[...new Set(conds)].sort().join(', ')}]`;
  if (sorts.length) shape += ` by ${sorts.join(',')}`;
  if (grouping.length) shape += ` group ${grouping.join(',')}`;
  return shape.length > 200 ? `${shape.slice(0, 197)}...` : shape;
}

/** Builds the verifier's message for one hit. */
export function shadowSample(
  method: ShadowMethod,
  params: Record<string, unknown>,
  results: unknown,
  access: string,
  at: number,
  principal?: string,
): ShadowSample {
  return {
    v: 1,
    method,
    params,
    digest: resultDigest(results),
    type: String(params.type),
    shape: queryShape(method, params),
    access,
    answeredAt: at,
    ...(principal ? { principal } : {}),
  };
}

/** Every entity type a sampled request reads (quarantine applies to each). */
export const sampleTypes = (s: Pick<ShadowSample, 'params'>): string[] => readTypes(s.params);

/** The verifier's ports: the cache's answer now, the site's answer now, and where the sync stands. */
export interface ShadowVerifierDeps {
  /** The cache's `results` for the request now, or undefined when it would not answer it. */
  cacheAnswer(method: ShadowMethod, params: Record<string, unknown>): Promise<{ results: unknown } | undefined>;
  /** The site's `results` for the request now, with the cache's own credentials. */
  siteAnswer(method: ShadowMethod, params: Record<string, unknown>): Promise<unknown>;
  /** The site's latest event id. */
  siteHead(): Promise<number>;
  /** The highest event id the poller has forwarded (its cursor). */
  cursorHead(): Promise<number>;
  /** How long to keep re-checking a difference (ms). */
  settleMs: number;
  /** Pause between rounds (ms, doubled each round up to settleMs / 2). */
  roundMs: number;
  /** Quiet disagreeing rounds needed for a mismatch (default 2). */
  minQuietRounds?: number;
  /**
   * Stale or wrong (shared/shadow/shadow-versions.ts): which differing entities are newer on the site (to repair) and which
   * differences have equal versions. Without it every persistent difference counts as wrong.
   */
  classify?(type: string, differences: ShadowDifference[], cache: unknown, site: unknown): Promise<{ stale: StaleEntity[]; wrong: ShadowDifference[] }>;
  /** Re-reads stale entities from the site and writes them at a fresh stamp. */
  repair?(entities: StaleEntity[]): Promise<unknown>;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface ShadowVerdict {
  outcome: ShadowOutcome;
  /** Rounds compared after the first replay. */
  rounds: number;
  /** Entities found newer on the site and repaired (a stale verdict; also on a mismatch that had stale entities too). */
  stale?: StaleEntity[];
  /** On mismatch: the cache's and the site's last answers, and which entities differ. */
  evidence?: { cache: unknown; site: unknown; differences: ShadowDifference[] };
}

export interface ShadowDifference {
  id: number | null;
  fields: string[];
  only?: 'cache' | 'site';
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** Repairs per verdict at most (a site that keeps changing quietly is not chased for the whole window). */
const MAX_REPAIRS = 3;

export class ShadowVerifier {
  constructor(private readonly d: ShadowVerifierDeps) {}

  async verify(sample: ShadowSample): Promise<ShadowVerdict> {
    const now = this.d.now ?? Date.now;
    const sleep = this.d.sleep ?? realSleep;
    const first = await this.d.siteAnswer(sample.method, sample.params);
    if (resultDigest(first) === sample.digest) return { outcome: 'matched', rounds: 0 };
    const deadline = now() + this.d.settleMs;
    const needed = this.d.minQuietRounds ?? 2;
    let pause = this.d.roundMs;
    let rounds = 0;
    let quiet = 0;
    let disagreed = 0;
    const stale = new Map<string, StaleEntity>();
    let repairs = 0;
    /** The last counted round's answers when it disagreed with the site standing still. */
    let last: { cache: unknown; site: unknown } | undefined;
    const staleOf = () => ({ stale: [...stale.values()] });
    for (;;) {
      const head = await this.d.siteHead();
      // Wait (within the window) for the poller to have forwarded everything up to the head, then give the consumer a round.
      if ((await this.d.cursorHead()) >= head) {
        rounds++;
        const cache = await this.d.cacheAnswer(sample.method, sample.params);
        if (!cache) return { outcome: 'skipped', rounds };
        const site = await this.d.siteAnswer(sample.method, sample.params);
        if (resultDigest(cache.results) === resultDigest(site))
          return stale.size ? { outcome: 'stale', rounds, ...staleOf() } : { outcome: 'converged', rounds };
        const stood = (await this.d.siteHead()) === head;
        if (stood) quiet++;
        last = stood ? { cache: cache.results, site } : undefined;
        // From the second disagreeing round (the consumer has had one to apply what was in flight): repair what is
        // stale and will not come by an event (those the site logged an event for are left to the consumer).
        if (++disagreed >= 2 && repairs < MAX_REPAIRS && this.d.classify && this.d.repair) {
          const c = await this.d.classify(sample.type, differences(cache.results, site), cache.results, site);
          const unlogged = c.stale.filter((e) => !e.pending);
          if (unlogged.length) {
            const fresh = unlogged.some((e) => !stale.has(`${e.type}:${e.id}`));
            for (const e of unlogged) stale.set(`${e.type}:${e.id}`, e);
            await this.d.repair(unlogged);
            repairs++;
            // Compare again at once after repairing something new; a repeat waits for the next round.
            if (fresh) continue;
          }
        }
      }
      if (now() + pause > deadline) break;
      await sleep(pause);
      pause = Math.min(pause * 2, Math.max(this.d.roundMs, this.d.settleMs / 2));
    }
    // The window runs to its end, so the last counted round is a late one: the cache was still different after the sync had every chance.
    if (quiet >= needed && last) {
      const found = differences(last.cache, last.site);
      // Wrong only where the versions are equal: differences with only stale entities behind them are sync lag still being repaired.
      const c = this.d.classify ? await this.d.classify(sample.type, found, last.cache, last.site) : { stale: [], wrong: found };
      if (c.wrong.length) return { outcome: 'mismatch', rounds, ...(stale.size ? staleOf() : {}), evidence: { ...last, differences: c.wrong } };
      // Only stale entities left (an event the consumer never applied within the window among them): repaired now.
      if (c.stale.length && this.d.repair) {
        for (const e of c.stale) stale.set(`${e.type}:${e.id}`, e);
        await this.d.repair(c.stale);
      }
    }
    return stale.size ? { outcome: 'stale', rounds, ...staleOf() } : { outcome: 'unsettled', rounds };
  }

  /**
   * One comparison of the cache's answer now with the site's (quarantine healing): equal -> `match`; different only
   * by stale entities -> repaired and compared once more; `skipped` when the cache would not answer.
   */
  async recheck(method: ShadowMethod, type: string, params: Record<string, unknown>): Promise<'match' | 'differ' | 'skipped'> {
    for (let attempt = 0; ; attempt++) {
      const cache = await this.d.cacheAnswer(method, params);
      if (!cache) return 'skipped';
      const site = await this.d.siteAnswer(method, params);
      if (resultDigest(cache.results) === resultDigest(site)) return 'match';
      if (attempt > 0 || !this.d.classify || !this.d.repair) return 'differ';
      const c = await this.d.classify(type, differences(cache.results, site), cache.results, site);
      if (c.wrong.length || !c.stale.length) return 'differ';
      await this.d.repair(c.stale);
    }
  }
}

/** Which entities (by id) and fields differ between two `results` (read: {entities}; summarize: the whole value). */
export function differences(cache: unknown, site: unknown, max = 20): ShadowDifference[] {
  const rows = (r: unknown): Array<Record<string, unknown>> | undefined =>
    isObj(r) && Array.isArray(r.entities) ? (r.entities as unknown[]).filter(isObj) : undefined;
  const a = rows(withoutSignatures(cache));
  const b = rows(withoutSignatures(site));
  if (!a || !b) return canonical(withoutSignatures(cache)) === canonical(withoutSignatures(site)) ? [] : [{ id: null, fields: ['(summary)'] }];
  const byId = (xs: Array<Record<string, unknown>>) => new Map(xs.map((x) => [Number(x.id), x]));
  const ma = byId(a);
  const mb = byId(b);
  const out: ShadowDifference[] = [];
  for (const [id, x] of ma) {
    const y = mb.get(id);
    if (!y) {
      out.push({ id, fields: [], only: 'cache' });
      continue;
    }
    const fields = [...new Set([...Object.keys(x), ...Object.keys(y)])].filter((k) => canonical(x[k]) !== canonical(y[k])).sort();
    if (fields.length) out.push({ id, fields });
  }
  for (const id of mb.keys()) if (!ma.has(id)) out.push({ id, fields: [], only: 'site' });
  if (!out.length && canonical(a.map((x) => x.id)) !== canonical(b.map((x) => x.id))) out.push({ id: null, fields: ['(order)'] });
  if (!out.length) out.push({ id: null, fields: ['(paging or envelope)'] });
  return out.slice(0, max);
}
