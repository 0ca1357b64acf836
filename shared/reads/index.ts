// shared/reads: the API's read path and writes: cached reads, work limits, view coverage, EventLogEntry reads from the kept event log, caller auth, access rules, request routing, the response cache, schema replies, site field learning, write-through, cache status, API metrics.
// May import: every other package (it is the top). This index is the package's only public face: other packages import it, never a file inside.
export { type CachedMethod, type CachedReadOutcome, CachedReads, type ReadMode } from './cached-reads.js';
export { DEFAULT_STORE_MAX_LAG_MS, type Freshness, StoreFreshness } from './store-freshness.js';
export {
  bumpGenerations,
  DEFAULT_RESPONSE_CACHE_TTL_S,
  eventTypes,
  generationBumper,
  isCacheableReason,
  requestTypes,
  ResponseCache,
  responseKey,
  typesNamedIn,
} from './response-cache.js';
export { refusedPass, requiresHit, routeOf } from './request-routing.js';
export { type AccessRules, parseAccessRules } from './access-rules.js';
export { authParamsOf, CallerAuth, credentialOf, principalOf, readCredential, VERDICT_PK } from './caller-auth.js';
export { MAX_FILTER_CONDITIONS, MAX_FILTER_VALUES, MAX_PAGE_SIZE, workLimitReason } from './work-limits.js';
export { outsideCoverage, PermissionEpoch, PERMISSION_TYPES } from './view-coverage.js';
export { cursorWatermark, CursorWriteVersions, VERSION_STEP, WriteThrough, writeVersion, type WriteVersionSource } from './write-through.js';
export { cacheStatus } from './cache-status.js';
export { type ApiMetrics, EmfApiMetrics, MemoryApiMetrics } from './api-metrics.js';
export { type CounterGranularity, DEFAULT_MEMO_SHARE, linkTypesOf, memoBudgetBytes, memoCounters, ReplyMemo } from './reply-memo.js';
export { PrincipalViews, parseTrustedPrincipals, effectivePrincipal, DEFAULT_VIEW_TTL_MS, VIEW_PK } from './principal-views.js';
export { involvedTypes, linksVisible, permissionScope, storeLinkProjects, withRestriction } from './permission-scope.js';
export { compareProbe, probeRequest, type TypeView } from './permission-probe.js';
export { type HitView } from './cached-reads.js';
export { SiteFieldLearner } from './site-field-learning.js';
export { cachedSchemaFingerprint, SCHEMA_METHODS, SCHEMA_WRITE_METHODS, SchemaReplies } from './schema-replies.js';
export { type ApiMetricName, type PermissionEvent } from './api-metrics.js';
export {
  DEFAULT_EVENT_LOG_MAX_LAG_MS,
  EVENT_LOG_SERVED_FIELDS,
  MAX_EVENT_LOG_PARTITIONS,
  EventLogReads,
  type EventLogOutcome,
  type EventLogStatus,
} from './event-log-reads.js';
export { EventLogViews } from './event-log-views.js';
export { MAX_RENEWALS_PER_REPLY, SignatureRenewal } from './signature-renewal.js';
