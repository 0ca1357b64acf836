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
  /** verifier: types turned to pass-through (reason shadow-mismatch). */
  ShadowQuarantined: 'ShadowQuarantined',
} as const;
export type ShadowMetricName = keyof typeof SHADOW_METRICS;

/** The metric of each outcome. */
const SHADOW_METRIC_NAMES = {
  checked: SHADOW_METRICS.ShadowChecked, matched: SHADOW_METRICS.ShadowMatched, converged: SHADOW_METRICS.ShadowConverged,
  mismatch: SHADOW_METRICS.ShadowMismatch, unsettled: SHADOW_METRICS.ShadowUnsettled, skipped: SHADOW_METRICS.ShadowSkipped,
  quarantined: SHADOW_METRICS.ShadowQuarantined,
} as const;

export interface ShadowMetrics {
  /** One verdict; a mismatch also counts under the `type` and `shape` dimensions. */
  verdict(outcome: ShadowOutcome, dims: { type: string; shape: string }): void;
  /** Types turned to pass-through by this verdict. */
  quarantined(n: number): void;
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
    if (outcome !== 'mismatch') return;
    const single = this.metrics.singleMetric();
    single.addDimensions({ type: dims.type, shape: dims.shape });
    single.addMetric(SHADOW_METRIC_NAMES.mismatch, MetricUnit.Count, 1);
  }
  quarantined(n: number): void { if (n) this.metrics.addMetric(SHADOW_METRIC_NAMES.quarantined, MetricUnit.Count, n); }
  flush(): void { this.metrics.publishStoredMetrics(); }
}

/** Totals in memory (the local stack and the tests), mismatches also keyed "type|shape". */
export class MemoryShadowMetrics implements ShadowMetrics {
  readonly totals = new Map<string, number>();
  readonly mismatches = new Map<string, number>();
  verdict(outcome: ShadowOutcome, dims: { type: string; shape: string }): void {
    this.bump(SHADOW_METRIC_NAMES.checked);
    this.bump(SHADOW_METRIC_NAMES[outcome]);
    if (outcome === 'mismatch') this.mismatches.set(`${dims.type}|${dims.shape}`, (this.mismatches.get(`${dims.type}|${dims.shape}`) ?? 0) + 1);
  }
  quarantined(n: number): void { if (n) this.bump(SHADOW_METRIC_NAMES.quarantined, n); }
  flush(): void {}
  total(name: ShadowMetricName): number { return this.totals.get(name) ?? 0; }
  private bump(name: string, n = 1): void { this.totals.set(name, (this.totals.get(name) ?? 0) + n); }
}
