// PUBLIC FACE of shared/store
export { ensureTables, ENTITIES_TABLE, type IndexSpec, type KeyAttr, TABLE_SPECS, tableNames, type TableNames, type TableSpec } from './table-design.js';
export { addStats, emptyStats, EntityStore, type EntityStoreOptions, ITEM_LAYOUT, itemSize, type ReadStats, ScanTooLarge, type StoredEntity, type WriteResult } from './entity-store.js';
export { definitionFingerprint, type DriftRecord, Readiness, ReadinessStore, WHOLE_TYPE } from './readiness.js';
export { type ImportRun, ImportState, type TypeCheckpoint } from './import-state.js';
export { periodicSnapshot } from './periodic-snapshot.js';
