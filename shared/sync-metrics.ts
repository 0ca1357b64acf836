// The sync pipeline's metrics: one port, written as EMF through Powertools Metrics in AWS, kept in memory locally and in tests.
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** Namespace of every custom metric (infra/metrics.ts METRICS_NAMESPACE). */
export const METRICS_NAMESPACE = 'FptCache';

/** The metric names the sync functions emit (the alarmed ones match infra/metrics.ts CUSTOM_METRICS). */
export type SyncMetricName =
  | 'PollerHeartbeat' | 'Backlog' | 'EventsForwarded' | 'EventsDropped' | 'EventsExpired' | 'CursorBeyondRetention'
  | 'EventsApplied' | 'SyncLagSeconds' | 'DeadLetters'
  | 'ImportedEntities' | 'ImportRemaining'
  | 'ReconciledEntities' | 'VanishedEntities' | 'Drift';

export type SyncMetricUnit = 'Count' | 'Seconds';

export interface SyncMetrics {
  add(name: SyncMetricName, value: number, unit?: SyncMetricUnit): void;
  /** Publishes what was added since the last flush (one EMF line in AWS). */
  flush(): void;
}

/** Powertools Metrics (EMF on stdout, extracted by CloudWatch Logs), namespace FptCache, dimension `service`. */
export class EmfSyncMetrics implements SyncMetrics {
  private readonly metrics: Metrics;
  constructor(serviceName: string) {
    this.metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
  }
  add(name: SyncMetricName, value: number, unit: SyncMetricUnit = 'Count'): void {
    this.metrics.addMetric(name, unit === 'Seconds' ? MetricUnit.Seconds : MetricUnit.Count, value);
  }
  flush(): void {
    this.metrics.publishStoredMetrics();
  }
}

/** Totals and last values in memory: the local stack's /status and the tests read them. */
export class MemorySyncMetrics implements SyncMetrics {
  readonly totals = new Map<SyncMetricName, number>();
  readonly last = new Map<SyncMetricName, { value: number; at: number }>();
  add(name: SyncMetricName, value: number): void {
    this.totals.set(name, (this.totals.get(name) ?? 0) + value);
    this.last.set(name, { value, at: Date.now() });
  }
  flush(): void {}
  total(name: SyncMetricName): number { return this.totals.get(name) ?? 0; }
}

/** Sends every metric to several sinks. */
export class TeeSyncMetrics implements SyncMetrics {
  constructor(private readonly sinks: SyncMetrics[]) {}
  add(name: SyncMetricName, value: number, unit?: SyncMetricUnit): void { for (const s of this.sinks) s.add(name, value, unit); }
  flush(): void { for (const s of this.sinks) s.flush(); }
}
