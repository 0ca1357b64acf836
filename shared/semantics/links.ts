// Link resolution: which link targets are visible (retired ones are not), a target's name, and wire link dicts {type, id, name}.
import type { WireLink } from '../site/index.js';
import type { EntityLookup, EntityRecord } from './records.js';
import type { SiteSchema } from '../schema/index.js';

/** A stored link, as far as the semantics model trusts a value to be one. */
export interface StoredLink {
  type: string;
  id: number;
}

export function isStoredLink(v: unknown): v is StoredLink {
  return typeof v === 'object' && v !== null && typeof (v as StoredLink).type === 'string' && typeof (v as StoredLink).id === 'number';
}

/**
 * The link as it reads back: null when unset, malformed, or its target is retired (docs/semantics.md "Retired
 * targets"). A target the lookup does not know stays visible: nothing says it is retired.
 */
export function visibleLink(v: unknown, lookup: EntityLookup): StoredLink | null {
  if (!isStoredLink(v)) return null;
  const target = lookup.get(v.type, v.id);
  return target !== undefined && target.retired ? null : v;
}

/** The visible links of a multi-entity value, in stored order (stores keep no duplicates, as the site does). */
export function visibleLinks(v: unknown, lookup: EntityLookup): StoredLink[] {
  if (!Array.isArray(v) || v.length === 0) return EMPTY;
  let out: StoredLink[] | undefined;
  for (let i = 0; i < v.length; i++) {
    const l: unknown = v[i];
    const keep = isStoredLink(l) && !(lookup.get(l.type, l.id)?.retired ?? false);
    if (!keep) out ??= v.slice(0, i) as StoredLink[];
    else if (out !== undefined) out.push(l);
  }
  return out ?? (v as StoredLink[]);
}
const EMPTY: StoredLink[] = [];

/**
 * The active target of a link when it is of `type` (a deep path hop `field.Type.x`): undefined when the link is
 * null, of another type, unknown to the lookup, or retired.
 */
export function linkTarget(v: unknown, type: string, lookup: EntityLookup): EntityRecord | undefined {
  if (!isStoredLink(v) || v.type !== type) return undefined;
  const t = lookup.get(type, v.id);
  return t === undefined || t.retired ? undefined : t;
}

/** The value of a record's identifier field, which is what a link's `name` shows. */
export function identifierValue(schema: SiteSchema, rec: EntityRecord): unknown {
  const idf = schema.identifier(rec.type);
  if (idf === undefined) return null;
  if (idf === 'id') return rec.id;
  const v = rec.values[idf];
  return v === undefined ? null : v;
}

/** The link's name: the target's identifier value, null when the target is unknown or its identifier unset. */
export function linkName(schema: SiteSchema, link: StoredLink, lookup: EntityLookup): unknown {
  const t = lookup.get(link.type, link.id);
  return t === undefined ? null : identifierValue(schema, t);
}

/** The wire form of a (visible) link: {type, id, name}, in that key order. */
export function wireLink(schema: SiteSchema, link: StoredLink, lookup: EntityLookup): WireLink {
  return { type: link.type, id: link.id, name: linkName(schema, link, lookup) as string | null };
}
