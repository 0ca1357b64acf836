// The cache's readiness for GET /status: per cached type whether it is served, and how many of its fields are.
import type { CachedSchema } from '../schema/index.js';
import type { Readiness, WindowReport } from '../store/index.js';
import type { ShadowReport } from '../shadow/index.js';
import type { RuleName, RuleRecord } from '../semantics/index.js';
import type { EventLogStatus } from './event-log-reads.js';

export interface CacheStatus {
  /** Every cached type is ready: reads of any cached type can be answered from the cache. */
  ready: boolean;
  mode: 'cache';
  version: string;
  upstream: string;
  types: Record<string, { ready: boolean; fields: number; of: number; drifted?: string[] }>;
  /** Cached fields whose definition on the site differs from the deployed schema (docs/sync.md "Schema changes"): passed through until a deploy matches the site. */
  schemaDrift?: Array<{ type: string; field: string; kind: string; deployed: string; site: string | null; since: string }>;
  /** Shadow checks of hits: outcome counts, and the types served from the site after a mismatch. */
  shadow?: ShadowReport['counts'] & { quarantined: ShadowReport['quarantined'] };
  /**
   * Per type the reconciler has paced: its current scan interval, the writes the event log did not carry (and who made
   * them), and the measured window in which such a write is not yet in the cache (docs/sync.md "Adaptive reconcile interval").
   */
  syncWindow?: Record<string, WindowReport>;
  /** This container's permission views (shared/reads/principal-views.ts): counts only, no identities. */
  permissions?: PermissionCounts;
  /** The kept event log EventLogEntry reads are answered from (shared/reads/event-log-reads.ts): its window and lag. */
  eventLog?: EventLogStatus;
  /** The site's read rules the cache follows, each measured (when, by which probe) or assumed (shared/calibration.ts). */
  siteRules: Record<RuleName, RuleRecord>;
}

export interface PermissionCounts {
  views: number;
  restrictedViews: number;
  probes: number;
  probeFailures: number;
  verified: number;
  restricted: number;
  revocations: number;
  trustedReads: number;
  tableHits: number;
  ttlSeconds: number;
}

export function cacheStatus(
  schema: CachedSchema,
  readiness: Readiness,
  info: {
    version: string;
    upstream: string;
    shadow?: ShadowReport;
    permissions?: PermissionCounts;
    syncWindow?: Record<string, WindowReport>;
    eventLog?: EventLogStatus;
  },
): CacheStatus {
  const types: CacheStatus['types'] = {};
  for (const type of schema.site.typeNames) {
    const fields = Object.keys(schema.site.type(type)!.fields);
    const drifted = [...readiness.driftOf(type).keys()];
    types[type] = {
      ready: readiness.isTypeReady(type),
      fields: fields.filter((f) => readiness.isFieldReady(type, f)).length,
      of: fields.length,
      ...(drifted.length ? { drifted } : {}),
    };
  }
  const drift = readiness.drifted().map((d) => ({ type: d.type, field: d.field, kind: d.kind, deployed: d.cached, site: d.site ?? null, since: d.at }));
  return {
    ready: Object.values(types).every((t) => t.ready),
    mode: 'cache',
    version: info.version,
    upstream: info.upstream,
    types,
    ...(drift.length ? { schemaDrift: drift } : {}),
    siteRules: readiness.siteRules.report(),
    ...(info.shadow ? { shadow: { ...info.shadow.counts, quarantined: info.shadow.quarantined } } : {}),
    ...(info.permissions ? { permissions: info.permissions } : {}),
    ...(info.syncWindow && Object.keys(info.syncWindow).length ? { syncWindow: info.syncWindow } : {}),
    ...(info.eventLog ? { eventLog: info.eventLog } : {}),
  };
}
