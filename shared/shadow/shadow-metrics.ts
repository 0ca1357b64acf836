// The shadow checks' metrics: one port, EMF through Powertools Metrics in AWS (namespace FptCache), in memory locally and in tests.
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ShadowOutcome } from './shadow-check.js';
import { METRICS_NAMESPACE } from '../config.js';

/** The verifier's metric names (infra/metrics.ts CUSTOM_METRICS includes them). */
export const SHADOW_METRICS = {
  /** verifier: one per verdict. */
  ShadowChecked: 'ShadowChecked',
  /** verifier: the site's replay equalled the cached answer. */
  ShadowMatched: 'ShadowMatched',
  /** verifier: it differed, and agreed once the sync caught up (a change in between). */
  ShadowConverged: 'ShadowConverged',
  /** verifier: the cache answered wrong (also with `type` and `shape` dimensions); alarmed. */
  ShadowMismatch: 'ShadowMismatch',
  /** verifier: the site kept changing; no verdict. */
  ShadowUnsettled: 'ShadowUnsettled',
  /** verifier: the cache would no longer answer the request. */
  ShadowSkipped: 'ShadowSkipped',
  /** verifier: it differed because the site had newer versions the sync had not brought yet (also with a `type` dimension); repaired, not quarantined. */
  ShadowStale: 'ShadowStale',
  /** verifier: entities re-read from the site and written by stale verdicts' repairs. */
  ShadowRepaired: 'ShadowRepaired',
  /** verifier: types turned to pass-through (reason shadow-mismatch). */
  ShadowQuarantined: 'ShadowQuarantined',
  /** reconciler: quarantines lifted because the type's suspects and request matched the site again. */
  ShadowLifted: 'ShadowLifted',
} as const;
export type ShadowMetricName = keyof typeof SHADOW_METRICS;

/** The metric of each outcome. */
const SHADOW_METRIC_NAMES = {
  checked: SHADOW_METRICS.ShadowChecked,
  matched: SHADOW_METRICS.ShadowMatched,
  converged: SHADOW_METRICS.ShadowConverged,
  mismatch: SHADOW_METRICS.ShadowMismatch,
  unsettled: SHADOW_METRICS.ShadowUnsettled,
  skipped: SHADOW_METRICS.ShadowSkipped,
  stale: SHADOW_METRICS.ShadowStale,
  quarantined: SHADOW_METRICS.ShadowQuarantined,
} as const;

export interface ShadowMetrics {
  /** One verdict; a mismatch also counts under the `type` and `shape` dimensions, a stale verdict under `type`. */
  verdict(outcome: ShadowOutcome, dims: { type: string; shape: string }): void;
  /** Types turned to pass-through by this verdict. */
  quarantined(n: number): void;
  /** Entities a stale verdict re-read and wrote. */
  repaired(n: number): void;
  /** Quarantines lifted after a re-check. */
  lifted(n: number): void;
  flush(): void;
}

export class EmfShadowMetrics implements ShadowMetrics {
  private readonly metrics: Metrics;
  constructor(serviceName?: string) {
    this.metrics = new Metrics({ namespace: METRICS_NAMESPACE, ...(serviceName ? { serviceName } : {}) });
  }
  verdict(outcome: ShadowOutcome, dims: { type: string; shape: string }): void {
    this.metrics.addMetric(SHADOW_METRIC_NAMES.checked, MetricUnit.Count, 1);
    this.metrics.addMetric(SHADOW_METRIC_NAMES[outcome], MetricUnit.Count, 1);
    if (outcome !== 'mismatch' && outcome !== 'stale') return;
    const single = this.metrics.singleMetric();
    single.addDimensions(outcome === 'mismatch' ? { type: dims.type, shape: dims.shape } : { type: dims.type });
    single.addMetric(SHADOW_METRIC_NAMES[outcome], MetricUnit.Count, 1);
  }
  quarantined(n: number): void {
    if (n) this.metrics.addMetric(SHADOW_METRIC_NAMES.quarantined, MetricUnit.Count, n);
  }
  repaired(n: number): void {
    if (n) this.metrics.addMetric(SHADOW_METRICS.ShadowRepaired, MetricUnit.Count, n);
  }
  lifted(n: number): void {
    if (n) this.metrics.addMetric(SHADOW_METRICS.ShadowLifted, MetricUnit.Count, n);
  }
  flush(): void {
    this.metrics.publishStoredMetrics();
  }
}

/** Totals in memory (the local stack and the tests), mismatches also keyed "type|shape", stale verdicts by type. */
export class MemoryShadowMetrics implements ShadowMetrics {
  readonly totals = new Map<string, number>();
  readonly mismatches = new Map<string, number>();
  readonly staleByType = new Map<string, number>();
  verdict(outcome: ShadowOutcome, dims: { type: string; shape: string }): void {
    this.bump(SHADOW_METRIC_NAMES.checked);
    this.bump(SHADOW_METRIC_NAMES[outcome]);
    if (outcome === 'mismatch') this.mismatches.set(`${dims.type}|${dims.shape}`, (this.mismatches.get(`${dims.type}|${dims.shape}`) ?? 0) + 1);
    if (outcome === 'stale') this.staleByType.set(dims.type, (this.staleByType.get(dims.type) ?? 0) + 1);
  }
  quarantined(n: number): void {
    if (n) this.bump(SHADOW_METRIC_NAMES.quarantined, n);
  }
  repaired(n: number): void {
    if (n) this.bump(SHADOW_METRICS.ShadowRepaired, n);
  }
  lifted(n: number): void {
    if (n) this.bump(SHADOW_METRICS.ShadowLifted, n);
  }
  flush(): void {}
  total(name: ShadowMetricName): number {
    return this.totals.get(name) ?? 0;
  }
  private bump(name: string, n = 1): void {
    this.totals.set(name, (this.totals.get(name) ?? 0) + n);
  }
}
