// shared/shadow: shadow verification of cache hits: samples and verdicts, stale or wrong, the ledger, quarantine and its healing, the sample queue, metrics.
// May import: site, schema, semantics, store, query. This index is the package's only public face: other packages import it, never a file inside.
export {
  differences,
  queryShape,
  resultDigest,
  sampled,
  sampleTypes,
  type ShadowDifference,
  type ShadowMethod,
  type ShadowOutcome,
  shadowSample,
  type ShadowSample,
  ShadowSampleSchema,
  type ShadowVerdict,
  ShadowVerifier,
  type ShadowVerifierDeps,
} from './shadow-check.js';
export { type QuarantineEntry, type QuarantinedType, RECHECK_BACKOFF, ShadowLedger, type ShadowReport } from './shadow-ledger.js';
export { EmfShadowMetrics, MemoryShadowMetrics, SHADOW_METRICS, type ShadowMetrics } from './shadow-metrics.js';
export { shadowRateFromEnv, type ShadowSink, SqsShadowSink } from './shadow-queue.js';
export { type Classification, linksIn, newerOnSite, type StaleEntity, ShadowVersions, type ShadowVersionsDeps, type VersionRow } from './shadow-versions.js';
export { type HealOutcome, QuarantineHealer, type QuarantineHealerDeps } from './quarantine-heal.js';
