// shared/store: the DynamoDB model: the table design, the entity store (item layout and codec, batch I/O, reads and queries, edge items, versioned writes), readiness (with the site's field names), import state, the kept event log.
// May import: site, schema, semantics. This index is the package's only public face: other packages import it, never a file inside.
export {
  createTableInput,
  ensureTables,
  ENTITIES_TABLE,
  type IndexSpec,
  type KeyAttr,
  TABLE_SPECS,
  tableNames,
  type TableNames,
  type TableSpec,
} from './table-design.js';
export { EntityStore, type EntityStoreOptions } from './entity-store.js';
export { dynamoDbClient } from './dynamodb-client.js';
export { type OrderedPage, type OrderedSource } from './entity-reads.js';
export { entityWriteSet, GroupedWrites, type GroupedWriteStats } from './grouped-writes.js';
export { addStats, edgeKey, emptyStats, ITEM_LAYOUT, type ReadStats, type StoredEntity, type WriteResult } from './item-layout.js';
export { itemSize } from './item-codec.js';
export { pool, ScanTooLarge } from './table-io.js';
export { KEPT_PK, KeptEvents, MAX_KEPT_ROW_BYTES, keptPartition, keptProjectId, type KeptRange, type KeptRow } from './kept-events.js';
export { definitionFingerprint, type DriftRecord, Readiness, ReadinessStore, WHOLE_TYPE } from './readiness.js';
export { type ImportRun, ImportState, type TypeCheckpoint } from './import-state.js';
export { periodicSnapshot } from './periodic-snapshot.js';
export { CountWindows } from './count-windows.js';
export { SiteFieldKnowledge } from './site-fields.js';
export {
  bumpGenerations,
  countersOfChange,
  deferBumps,
  GENERATION_PK,
  MAX_COUNTER_KEYS,
  projectCounter,
  projectOf,
  readGenerations,
  SCHEMA_GENERATION,
} from './change-counters.js';
export { asWriter, nextInterval, type PaceSettings, type QuietWrite, ReconcilePace, type TypePace, type WindowReport, type Writer } from './reconcile-pace.js';
export { DEFAULT_RECENT_TTL_S, RECENT_VOLATILE_PK, type RecentVolatile, RecentVolatileReads } from './recent-volatile.js';
export { KeptSiteInfo } from './kept-site-info.js';
export { type LinkFacts, linkFactsOf, MAX_FACT_ROUNDS, propagateStoredFacts } from './link-facts.js';
export { ANY_TYPE, PENDING_BUCKET, PENDING_MARK_MS, PENDING_PK, type PendingEvent, PendingEvents } from './pending-events.js';
export { nextFact, PROOF_OWNERS, SiteBehaviour, STAMP_KINDS, type StampFact, type StampKind, type StampObservation } from './site-behaviour.js';
export { type RebuildCheckpoint, type RebuildRequest, type RebuildRun, RebuildState } from './rebuild-state.js';
