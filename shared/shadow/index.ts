// shared/shadow: shadow verification of cache hits: samples and verdicts, the ledger and quarantine, the sample queue, metrics.
// May import: site, schema, semantics, store, query. This index is the package's only public face: other packages import it, never a file inside.
export { differences, queryShape, resultDigest, sampled, sampleTypes, type ShadowMethod, shadowSample, type ShadowSample, ShadowSampleSchema, type ShadowVerdict, ShadowVerifier, type ShadowVerifierDeps } from './shadow-check.js';
export { ShadowLedger, type ShadowReport } from './shadow-ledger.js';
export { EmfShadowMetrics, MemoryShadowMetrics, SHADOW_METRICS, type ShadowMetrics } from './shadow-metrics.js';
export { shadowRateFromEnv, type ShadowSink, SqsShadowSink } from './shadow-queue.js';
