// Projection: return_fields to wire entity dicts {"type", "id", then each requested field in request order}, links with names, deep fields.
import { fieldValue, parseFieldPath, type FieldPath } from './field-paths.js';
import { linkTarget, visibleLink, visibleLinks, wireLink } from './links.js';
import type { EntityLookup, EntityRecord } from './records.js';
import type { FieldDef, SiteSchema } from '../schema/index.js';
import { apiFault } from './filters.js';
import type { RuleValues } from './site-rules.js';

export interface CompiledProjection {
  /** The output keys after type and id, in order. */
  keys: string[];
  project: (rec: EntityRecord) => Record<string, unknown>;
}

/**
 * A field's stored value in wire form: entity -> {type, id, name} or null (null also for a retired target),
 * multi_entity -> visible links in stored order ([] when unset), tag_list -> [] when unset, dicts copied,
 * everything else as stored (date/date_time strings, image, numbers), unset -> null.
 */
export function wireValue(schema: SiteSchema, lookup: EntityLookup, def: FieldDef, v: unknown): unknown {
  // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- every data type not listed is returned as stored
  switch (def.data_type) {
    case 'entity': {
      const l = visibleLink(v, lookup);
      return l === null ? null : wireLink(schema, l, lookup);
    }
    case 'multi_entity':
    case 'addressing': {
      const ls = visibleLinks(v, lookup);
      const out = new Array<unknown>(ls.length);
      for (let i = 0; i < ls.length; i++) out[i] = wireLink(schema, ls[i], lookup);
      return out;
    }
    case 'tag_list':
      return Array.isArray(v) ? structuredClone(v) : [];
    default:
      if (v === undefined || v === null) return null;
      return typeof v === 'object' ? structuredClone(v) : v;
  }
}

/**
 * Compiles return_fields. Duplicates, `type` and `id` (always present) are left out; a path that does not exist is
 * what the site's `missingReturnField` rule says: left out silently (the default), a null column, or the fault the
 * site raises (docs/semantics.md "Projection"); a deep path through a multi-entity link returns null.
 */
export function compileProjection(
  schema: SiteSchema,
  lookup: EntityLookup,
  rootType: string,
  returnFields: readonly string[],
  missing: RuleValues['missingReturnField'] = 'omit',
): CompiledProjection {
  const keys: string[] = [];
  const getters: Array<(rec: EntityRecord) => unknown> = [];
  const seen = new Set<string>(['type', 'id']);
  for (const f of returnFields) {
    if (typeof f !== 'string' || seen.has(f)) continue;
    const parsed = parseFieldPath(schema, rootType, f);
    if (!parsed.ok) {
      if (missing === 'fault') throw apiFault('read', parsed.message);
      if (missing === 'omit') continue;
    }
    seen.add(f);
    keys.push(f);
    getters.push(parsed.ok ? getterFor(schema, lookup, parsed.path) : () => null);
  }
  const n = keys.length;
  return {
    keys,
    project: (rec) => {
      const out: Record<string, unknown> = { type: rec.type, id: rec.id };
      for (let i = 0; i < n; i++) out[keys[i]] = getters[i](rec);
      return out;
    },
  };
}

function getterFor(schema: SiteSchema, lookup: EntityLookup, path: FieldPath): (rec: EntityRecord) => unknown {
  const def = path.leaf;
  const f = path.leafField;
  if (path.hops.length === 0) return (rec) => wireValue(schema, lookup, def, fieldValue(rec, f));
  if (path.throughMulti) return () => null;
  const hops = path.hops;
  return (rec) => {
    let cur: EntityRecord | undefined = rec;
    for (let i = 0; i < hops.length; i++) {
      cur = linkTarget(fieldValue(cur, hops[i].field), hops[i].targetType, lookup);
      if (cur === undefined) return null;
    }
    return wireValue(schema, lookup, def, fieldValue(cur, f));
  };
}
