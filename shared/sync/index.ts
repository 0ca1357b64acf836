// shared/sync: keeping the store in step with the site: event log cursor, kept event-log window, poller and lease, event source and sink, event apply, import, reconciliation, validation, site fetches, schema drift and digest, DLQ replay, sync context and metrics.
// May import: site, schema, semantics, store, query, shadow. This index is the package's only public face: other packages import it, never a file inside.
export { advance, backlogIds, type CursorState, type EventRow, EventRowSchema, initialCursor, messageGroupId, owningEntity } from './event-log.js';
export { ShotgunEventSource } from './event-source.js';
export { DEFAULT_KEPT_TYPES, knownIds, type KnownIds, keptLogSettingsFromEnv, type KeptLogSettings, keptUntilS, nextKept } from './kept-window.js';
export { SqsEventSink } from './sqs-event-sink.js';
export { requeuePending, type RequeueDeps } from './pending-requeue.js';
export { pendingKeyOf, type PollerMetrics, type PollerRun, runPoller } from './poller.js';
export { type LeaseRecord, LeaseLostError, PollerLease, type PollMarks } from './poller-lease.js';
export { type ApplyOutcome, EventApplier } from './event-apply.js';
export { Importer, importerFor, rebuilderFor, type ImportOptions, type ImportOutcome, importPending, type ImportProgress } from './importer.js';
export { IN_FLIGHT_MS, type ReconcileOptions, type ReconcileOutcome, Reconciler, type ReconcilerDeps, type TypeReconcile } from './reconciler.js';
export { EntityRefresher, fetchable } from './entity-refresh.js';
export { type ShadowPorts, shadowPorts } from './shadow-ports.js';
export { type TypeValidation, type ValidateOptions, type ValidationReport, Validator, validatorFor } from './validator.js';
export { cachedFields, SiteFetcher } from './site-fetch.js';
export { writeTargets } from './batch-reads.js';
export { replayDeadLetters } from './dlq-replay.js';
export { DEFAULT_POLLER_LEASE_MS, DEFAULT_POLLER_STALE_MS, type SyncContext, syncContextFromEnv } from './sync-context.js';
export { EmfSyncMetrics, MemorySyncMetrics, SYNC_METRICS, type SyncMetrics } from './sync-metrics.js';
export { compareType, diffSchema, displayColumnEntityType, fetchLiveFields, type LiveFields, SchemaDrift } from './schema-drift.js';
export { SchemaDigest } from './schema-digest.js';
export { calibrate, Calibration, type CalibrationOutcome, calibrationFor, MISSING_FIELD_PROBE, type ProbeClient } from './calibration.js';
export { DEFAULT_VOLATILE_LEAD_MS, DEFAULT_VOLATILE_MAX_ENTITIES, volatileFields, type VolatileRefreshOutcome, VolatileRefresher } from './volatile-refresh.js';
export { StampLearner } from './stamp-learning.js';
export { CLOCK_MARGIN_MS, gapSince, type RebuildOptions, type RebuildOutcome, Rebuilder } from './rebuild.js';
export { planRebuild, type TypePlan } from './rebuild-plan.js';
