// Test helper: the deployed schema file (schema/default.yml) with edits, as another `fpt-cache schema dump` would write it.
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { parseCachedSchema, type CachedSchema } from '../../shared/schema/index.js';

type RawTypes = Record<string, { fields: Record<string, Record<string, unknown>> }>;

export function editedSchema(edit: (types: RawTypes) => void): CachedSchema {
  const raw = parseDocument(readFileSync('schema/default.yml', 'utf8')).toJS() as { types: RawTypes };
  edit(raw.types);
  return parseCachedSchema(JSON.stringify(raw), 'edited schema');
}
