// PUBLIC FACE of shared/schema
export { type EntityTypeDef, type FieldDef, type SchemaFile, SiteSchema } from './schema-model.js';
export { CachedSchema, DEFAULT_SCHEMA_FILE, LINK_SLOTS, loadCachedSchema, parseCachedSchema, schemaFileFromEnv } from './cached-schema.js';
export { buildSchemaFile, fnmatch, identifierFor, parseRules, type Rule, type SchemaEntityRead, SchemaEntityReadSchema, type SchemaRead, schemaReadFromFile, SchemaReadSchema } from './schema-dump.js';
