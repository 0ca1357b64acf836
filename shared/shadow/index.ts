// PUBLIC FACE of shared/shadow
export { differences, queryShape, resultDigest, sampled, sampleTypes, type ShadowMethod, shadowSample, type ShadowSample, ShadowSampleSchema, type ShadowVerdict, ShadowVerifier, type ShadowVerifierDeps } from './shadow-check.js';
export { ShadowLedger, type ShadowReport } from './shadow-ledger.js';
export { EmfShadowMetrics, MemoryShadowMetrics, SHADOW_METRICS, type ShadowMetrics } from './shadow-metrics.js';
export { shadowRateFromEnv, type ShadowSink, SqsShadowSink } from './shadow-queue.js';
