// Answering one `read` (or `summarize`) from the cache: the plan, the caller's access rules, the caller's verified credentials, then the read engine.
import { checkAccess, rulesFor, type AccessRules } from './access-rules.js';
import type { CachedSchema } from '../schema/index.js';
import { credentialOf, principalOf, type CallerAuth } from './caller-auth.js';
import type { ShotgunFault } from '../site/index.js';
import { planRead } from '../query/index.js';
import { summarizeAsRead, type ReadEngine } from '../query/index.js';
import type { SummarizeResult } from '../semantics/index.js';
import { SummaryParamsSchema } from '../site/index.js';
import type { Readiness } from '../store/index.js';
import { readTypes } from '../semantics/index.js';
import type { ReadResult } from '../site/index.js';

export type CachedReadOutcome =
  /** Answered from the cache: `result` is exactly what the site would put under "results". */
  | { kind: 'hit'; result: ReadResult | SummarizeResult; access: string }
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
    // cache's answer leaves this function unless the site accepted the credentials.
    const [verdict, outcome] = await Promise.all([this.d.auth.verify(auth, cred), method === 'summarize' ? this.d.engine.summarize(params) : this.d.engine.read(params)]);
    if (verdict.status === 'invalid') return { kind: 'denied', fault: verdict.fault };
    if (verdict.status === 'unverified') return { kind: 'pass', reason: 'auth-unverified' };
    if (!outcome.served) return { kind: 'pass', reason: outcome.reason };
    return { kind: 'hit', result: outcome.result, access: outcome.access };
  }
}
