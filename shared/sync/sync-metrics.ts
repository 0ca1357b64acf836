// The sync pipeline's metrics: one port, written as EMF through Powertools Metrics in AWS, kept in memory locally and in tests.
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE } from '../config.js';

/**
 * The metrics the sync functions emit, with who emits them: the one list of their names (infra/metrics.ts builds its
 * CloudWatch metrics, dashboard and alarms from it).
 */
export const SYNC_METRICS = {
  /** poller: one per poll of the event log (alarmed when missing). */
  PollerHeartbeat: 'PollerHeartbeat',
  /** poller: latest event id on the site minus the cursor. */
  Backlog: 'Backlog',
  /** poller: events queued for the consumer. */
  EventsForwarded: 'EventsForwarded',
  /** poller: events the cache does not need (uncached types and fields). */
  EventsDropped: 'EventsDropped',
  /** poller: ids waited for in the cursor's backlog that never appeared (the reconciliation scan is the safety net). */
  EventsExpired: 'EventsExpired',
  /** poller: the cursor is older than the site's event retention; a rebuild was requested (shared/sync/rebuild.ts). */
  CursorBeyondRetention: 'CursorBeyondRetention',
  /** poller: a poll that failed because of the site (down, or its event log failing); retried after one interval (alarmed). */
  PollFailures: 'PollFailures',
  /** consumer: events applied to the entities table. */
  EventsApplied: 'EventsApplied',
  /** consumer: seconds between an applied event's created_at and now. */
  SyncLagSeconds: 'SyncLagSeconds',
  /** consumer/poller: events given up on (sent to the DLQ or dropped from the id-gap backlog). */
  DeadLetters: 'DeadLetters',
  /** importer: entities written (per page). */
  ImportedEntities: 'ImportedEntities',
  /** importer: entities the trimmed-log rebuild's updated_at scans re-read (per page). */
  RebuiltEntities: 'RebuiltEntities',
  /** importer: entities left to import (per invocation). */
  ImportRemaining: 'ImportRemaining',
  /** reconciler: entities re-read and written by the updated_at scan and the sweep. */
  ReconciledEntities: 'ReconciledEntities',
  /** reconciler: stored entities the site no longer has (removed by the sweep). */
  VanishedEntities: 'VanishedEntities',
  /** validator: cached entities that differ from the site. */
  Drift: 'Drift',
  /** consumer/reconciler: cached fields whose definition on the site differs from the deployed schema (after each schema diff). */
  SchemaDrift: 'SchemaDrift',
} as const;

export type SyncMetricName = keyof typeof SYNC_METRICS;

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
  total(name: SyncMetricName): number {
    return this.totals.get(name) ?? 0;
  }
}

/** Sends every metric to several sinks. */
export class TeeSyncMetrics implements SyncMetrics {
  constructor(private readonly sinks: SyncMetrics[]) {}
  add(name: SyncMetricName, value: number, unit?: SyncMetricUnit): void {
    for (const s of this.sinks) s.add(name, value, unit);
  }
  flush(): void {
    for (const s of this.sinks) s.flush();
  }
}
