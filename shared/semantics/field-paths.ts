// Field paths: parsing `field[.Type.field...]` against the schema, walking them through entity and multi-entity links, and listing the paths a request uses.
import type { FieldDef, SiteSchema } from '../schema/index.js';
import type { EntityLookup, EntityRecord } from './records.js';
import { isStoredLink, linkTarget } from './links.js';
import { isGroup, type FilterGroup, type ReadParams, type SummaryParams } from '../site/index.js';

/** One hop of a deep path: `field` of `type` links to `targetType`. */
export interface PathHop {
  type: string;
  field: string;
  def: FieldDef;
  targetType: string;
  /** The hop goes through a multi_entity (or addressing) field. */
  multi: boolean;
}

export interface FieldPath {
  /** The path as written. */
  text: string;
  rootType: string;
  /** Link hops before the leaf; empty for a plain field. */
  hops: PathHop[];
  /** The type and field the path ends on. */
  leafType: string;
  leafField: string;
  leaf: FieldDef;
  /** Some hop is a multi-entity link: filters use EXISTS semantics over it. */
  throughMulti: boolean;
}

export type ParseResult = { ok: true; path: FieldPath } | { ok: false; message: string };

const MULTI_LINK_TYPES = new Set(['multi_entity', 'addressing']);
const HOP_TYPES = new Set(['entity', 'multi_entity', 'addressing']);

/**
 * Parses `path` relative to `rootType`. On failure `message` names the first bad piece in the site's words,
 * e.g. "Shot.sg_foo doesn't exist" or "Sequence.foo doesn't exist" (docs/semantics.md "Faults").
 */
export function parseFieldPath(schema: SiteSchema, rootType: string, path: string): ParseResult {
  const parts = path.split('.');
  if (parts.length % 2 === 0 || parts.some((p) => p === '')) {
    return { ok: false, message: `${rootType}.${path} doesn't exist` };
  }
  const hops: PathHop[] = [];
  let type = rootType;
  for (let i = 0; i + 1 < parts.length; i += 2) {
    const field = parts[i];
    const def = schema.field(type, field);
    if (def === undefined) return { ok: false, message: `${type}.${field} doesn't exist` };
    if (!HOP_TYPES.has(def.data_type)) {
      return { ok: false, message: `${type}.${field} is not an entity or multi_entity field, it cannot be followed to ${parts[i + 1]}` };
    }
    const targetType = parts[i + 1];
    if (!schema.hasType(targetType)) return { ok: false, message: `entity type ${targetType} doesn't exist` };
    hops.push({ type, field, def, targetType, multi: MULTI_LINK_TYPES.has(def.data_type) });
    type = targetType;
  }
  const leafField = parts[parts.length - 1];
  const leaf = schema.field(type, leafField);
  if (leaf === undefined) return { ok: false, message: `${type}.${leafField} doesn't exist` };
  return {
    ok: true,
    path: { text: path, rootType, hops, leafType: type, leafField, leaf, throughMulti: hops.some((h) => h.multi) },
  };
}

/** A record's stored value of a plain field: `id` from the record, unset as null. */
export function fieldValue(rec: EntityRecord, field: string): unknown {
  if (field === 'id') return rec.id;
  const v = rec.values[field];
  return v === undefined ? null : v;
}

/**
 * The leaf value of a path whose hops are all single-entity links: null when any hop is null, of another type
 * than the path names, unknown to the lookup, or retired.
 */
export function resolveSingle(rec: EntityRecord, path: FieldPath, lookup: EntityLookup): unknown {
  let cur: EntityRecord | undefined = rec;
  for (let i = 0; i < path.hops.length; i++) {
    const hop = path.hops[i];
    cur = linkTarget(fieldValue(cur, hop.field), hop.targetType, lookup);
    if (cur === undefined) return null;
  }
  return fieldValue(cur, path.leafField);
}

/**
 * EXISTS over a path with multi-entity hops: true when some entity reached through the links (of the hop's
 * type, known and active) has a leaf value satisfying `pred`. Single-entity hops on the way act as joins.
 */
export function existsLeaf(rec: EntityRecord, path: FieldPath, lookup: EntityLookup, pred: (v: unknown) => boolean): boolean {
  return existsFrom(rec, path, 0, lookup, pred);
}

function existsFrom(rec: EntityRecord, path: FieldPath, hopIndex: number, lookup: EntityLookup, pred: (v: unknown) => boolean): boolean {
  if (hopIndex === path.hops.length) return pred(fieldValue(rec, path.leafField));
  const hop = path.hops[hopIndex];
  const v = fieldValue(rec, hop.field);
  if (!hop.multi) {
    const t = linkTarget(v, hop.targetType, lookup);
    return t !== undefined && existsFrom(t, path, hopIndex + 1, lookup, pred);
  }
  if (!Array.isArray(v)) return false;
  for (const l of v) {
    if (!isStoredLink(l)) continue;
    const t = linkTarget(l, hop.targetType, lookup);
    if (t !== undefined && existsFrom(t, path, hopIndex + 1, lookup, pred)) return true;
  }
  return false;
}

/** The field paths a request uses, by role, as written (deduplicated, in first-use order). */
export interface UsedPaths {
  filters: string[];
  sorts: string[];
  returns: string[];
  /** Union of the three, in that order. */
  all: string[];
}

function filterPaths(group: FilterGroup, out: Set<string>): void {
  if (!group || !Array.isArray(group.conditions)) return;
  for (const c of group.conditions) {
    if (isGroup(c)) filterPaths(c, out);
    else if (typeof c.path === 'string') out.add(c.path);
  }
}

/**
 * Every field path a `read` (or `summarize`) uses in filters, sorts and return fields, so the cache's planner
 * can check coverage and prefetch linked entities. `read` with include_archived_projects false also uses
 * `project.Project.archived` (and `archived` on Project itself); see docs/semantics.md.
 */
export function collectFieldPaths(params: ReadParams | SummaryParams): UsedPaths {
  const f = new Set<string>();
  filterPaths(params.filters, f);
  if (params.include_archived_projects === false) f.add(params.type === 'Project' ? 'archived' : 'project.Project.archived');
  const s = new Set<string>();
  const r = new Set<string>();
  if ('summaries' in params && Array.isArray(params.summaries)) {
    const sp = params as SummaryParams;
    for (const x of sp.summaries) r.add(x.field);
    for (const g of sp.grouping ?? []) s.add(g.field);
  } else {
    const rp = params as ReadParams;
    for (const x of rp.sorts ?? []) s.add(x.field_name);
    for (const x of rp.return_fields ?? []) r.add(x);
  }
  return { filters: [...f], sorts: [...s], returns: [...r], all: [...new Set([...f, ...s, ...r])] };
}
