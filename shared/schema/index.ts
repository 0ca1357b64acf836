// shared/schema: the schema: the site schema model, the cached subset (schema/*.yml, link-slot assignment), schema dumps, the event log's schema piece.
// May import: site. This index is the package's only public face: other packages import it, never a file inside.
export { type EntityTypeDef, type FieldDef, type SchemaFile, SiteSchema } from './schema-model.js';
export { CachedSchema, DEFAULT_SCHEMA_FILE, LINK_SLOTS, loadCachedSchema, parseCachedSchema, schemaFileFromEnv } from './cached-schema.js';
export {
  buildSchemaFile,
  fnmatch,
  identifierFor,
  parseRules,
  type Rule,
  type SchemaEntityRead,
  SchemaEntityReadSchema,
  type SchemaRead,
  schemaReadFromFile,
  SchemaReadSchema,
} from './schema-dump.js';
export { EVENT_LOG_ENTRY_TYPE, eventLogSchema } from './event-log-schema.js';
export { callerDependentReason, isCallerDependent, PER_CALLER_REASON } from './caller-dependent.js';
