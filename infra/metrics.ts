// The custom EMF metrics the functions emit (Powertools Metrics: namespace FptCache, dimension `service`) as CloudWatch metrics.
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS_NAMESPACE } from '../shared/config.js';
import { SHADOW_METRICS } from '../shared/shadow/index.js';
import { SYNC_METRICS } from '../shared/sync/index.js';

export { METRICS_NAMESPACE };
/** Powertools Metrics adds this default dimension, valued POWERTOOLS_SERVICE_NAME. */
export const SERVICE_DIMENSION = 'service';
/** Extra dimension on CachePass naming why a read passed through to the site (dashboard only). */
export const PASS_REASON_DIMENSION = 'reason';

/**
 * Metric names and who emits them; the functions must emit exactly these names with the `service` dimension. The
 * sync pipeline's names come from shared/sync/sync-metrics.ts and the verifier's from shared/shadow/shadow-metrics.ts (one list
 * each), the API's are here.
 */
export const CUSTOM_METRICS = {
  ...SYNC_METRICS,
  ...SHADOW_METRICS,
  /** api: reads answered from the cache. */
  CacheHit: 'CacheHit',
  /** api: reads passed through to the site (total with `service` only; per reason class with `service`+`reason`). */
  CachePass: 'CachePass',
  /** api: faults fpt-cache answered itself (bad input, limits, refused passes, unreachable site, internal errors). */
  ApiFaults: 'ApiFaults',
  /** api: write-throughs that failed after the site accepted the write (the sync pipeline repairs the cache). */
  WriteThroughFailures: 'WriteThroughFailures',
  /** api: reads answered from the reply memo (also counted in CacheHit). */
  MemoHit: 'MemoHit',
  /** api: reply-memo entries evicted to stay within the memo's memory bound. */
  MemoEvictions: 'MemoEvictions',
  /** api: permission probes sent (each asks the site twice: as the caller and as the script), views verified, views revoked on evidence. */
  PermissionProbes: 'PermissionProbes',
  PermissionViewsVerified: 'PermissionViewsVerified',
  PermissionRevocations: 'PermissionRevocations',
  /** api: reads (and `info`) served marked stale because the site is down (outage mode; also counted in CacheHit). */
  OutageHits: 'OutageHits',
} as const;
export type CustomMetricName = keyof typeof CUSTOM_METRICS;

export function customMetric(serviceName: string, name: CustomMetricName, statistic: string, period: Duration = Duration.minutes(1)): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: CUSTOM_METRICS[name],
    dimensionsMap: { [SERVICE_DIMENSION]: serviceName },
    statistic,
    period,
  });
}
