// Answering one `read` (or `summarize`) from the cache: the plan, the caller's access rules, the caller's verified credentials, then the read engine.
import { checkAccess, rulesFor, type AccessRules } from './access-rules.js';
import type { CachedSchema } from '../schema/index.js';
import { credentialOf, principalOf, type CallerAuth } from './caller-auth.js';
import { type ShotgunFault, SummaryParamsSchema, type ReadResult } from '../site/index.js';
import { planRead, summarizeAsRead, type ReadEngine } from '../query/index.js';
import { type SummarizeResult, readTypes } from '../semantics/index.js';
import type { Readiness } from '../store/index.js';
import type { CallerCredential } from './caller-auth.js';
import type { MemoLookup, ReplyMemo } from './reply-memo.js';

export type CachedReadOutcome =
  /** Answered from the cache: `result` is exactly what the site would put under "results". */
  | { kind: 'hit'; result: ReadResult | SummarizeResult; access: string; keep?: (body: Buffer) => void }
  /** Answered from the reply memo: `body` is the reply built for the same request and view, no counter changed since. */
  | { kind: 'memo'; body: Buffer; access: string; gzipped: () => string }
  /** Must go to the site; `reason` is machine-readable (planner reasons, `no-credentials`, `access-rule:*`, `auth-unverified`, `shadow-mismatch`). */
  | { kind: 'pass'; reason: string }
  /** The site rejected the caller's credentials: its own fault is the answer. */
  | { kind: 'denied'; fault: ShotgunFault };

/** The read-only methods the cache can answer. */
export type CachedMethod = 'read' | 'summarize';

export interface CachedReadsDeps {
  schema: CachedSchema;
  readiness: () => Promise<Readiness>;
  engine: ReadEngine;
  auth: CallerAuth;
  rules: AccessRules;
  /** Types the shadow checks caught answering wrong (shared/shadow/shadow-ledger.ts): their reads go to the site. */
  quarantine?: () => Promise<ReadonlySet<string>>;
  log?: (message: string, details?: Record<string, unknown>) => void;
  /** Built replies kept per request and view while their change counters stand (shared/reads/reply-memo.ts). */
  memo?: ReplyMemo;
}

export class CachedReads {
  constructor(private readonly d: CachedReadsDeps) {}

  /** `auth` is the request's params[0], `params` its params[1]; `method` is `read` or `summarize`. */
  async answer(auth: unknown, params: unknown, method: CachedMethod = 'read'): Promise<CachedReadOutcome> {
    try {
      return await this.decide(auth, params, method);
    } catch (e) {
      // The cache failing (DynamoDB unreachable, throttled, ...) never fails the request: the site answers it.
      this.d.log?.('cached read failed; passing it through', { error: (e as Error).message });
      return { kind: 'pass', reason: 'cache-error' };
    }
  }

  private async decide(auth: unknown, params: unknown, method: CachedMethod): Promise<CachedReadOutcome> {
    let asRead = params;
    if (method === 'summarize') {
      const sp = SummaryParamsSchema.safeParse(params);
      if (!sp.success) return { kind: 'pass', reason: 'malformed-params' };
      asRead = summarizeAsRead(sp.data);
    }
    const planned = planRead(this.d.schema, await this.d.readiness(), asRead);
    if (!planned.ok) return { kind: 'pass', reason: planned.reason };
    if (this.d.quarantine) {
      const quarantined = await this.d.quarantine();
      if (quarantined.size && readTypes(planned.plan.params).some((t) => quarantined.has(t))) return { kind: 'pass', reason: 'shadow-mismatch' };
    }
    const cred = credentialOf(auth);
    if (!cred) return { kind: 'pass', reason: 'no-credentials' };
    const access = checkAccess(rulesFor(this.d.rules, principalOf(cred), cred.sudo), planned.plan.params);
    if (!access.ok) return { kind: 'pass', reason: access.reason };
    // The verdict is usually in memory; when the site must be asked, the cache read runs meanwhile. Nothing of the
    // cache's answer leaves this function unless the site accepted the credentials. The memo's counters are read
    // before the engine reads the entities, so a reply kept under them is never newer than they say.
    const build = () => (method === 'summarize' ? this.d.engine.summarize(params) : this.d.engine.read(params));
    const memoKey = this.d.memo ? this.d.memo.key(method, params, await this.viewKey(cred)) : undefined;
    const [verdict, built] = await Promise.all([this.d.auth.verify(auth, cred), this.memoLookup(memoKey, planned.plan.params).then(async (found) => (
      found?.kind === 'hit' ? { found, outcome: undefined } : { found, outcome: await build() }))]);
    if (verdict.status === 'invalid') return { kind: 'denied', fault: verdict.fault };
    if (verdict.status === 'unverified') return { kind: 'pass', reason: 'auth-unverified' };
    const { found, outcome } = built;
    if (found?.kind === 'hit') return { kind: 'memo', body: found.body, access: found.access, gzipped: found.gzipped };
    if (!outcome!.served) return { kind: 'pass', reason: outcome!.reason };
    const used = outcome!.access;
    const keep = found?.kind === 'miss' ? (body: Buffer) => this.d.memo!.keep(found, body, outcome!.result, used) : undefined;
    return { kind: 'hit', result: outcome!.result, access: used, keep };
  }

  /**
   * The view a memoized reply is keyed by: today the caller's verified identity (its keyed credential hash). Once
   * replies follow the caller's permission view, this is the one place to key on that view instead.
   */
  private viewKey(cred: CallerCredential): Promise<string> {
    return this.d.auth.identity(cred);
  }

  /** The memo's entry or the counters read for a new one; undefined without a memo or when the counters cannot be read (the normal path). */
  private async memoLookup(key: string | undefined, params: unknown): Promise<MemoLookup | undefined> {
    if (!key || !this.d.memo) return undefined;
    try {
      return await this.d.memo.lookup(key, params);
    } catch (e) {
      this.d.log?.('reply memo counters unavailable; building the reply', { error: (e as Error).message });
      return undefined;
    }
  }
}
