// The custom EMF metrics the functions emit (Powertools Metrics: namespace FptCache, dimension `service`) as CloudWatch metrics.
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

export const METRICS_NAMESPACE = 'FptCache';
/** Powertools Metrics adds this default dimension, valued POWERTOOLS_SERVICE_NAME. */
export const SERVICE_DIMENSION = 'service';
/** Extra dimension on CachePass naming why a read passed through to the site (dashboard only). */
export const PASS_REASON_DIMENSION = 'reason';

/** Metric names and who emits them; the functions must emit exactly these names with the `service` dimension. */
export const CUSTOM_METRICS = {
  /** consumer: seconds between an applied event's created_at and now. */
  SyncLagSeconds: 'SyncLagSeconds',
  /** consumer: events applied to the entities table. */
  EventsApplied: 'EventsApplied',
  /** poller: one per poll of the event log (alarmed when missing). */
  PollerHeartbeat: 'PollerHeartbeat',
  /** poller: latest event id on the site minus the cursor. */
  Backlog: 'Backlog',
  /** consumer/poller: events given up on (sent to the DLQ or dropped from the id-gap backlog). */
  DeadLetters: 'DeadLetters',
  /** validator: cached entities that differ from the site. */
  Drift: 'Drift',
  /** api: reads answered from the cache. */
  CacheHit: 'CacheHit',
  /** api: reads passed through to the site (total with `service` only; per reason class with `service`+`reason`). */
  CachePass: 'CachePass',
  /** api: faults fpt-cache answered itself (bad input, limits, refused passes, unreachable site, internal errors). */
  ApiFaults: 'ApiFaults',
  /** api: write-throughs that failed after the site accepted the write (the sync pipeline repairs the cache). */
  WriteThroughFailures: 'WriteThroughFailures',
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
