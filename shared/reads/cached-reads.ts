// Answering one `read` (or `summarize`) from the cache: the plan, the caller's access rules, the caller's verified credentials, then the read engine.
import { checkAccess, rulesFor, type AccessRules } from './access-rules.js';
import type { CachedSchema } from '../schema/index.js';
import { readCredential, principalOf, type CallerAuth } from './caller-auth.js';
import { workLimitReason } from './work-limits.js';
import { outsideCoverage } from './view-coverage.js';
import type { TypeView } from './permission-probe.js';
import { ReadParamsSchema, type ReadParams, type ShotgunFault, SummaryParamsSchema, type ReadResult } from '../site/index.js';
import { planRead, summarizeAsRead, type ReadEngine, type VolatileRef } from '../query/index.js';
import { type SummarizeResult, readTypes } from '../semantics/index.js';
import type { Readiness } from '../store/index.js';
import { involvedTypes, linksVisible, permissionScope, withRestriction } from './permission-scope.js';
import type { PrincipalViews } from './principal-views.js';
import type { CallerCredential } from './caller-auth.js';
import { linkTypesOf, type MemoLookup, type ReplyMemo } from './reply-memo.js';
import type { EventLogReads } from './event-log-reads.js';
import type { EventLogViews } from './event-log-views.js';
import { freshnessTypes, type StoreFreshness } from './store-freshness.js';

/**
 * How a read is answered: normally (the store must be provably fresh), or in outage mode: the site is down, the read is
 * answered from the store as of the last poll, to callers whose credentials and views were valid after `after`.
 */
export interface ReadMode {
  outage?: { after: number };
}

export type CachedReadOutcome =
  /** Answered from the cache: `result` is exactly what the site would put under "results". */
  | {
      kind: 'hit';
      result: ReadResult | SummarizeResult;
      access: string;
      view: HitView;
      keep?: (body: Buffer) => void;
      volatile?: VolatileRef[];
      unshadowed?: true;
    }
  /** Answered from the reply memo (trusted views only): `body` is the reply built for the same request and view, no counter changed since. */
  | { kind: 'memo'; body: Buffer; access: string; gzipped: () => string }
  /** Must go to the site; `reason` is machine-readable (planner reasons, `limit:*`, `no-credentials`, `mixed-credentials`, `access-rule:*`, `auth-unverified`, `shadow-mismatch`, `permission-*`). */
  | { kind: 'pass'; reason: string; volatile?: VolatileRef[] }
  /** The site rejected the caller's credentials: its own fault is the answer. */
  | { kind: 'denied'; fault: ShotgunFault };

/**
 * Whose view a hit was served in: `trusted` (the script's, by configuration), `full` (verified equal to the
 * script's), `restricted` (verified narrower: the answer is the caller's, not the script's; shadow checks, which
 * replay as the script, cannot check it).
 */
export type HitView = 'trusted' | 'full' | 'restricted';

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
  /** Verified views per principal (shared/reads/principal-views.ts); omitted: every authenticated caller is served the script's view. */
  views?: PrincipalViews;
  /** Stored rows' project ids (null: none; absent: not stored), for the link check of restricted views. */
  linkProjects?: (type: string, ids: number[]) => Promise<Map<number, number | null>>;
  log?: (message: string, details?: Record<string, unknown>) => void;
  /** Built replies kept per request and view while their change counters stand (shared/reads/reply-memo.ts). */
  memo?: ReplyMemo;
  /** EventLogEntry reads from the kept event log (shared/reads/event-log-reads.ts); omitted: they pass as an uncached type. */
  eventLog?: EventLogReads;
  /** Callers' views of the kept event log per project (shared/reads/event-log-views.ts); omitted: only trusted callers are answered from it. */
  eventLogViews?: EventLogViews;
  /** Whether the store is provably fresh for a read's types (shared/reads/store-freshness.ts); omitted: always taken as fresh. */
  freshness?: StoreFreshness;
}

/** The entities with signed values a served read carried (for the record the reconciler renews from). */
const volatileOf = (o: { served: boolean; volatile?: VolatileRef[] }): { volatile?: VolatileRef[] } => (o.volatile ? { volatile: o.volatile } : {});

export class CachedReads {
  constructor(private readonly d: CachedReadsDeps) {}

  /** `auth` is the request's params[0], `params` its params[1]; `method` is `read` or `summarize`. */
  async answer(auth: unknown, params: unknown, method: CachedMethod = 'read', mode: ReadMode = {}): Promise<CachedReadOutcome> {
    try {
      return await this.decide(auth, params, method, mode.outage);
    } catch (e) {
      // The cache failing (DynamoDB unreachable, throttled, ...) never fails the request: the site answers it.
      this.d.log?.('cached read failed; passing it through', { error: (e as Error).message });
      return { kind: 'pass', reason: 'cache-error' };
    }
  }

  private async decide(auth: unknown, params: unknown, method: CachedMethod, outage: { after: number } | undefined): Promise<CachedReadOutcome> {
    // Bounded work first: a read of any size costs one walk over its filters, then it is the site's.
    const limit = workLimitReason(params);
    if (limit) return { kind: 'pass', reason: limit };
    let asRead = params;
    if (method === 'summarize') {
      const sp = SummaryParamsSchema.safeParse(params);
      if (!sp.success) return { kind: 'pass', reason: 'malformed-params' };
      asRead = summarizeAsRead(sp.data);
    }
    if (method === 'read' && this.d.eventLog && (params as { type?: unknown } | null)?.type === 'EventLogEntry') {
      return outage ? { kind: 'pass', reason: 'event-log-stale' } : this.eventLogRead(auth, params, this.d.eventLog);
    }
    const planned = planRead(this.d.schema, await this.d.readiness(), asRead, { missingReturnFields: method === 'read' });
    if (!planned.ok) return { kind: 'pass', reason: planned.reason };
    if (this.d.freshness && !outage) {
      const fresh = await this.d.freshness.check(freshnessTypes(this.d.schema.site, planned.plan.params));
      if (!fresh.fresh) return { kind: 'pass', reason: fresh.reason };
    }
    if (this.d.quarantine) {
      const quarantined = await this.d.quarantine();
      if (quarantined.size && readTypes(planned.plan.params).some((t) => quarantined.has(t))) return { kind: 'pass', reason: 'shadow-mismatch' };
    }
    const reading = readCredential(auth);
    if (!reading.ok) return { kind: 'pass', reason: reading.reason };
    const cred = reading.credential;
    const access = checkAccess(rulesFor(this.d.rules, principalOf(cred), cred.sudo), planned.plan.params);
    if (!access.ok) return { kind: 'pass', reason: access.reason };
    // Verified before any work for it: no store read, no engine work, no site call but the verification itself.
    const verdict = await this.d.auth.verify(cred, outage);
    if (verdict.status === 'invalid') return { kind: 'denied', fault: verdict.fault };
    if (verdict.status === 'unverified') return { kind: 'pass', reason: 'auth-unverified' };
    const run = (p: unknown) => (method === 'summarize' ? this.d.engine.summarize(p) : this.d.engine.read(p));
    const views = this.d.views;
    if (!views || (await views.isTrusted(cred))) {
      // The memo's counters are read before the engine reads the entities, so a reply kept under them is never newer
      // than they say. Only callers answered in the trusted view are memoized (their replies are the script's view).
      const memoKey = this.d.memo ? this.d.memo.key(method, params, await this.viewKey(cred)) : undefined;
      const found = await this.memoLookup(memoKey, planned.plan.params);
      if (found?.kind === 'hit') return { kind: 'memo', body: found.body, access: found.access, gzipped: found.gzipped };
      const outcome = await run(params);
      if (!outcome.served) return { kind: 'pass', reason: outcome.reason, ...volatileOf(outcome) };
      const linked = await this.staleLinks(outcome.result, outage);
      if (linked) return { kind: 'pass', reason: linked };
      const used = outcome.access;
      const keep = found?.kind === 'miss' ? (body: Buffer) => this.d.memo!.keep(found, body, outcome.result, used) : undefined;
      return { kind: 'hit', result: outcome.result, access: used, view: 'trusted', keep, ...volatileOf(outcome) };
    }
    // Any other caller: its view of every type the read touches, probed with its own (verified) credential.
    const types = involvedTypes(this.d.schema, planned.plan.params);
    if (!types) return { kind: 'pass', reason: 'permission-unverified' };
    const view = await views.viewOf(cred, types, outage);
    if (view.kind === 'unverified') return { kind: 'pass', reason: view.reason };
    const scope = view.kind === 'trusted' ? { ok: true as const } : permissionScope(this.d.schema, planned.plan.params, view.types);
    if (!scope.ok) return { kind: 'pass', reason: scope.reason };
    if (view.kind === 'verified') {
      const uncovered = await this.uncovered(cred, planned.plan.params, view.types.get(planned.plan.params.type)!);
      if (uncovered) return { kind: 'pass', reason: uncovered };
    }
    const outcome = await run(scope.restrict ? withRestriction(params, scope.restrict) : params);
    if (!outcome.served) return { kind: 'pass', reason: outcome.reason, ...volatileOf(outcome) };
    const linked = await this.staleLinks(outcome.result, outage);
    if (linked) return { kind: 'pass', reason: linked };
    if (scope.linkCheck) {
      // The answer's links, and those its filters compare with (else the site matches nothing through them), must be ones the caller sees.
      const failed = await linksVisible(scope.filterLinks ? [outcome.result, scope.filterLinks] : outcome.result, scope.linkCheck, this.d.linkProjects);
      if (failed) return { kind: 'pass', reason: `permission-restricted:${failed}` };
    }
    const restricted =
      scope.restrict !== undefined ||
      scope.linkCheck !== undefined ||
      (view.kind === 'verified' && [...view.types.values()].some((v) => v.rows !== 'same' || v.projects !== undefined || v.hidden.length > 0));
    return { kind: 'hit', result: outcome.result, access: outcome.access, view: restricted ? 'restricted' : 'full', ...volatileOf(outcome) };
  }

  /**
   * EventLogEntry from the kept log, after the caller's credentials are verified: to trusted callers, and to others for
   * projects whose kept events they see as the script does (probed, shared/reads/event-log-views.ts): the site hides
   * the events of projects a caller may not see.
   * Not shadow-checked: the verifier's replay would see events committed since the last poll (the answer is as of it).
   */
  /** The pass reason when a type the answer links to has events waiting to be applied (a retirement, a rename, a relink changes how links read). */
  private async staleLinks(result: unknown, outage: { after: number } | undefined): Promise<string | undefined> {
    if (!this.d.freshness || outage) return undefined;
    const types = linkTypesOf(result).filter((t) => this.d.schema.site.hasType(t));
    if (!types.length) return undefined;
    const fresh = await this.d.freshness.check(types);
    return fresh.fresh ? undefined : fresh.reason;
  }

  private async eventLogRead(auth: unknown, params: unknown, eventLog: EventLogReads): Promise<CachedReadOutcome> {
    const parsed = ReadParamsSchema.safeParse(params);
    if (!parsed.success) return { kind: 'pass', reason: 'malformed-params' };
    if ((await this.d.quarantine?.())?.has('EventLogEntry')) return { kind: 'pass', reason: 'shadow-mismatch' };
    const reading = readCredential(auth);
    if (!reading.ok) return { kind: 'pass', reason: reading.reason };
    const cred = reading.credential;
    const access = checkAccess(rulesFor(this.d.rules, principalOf(cred), cred.sudo), parsed.data);
    if (!access.ok) return { kind: 'pass', reason: access.reason };
    const verdict = await this.d.auth.verify(cred);
    if (verdict.status === 'invalid') return { kind: 'denied', fault: verdict.fault };
    if (verdict.status === 'unverified') return { kind: 'pass', reason: 'auth-unverified' };
    const outcome = await eventLog.read(params);
    if (!outcome.served) return { kind: 'pass', reason: outcome.reason };
    let view: HitView = 'trusted';
    if (this.d.views && !(await this.d.views.isTrusted(cred))) {
      // Probed only for a read the kept log would answer: the caller must see those projects' events as the script does.
      if (!this.d.eventLogViews) return { kind: 'pass', reason: 'permission-event-log' };
      const why = await this.d.eventLogViews.sees(cred, outcome.shape.types, outcome.shape.projects);
      if (why) return { kind: 'pass', reason: why };
      view = 'full';
    }
    return { kind: 'hit', result: outcome.result, access: 'event-log', view, unshadowed: true };
  }

  /**
   * Whether the read reaches rows of a project the caller's view of its type was not verified for (a new Project, one
   * with no rows of the type at the probe): the pass reason, the view dropped so the next read probes again.
   */
  private async uncovered(cred: CallerCredential, params: ReadParams, view: TypeView): Promise<string | undefined> {
    const check = outsideCoverage(this.d.schema, params, view);
    if (check === undefined) return undefined;
    const reason = `permission-new-project:${params.type}`;
    if (check !== null) {
      const found = await this.d.engine.read(check);
      if (found.served && 'entities' in found.result && found.result.entities.length === 0) return undefined;
      if (!found.served) return `permission-unverified:${found.reason}`;
    }
    await this.d.views!.revoke(cred, 'rows of a project the view was not verified for');
    return reason;
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
