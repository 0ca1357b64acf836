// The API's metrics: one port, EMF through Powertools Metrics in AWS (namespace FptCache, dimension `service`), in memory locally and in tests.
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE } from '../config.js';

/** Extra dimension of the per-reason CachePass variant (infra/metrics.ts PASS_REASON_DIMENSION). */
export const PASS_REASON_DIMENSION = 'reason';

export type ApiMetricName =
  | 'CacheHit'
  | 'CachePass'
  | 'ApiFaults'
  | 'WriteThroughFailures'
  | 'ResponseCacheHit'
  | 'MemoHit'
  | 'MemoEvictions'
  | 'PermissionProbes'
  | 'PermissionViewsVerified'
  | 'PermissionRevocations'
  | 'OutageHits';

/** Permission-view events (shared/reads/principal-views.ts): a probe sent, a view verified, a view revoked. */
export type PermissionEvent = 'probe' | 'verified' | 'revoked';
const PERMISSION_METRIC: Record<PermissionEvent, ApiMetricName> = {
  probe: 'PermissionProbes',
  verified: 'PermissionViewsVerified',
  revoked: 'PermissionRevocations',
};

export interface ApiMetrics {
  /** A read answered from the cache. */
  hit(): void;
  /** A read passed through to the site, with its reason (the dimension gets the reason's class, see passReasonClass). */
  pass(reason: string): void;
  /** A fault fpt-cache itself answered (bad input, limits, refused pass, unreachable site, internal error). */
  fault(kind: string): void;
  /** A write-through that failed after the site accepted the write (the sync pipeline repairs the cache). */
  writeThroughFailed(): void;
  /** A read answered from the response cache (shared/reads/response-cache.ts); also counted as a hit. */
  responseCacheHit?(): void;
  /** A read answered from the reply memo (shared/reads/reply-memo.ts); also counted as a hit. */
  memoHit?(): void;
  /** Entries the reply memo evicted to stay within its memory bound. */
  memoEvicted?(n: number): void;
  /** Permission views: `n` probes sent, views verified or revoked since the last call. */
  permission?(event: PermissionEvent, n: number): void;
  /** A read (or `info`) served from the cache marked stale while the site is down (outage mode); also counted as a hit. */
  outageHit?(): void;
  /** Publishes what was recorded (once per invocation). */
  flush(): void;
}

/**
 * The bounded part of a pass reason for the metric dimension: `type-not-ready:Shot` -> `type-not-ready`. Reasons
 * carry client-chosen text (`unknown-key:<anything>`), which must not become unbounded dimension values.
 */
export function passReasonClass(reason: string): string {
  const i = reason.indexOf(':');
  return i < 0 ? reason : reason.slice(0, i);
}

/** Powertools Metrics; the service name comes from POWERTOOLS_SERVICE_NAME (set by the CDK app), never from code. */
export class EmfApiMetrics implements ApiMetrics {
  private readonly metrics: Metrics;
  constructor(opts: { serviceName?: string } = {}) {
    this.metrics = new Metrics({ namespace: METRICS_NAMESPACE, ...(opts.serviceName ? { serviceName: opts.serviceName } : {}) });
  }
  hit(): void {
    this.metrics.addMetric('CacheHit', MetricUnit.Count, 1);
  }
  pass(reason: string): void {
    this.metrics.addMetric('CachePass', MetricUnit.Count, 1);
    const single = this.metrics.singleMetric();
    single.addDimension(PASS_REASON_DIMENSION, passReasonClass(reason));
    single.addMetric('CachePass', MetricUnit.Count, 1);
  }
  fault(): void {
    this.metrics.addMetric('ApiFaults', MetricUnit.Count, 1);
  }
  writeThroughFailed(): void {
    this.metrics.addMetric('WriteThroughFailures', MetricUnit.Count, 1);
  }
  responseCacheHit(): void {
    this.metrics.addMetric('ResponseCacheHit', MetricUnit.Count, 1);
  }
  memoHit(): void {
    this.metrics.addMetric('MemoHit', MetricUnit.Count, 1);
  }
  memoEvicted(n: number): void {
    this.metrics.addMetric('MemoEvictions', MetricUnit.Count, n);
  }
  outageHit(): void {
    this.metrics.addMetric('OutageHits', MetricUnit.Count, 1);
  }
  permission(event: PermissionEvent, n: number): void {
    if (n > 0) this.metrics.addMetric(PERMISSION_METRIC[event], MetricUnit.Count, n);
  }
  /** Publishes only when something was recorded (an empty flush makes Powertools log a warning per request). */
  flush(): void {
    if (this.metrics.hasStoredMetrics()) this.metrics.publishStoredMetrics();
  }
}

/** Counters in memory (the local stack and tests). */
export class MemoryApiMetrics implements ApiMetrics {
  readonly counts: Record<ApiMetricName, number> = {
    CacheHit: 0,
    CachePass: 0,
    ApiFaults: 0,
    WriteThroughFailures: 0,
    ResponseCacheHit: 0,
    MemoHit: 0,
    MemoEvictions: 0,
    PermissionProbes: 0,
    PermissionViewsVerified: 0,
    PermissionRevocations: 0,
    OutageHits: 0,
  };
  readonly passReasons: Record<string, number> = {};
  readonly faultKinds: Record<string, number> = {};
  hit(): void {
    this.counts.CacheHit++;
  }
  pass(reason: string): void {
    this.counts.CachePass++;
    const c = passReasonClass(reason);
    this.passReasons[c] = (this.passReasons[c] ?? 0) + 1;
  }
  fault(kind: string): void {
    this.counts.ApiFaults++;
    this.faultKinds[kind] = (this.faultKinds[kind] ?? 0) + 1;
  }
  writeThroughFailed(): void {
    this.counts.WriteThroughFailures++;
  }
  responseCacheHit(): void {
    this.counts.ResponseCacheHit++;
  }
  memoHit(): void {
    this.counts.MemoHit++;
  }
  memoEvicted(n: number): void {
    this.counts.MemoEvictions += n;
  }
  outageHit(): void {
    this.counts.OutageHits++;
  }
  permission(event: PermissionEvent, n: number): void {
    this.counts[PERMISSION_METRIC[event]] += n;
  }
  flush(): void {}
}
