// Whether a planned read lies inside a principal's verified view, the exact project restriction to apply when it does, and the check of the links in the answer.
//
// Served only when every type the read touches (its own, every deep hop, every link target of a field it filters,
// sorts or returns) is verified with the caller's rows equal to the script's, no field the read touches is hidden,
// and project restrictions are exact: the read is confined to visible projects, or (when the type has no visible
// rows without a project) `project in <visible>` is added to it; other project-restricted types may be reached only
// through the read's own `project` field, as returned links (linkCheck), or as the explicit links an `is` / `in` filter
// compares a link field with (filterLinks: the caller must see every one of them), each checked against the store.
import type { CachedSchema } from '../schema/index.js';
import { collectFieldPaths, parseFieldPath } from '../semantics/index.js';
import { isGroup, type Link, type ReadParams } from '../site/index.js';
import type { EntityStore } from '../store/index.js';
import { confinedProjects } from './access-rules.js';
import type { TypeView } from './permission-probe.js';

const LINK_TYPES = new Set(['entity', 'multi_entity', 'addressing']);

interface Touch {
  type: string;
  field: string;
}
/**
 * A link field at the end of a path: `filter` when a filter compares it other than with explicit links, or a sort
 * orders by it (a link the caller cannot see reads as null to it); `return` otherwise, with `values` the explicit links
 * of its `is` / `in` filters, if any, and `returned` whether the read also returns it.
 */
interface LeafLink extends Touch {
  targets: string[];
  role: 'filter' | 'return';
  values: Target[];
  returned: boolean;
}
interface PathFacts {
  touches: Touch[];
  hops: Array<Touch & { target: string }>;
  leafLinks: LeafLink[];
}
type Target = { type: string; id: number };

const asTarget = (v: unknown): Target | undefined =>
  typeof v === 'object' && v !== null && typeof (v as Target).type === 'string' && typeof (v as Target).id === 'number'
    ? { type: (v as Target).type, id: (v as Target).id }
    : undefined;

/**
 * Per filtered path: the explicit links of its `is` / `in` conditions (anywhere in the filter tree), or `opaque` when
 * any condition on it is something else (another operator, a null, a non-link value).
 */
function filterValues(params: ReadParams): Map<string, Target[] | 'opaque'> {
  const out = new Map<string, Target[] | 'opaque'>();
  const walk = (g: ReadParams['filters']) => {
    for (const c of g.conditions) {
      if (isGroup(c)) {
        walk(c);
        continue;
      }
      const values = c.relation === 'in' && c.values.length === 1 && Array.isArray(c.values[0]) ? (c.values[0] as unknown[]) : c.values;
      const links = values.map(asTarget);
      const prev = out.get(c.path);
      if (prev === 'opaque') continue;
      if ((c.relation !== 'is' && c.relation !== 'in') || links.length === 0 || links.some((l) => l === undefined)) out.set(c.path, 'opaque');
      else out.set(c.path, [...(prev ?? []), ...(links as Target[])]);
    }
  };
  walk(params.filters);
  return out;
}

function factsOf(schema: CachedSchema, params: ReadParams): PathFacts | undefined {
  const used = collectFieldPaths(params);
  const facts: PathFacts = { touches: [], hops: [], leafLinks: [] };
  const roleOf = (p: string): 'filter' | 'return' => (used.filters.includes(p) || used.sorts.includes(p) ? 'filter' : 'return');
  const compared = filterValues(params);
  const returned = new Set(params.return_fields ?? []);
  for (const text of used.all) {
    const parsed = parseFieldPath(schema.site, params.type, text);
    // A planned read's return path that does not parse names a field the site lacks (the planner admitted it from the
    // site's own field names): every caller gets it omitted or null, so it shows nothing of any row.
    if (!parsed.ok && roleOf(text) === 'return') continue;
    if (!parsed.ok) return undefined;
    const p = parsed.path;
    for (const h of p.hops) {
      facts.touches.push({ type: h.type, field: h.field });
      facts.hops.push({ type: h.type, field: h.field, target: h.targetType });
    }
    facts.touches.push({ type: p.leafType, field: p.leafField });
    if (LINK_TYPES.has(p.leaf.data_type)) {
      const targets = p.leaf.valid_types ?? [];
      // A link field whose target types the schema does not name: nothing can be verified about its targets.
      if (targets.length === 0) return undefined;
      const values = compared.get(text);
      const role = used.sorts.includes(text) || values === 'opaque' ? 'filter' : 'return';
      facts.leafLinks.push({ type: p.leafType, field: p.leafField, targets, role, values: Array.isArray(values) ? values : [], returned: returned.has(text) });
      // A returned link shows its target's name: the target's identifier field is touched too.
      for (const t of targets) {
        const idf = schema.site.identifier(t);
        if (idf && idf !== 'id') facts.touches.push({ type: t, field: idf });
      }
    }
  }
  return facts;
}

/** Every type a read touches: its own, deep hops and link targets (the types whose views must be verified). */
export function involvedTypes(schema: CachedSchema, params: ReadParams): string[] | undefined {
  const f = factsOf(schema, params);
  if (!f) return undefined;
  const out = new Set<string>([params.type]);
  for (const h of f.hops) out.add(h.target);
  for (const l of f.leafLinks) for (const t of l.targets) out.add(t);
  return [...out];
}

/** Returned links of these types must point at rows in these projects (`Project` links: at these ids). */
export type LinkCheck = ReadonlyMap<string, ReadonlySet<number>>;

export type Scope =
  /**
   * `linkCheck`: links of these types in the answer, and the `filterLinks` its filters compare with, must be stored in
   * the caller's visible projects (one check against the store, linksVisible).
   */
  { ok: true; restrict?: { path: string; values: unknown[] }; linkCheck?: LinkCheck; filterLinks?: Target[] } | { ok: false; reason: string };

const restricted = (t: string): Scope => ({ ok: false, reason: `permission-restricted:${t}` });
const subset = (a: readonly number[], b: readonly number[]) => a.every((x) => b.includes(x));

/** The scope of a planned read for a caller whose views of the involved types are `views`. */
export function permissionScope(schema: CachedSchema, params: ReadParams, views: ReadonlyMap<string, TypeView>): Scope {
  const facts = factsOf(schema, params);
  if (!facts) return { ok: false, reason: 'permission-unverified' };
  const view = (t: string) => views.get(t);
  for (const t of involvedTypes(schema, params) ?? []) {
    const v = view(t);
    if (!v) return { ok: false, reason: 'permission-unverified' };
    if (v.rows !== 'same') return restricted(t);
  }
  for (const x of facts.touches) if (view(x.type)?.hidden.includes(x.field)) return restricted(x.type);

  // The root type's projects: confined by the read itself, or restricted exactly by an added condition.
  const root = params.type;
  const rv = view(root)!;
  const confined = confinedProjects(params);
  let effective: readonly number[] | undefined = confined;
  let restrict: { path: string; values: unknown[] } | undefined;
  if (rv.projects) {
    if (confined) {
      if (!subset(confined, rv.projects)) return restricted(root);
    } else {
      if (rv.projectless || rv.projects.length === 0) return restricted(root);
      effective = rv.projects;
      restrict =
        root === 'Project' ? { path: 'id', values: [...rv.projects] } : { path: 'project', values: rv.projects.map((id) => ({ type: 'Project', id })) };
    }
  }
  // Links through the root's own `project` field reach only the effective projects.
  const projectView = view('Project');
  const viaRootProject = (x: Touch) =>
    x.type === root &&
    x.field === 'project' &&
    root !== 'Project' &&
    (!projectView?.projects || (effective !== undefined && subset(effective, projectView.projects)));
  const linkCheck = new Map<string, ReadonlySet<number>>();
  const filterLinks: Target[] = [];
  for (const h of facts.hops) {
    if (view(h.target)?.projects && !viaRootProject(h)) return restricted(h.target);
  }
  for (const l of facts.leafLinks) {
    if (viaRootProject(l)) continue;
    // Compared with explicit links only: a row matches for the caller exactly when it does for the script, provided
    // the caller sees every one of those links (checked against the store with the answer's); targets not named do not matter.
    for (const v of l.role === 'return' ? l.values : []) {
      const tv = view(v.type);
      if (!tv) return { ok: false, reason: 'permission-unverified' };
      if (!tv.projects) continue;
      linkCheck.set(v.type, new Set(tv.projects));
      filterLinks.push(v);
    }
    if (l.role === 'return' && !l.returned) continue;
    for (const t of l.targets) {
      const tv = view(t);
      if (!tv?.projects) continue;
      if (l.role === 'filter' || tv.projectless) return restricted(t);
      linkCheck.set(t, new Set(tv.projects));
    }
  }
  return { ok: true, ...(restrict ? { restrict } : {}), ...(linkCheck.size ? { linkCheck } : {}), ...(filterLinks.length ? { filterLinks } : {}) };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Params with the restriction ANDed to their filters (read or summarize params alike). */
export function withRestriction<T>(params: T, restrict: { path: string; values: unknown[] }): T {
  const p = params as Record<string, unknown>;
  const cond = { path: restrict.path, relation: 'in', values: restrict.values };
  const f = isObj(p.filters) ? p.filters : { logical_operator: 'and', conditions: [] };
  const filters =
    f.logical_operator === 'and' && Array.isArray(f.conditions)
      ? { ...f, conditions: [...f.conditions, cond] }
      : { logical_operator: 'and', conditions: [f, cond] };
  return { ...p, filters } as T;
}

/** The links in an answer whose type `check` names, by type (ids). */
export function linksToCheck(result: unknown, check: LinkCheck): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  const walk = (v: unknown) => {
    if (Array.isArray(v)) {
      for (const x of v) walk(x);
      return;
    }
    if (!isObj(v)) return;
    if (typeof v.type === 'string' && typeof v.id === 'number' && check.has(v.type)) {
      let s = out.get(v.type);
      if (!s) out.set(v.type, (s = new Set()));
      s.add(v.id);
    }
    for (const x of Object.values(v)) walk(x);
  };
  walk(result);
  return out;
}

/**
 * The first type with a checked link of the answer outside its visible projects, or undefined when every one is
 * inside. `projectOf` gives the stored rows' project ids (null: none; a missing id: not in the cache): anything
 * unknown, or no `projectOf`, fails the check.
 */
export async function linksVisible(
  result: unknown,
  check: LinkCheck,
  projectOf?: (type: string, ids: number[]) => Promise<Map<number, number | null>>,
): Promise<string | undefined> {
  for (const [type, ids] of linksToCheck(result, check)) {
    const allowed = check.get(type)!;
    if (type === 'Project') {
      for (const id of ids) if (!allowed.has(id)) return type;
      continue;
    }
    if (!projectOf) return type;
    const projects = await projectOf(type, [...ids]);
    for (const id of ids) {
      const p = projects.get(id);
      if (p === undefined || p === null || !allowed.has(p)) return type;
    }
  }
  return undefined;
}

/** `linksVisible`'s project lookup over the cache's own store. */
export function storeLinkProjects(store: EntityStore): (type: string, ids: number[]) => Promise<Map<number, number | null>> {
  return async (type, ids) => {
    const { entities } = await store.getMany(type, ids);
    return new Map(entities.map((e) => [e.record.id, (e.record.values.project as Link | undefined)?.id ?? null]));
  };
}
