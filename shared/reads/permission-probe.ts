// Probes of one principal's view of one entity type: the same question asked of the site with the caller's credentials and with the cache's script, and the answers compared.
//
// Per type, one `summarize` (record_count of rows, `count` of every cached field, grouped by `project` when the type
// has one), or for Project itself one `read` of every cached field. Asked with both credentials at the same moment,
// so the comparison is the site's own: rows the caller does not see make a project's group smaller or absent; a
// field the caller does not see counts fewer non-empty values (hidden fields read null). The outcome, a TypeView,
// describes the caller's view of that type relative to the script's (which the cache holds).
import type { CachedSchema } from '../schema/index.js';
import { ShotgunFault, ShotgunTransportError, type AuthParams } from '../site/index.js';
import { AUTH_FAULT_CODES } from './caller-auth.js';

/** A principal's view of one type, relative to the cache's script. */
export interface TypeView {
  /** `same`: within `projects`, the caller sees exactly the script's rows; `differ`: some row rule hides rows. */
  rows: 'same' | 'differ';
  /** Project ids whose rows the caller sees, when it does not see every project's (for Project: its own ids). */
  projects?: number[];
  /** Cached fields whose values the caller sees differently (hidden, or links to rows it does not see). */
  hidden: string[];
  /** Rows with no project exist and are visible: a `project in [...]` restriction would drop them. */
  projectless?: boolean;
  /** Hidden fields of which the caller saw no value at all where the script saw some (a value later is evidence of a change). */
  blank?: string[];
  /**
   * The projects the view was verified for: those the script saw rows of at the probe (for Project: its ids). Rows
   * of any other project (created later, or empty then) are not covered (shared/reads/view-coverage.ts).
   */
  verified?: number[];
}

export interface ProbeRequest {
  method: 'read' | 'summarize';
  params: Record<string, unknown>;
}

/** More Projects than one page: the Project probe cannot see them all. */
const PROJECT_PAGE = 500;

const NO_FILTERS = { logical_operator: 'and', conditions: [] };

/** Cached fields of a type (id excluded). */
export function probeFields(schema: CachedSchema, type: string): string[] {
  return Object.keys(schema.site.type(type)?.fields ?? {}).filter((f) => f !== 'id');
}

/** Whether rows of `type` belong to a project (a single-entity `project` field to Project). */
export function hasProject(schema: CachedSchema, type: string): boolean {
  const d = schema.site.field(type, 'project');
  return d?.data_type === 'entity' && (d.valid_types ?? ['Project']).includes('Project');
}

/** The request both sides are asked. */
export function probeRequest(schema: CachedSchema, type: string): ProbeRequest {
  const fields = probeFields(schema, type);
  if (type === 'Project') {
    return {
      method: 'read',
      params: {
        type,
        return_fields: ['id', ...fields],
        filters: NO_FILTERS,
        return_only: 'active',
        paging: { entities_per_page: PROJECT_PAGE, current_page: 1 },
      },
    };
  }
  const params: Record<string, unknown> = {
    type,
    filters: NO_FILTERS,
    summaries: [{ field: 'id', type: 'record_count' }, ...fields.map((field) => ({ field, type: 'count' }))],
  };
  if (hasProject(schema, type)) params.grouping = [{ field: 'project', type: 'exact', direction: 'asc' }];
  return { method: 'summarize', params };
}

/** A value that reads as empty: null, or an empty multi-entity list. */
export const isEmpty = (v: unknown): boolean => v === null || v === undefined || (Array.isArray(v) && v.length === 0);

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The caller's view of `type` from the two replies (`mine`: with the caller's credentials; `theirs`: with the
 * script's), or undefined when they cannot be compared (an unexpected shape, a group or row only the caller sees:
 * the data moved between the two calls, or the probe cannot see everything). Undefined means: not verified.
 */
export function compareProbe(schema: CachedSchema, type: string, mine: unknown, theirs: unknown): TypeView | undefined {
  return type === 'Project' ? compareProjects(schema, mine, theirs) : compareSummaries(schema, type, mine, theirs);
}

function compareProjects(schema: CachedSchema, mine: unknown, theirs: unknown): TypeView | undefined {
  const rows = (r: unknown) => (isObj(r) && Array.isArray(r.entities) ? (r.entities as Array<Record<string, unknown>>) : undefined);
  const a = rows(mine);
  const b = rows(theirs);
  if (!a || !b || b.length >= PROJECT_PAGE) return undefined;
  const script = new Map(b.map((e) => [e.id, e]));
  const hidden = new Set<string>();
  const seen = new Set<string>();
  for (const e of a) {
    const s = script.get(e.id);
    if (!s) return undefined;
    for (const f of probeFields(schema, 'Project')) {
      if (!isEmpty(e[f])) seen.add(f);
      if (JSON.stringify(e[f] ?? null) !== JSON.stringify(s[f] ?? null)) hidden.add(f);
    }
  }
  const all = a.length === b.length;
  const blank = [...hidden].filter((f) => !seen.has(f)).sort();
  return {
    rows: 'same',
    hidden: [...hidden].sort(),
    ...(all ? {} : { projects: a.map((e) => e.id as number).sort((x, y) => x - y) }),
    ...(blank.length ? { blank } : {}),
    verified: b.map((e) => e.id as number).sort((x, y) => x - y),
  };
}

interface Group {
  key: number | null;
  counts: Record<string, unknown>;
}

function groupsOf(r: unknown, grouped: boolean): Group[] | undefined {
  if (!isObj(r) || !isObj(r.summaries)) return undefined;
  if (!grouped) return [{ key: null, counts: r.summaries }];
  if (!Array.isArray(r.groups)) return undefined;
  const out: Group[] = [];
  for (const g of r.groups) {
    if (!isObj(g) || !isObj(g.summaries)) return undefined;
    const v = g.group_value;
    const key = v === null ? null : isObj(v) && typeof v.id === 'number' ? v.id : undefined;
    if (key === undefined) return undefined;
    out.push({ key, counts: g.summaries });
  }
  return out;
}

function compareSummaries(schema: CachedSchema, type: string, mine: unknown, theirs: unknown): TypeView | undefined {
  const grouped = hasProject(schema, type);
  const a = groupsOf(mine, grouped);
  const b = groupsOf(theirs, grouped);
  if (!a || !b) return undefined;
  const byKey = new Map(a.map((g) => [g.key, g]));
  if (a.some((g) => !b.some((s) => s.key === g.key))) return undefined;
  const visible: number[] = [];
  let allProjects = true;
  let rows: 'same' | 'differ' = 'same';
  let projectless = false;
  const hidden = new Set<string>();
  const seen = new Set<string>();
  for (const s of b) {
    const m = byKey.get(s.key);
    const n = Number(m?.counts.id ?? 0);
    const total = Number(s.counts.id);
    if (!Number.isFinite(total)) return undefined;
    if (n === 0 && total > 0 && s.key !== null) {
      allProjects = false;
      continue;
    }
    if (n !== total) {
      rows = 'differ';
      continue;
    }
    if (s.key === null) projectless = total > 0;
    else visible.push(s.key);
    for (const f of probeFields(schema, type)) {
      if (Number(m!.counts[f]) > 0) seen.add(f);
      if (m!.counts[f] !== s.counts[f]) hidden.add(f);
    }
  }
  const blank = [...hidden].filter((f) => !seen.has(f)).sort();
  return {
    rows,
    hidden: [...hidden].sort(),
    ...(blank.length ? { blank } : {}),
    ...(allProjects ? {} : { projects: visible.sort((x, y) => x - y) }),
    ...(projectless ? { projectless: true } : {}),
    ...(grouped ? { verified: b.flatMap((g) => (g.key === null ? [] : [g.key])).sort((x, y) => x - y) } : {}),
  };
}

/**
 * One probe question asked with the caller's and the script's credentials at the same moment. `refused`: the site
 * faulted the caller (not on its credentials) and answered the script: the caller's view is narrower. `failed`: one
 * side could not be asked (a fault or the site unreachable): nothing can be verified. Other errors are thrown.
 */
export type BothSides = { kind: 'both'; mine: unknown; theirs: unknown } | { kind: 'refused' } | { kind: 'failed' };

export async function askBoth(ask: (auth: AuthParams) => Promise<unknown>, caller: unknown, script: AuthParams): Promise<BothSides> {
  const [mine, theirs] = await Promise.allSettled([ask(caller as AuthParams), ask(script)]);
  if (mine.status === 'rejected' && mine.reason instanceof ShotgunFault && !AUTH_FAULT_CODES.has(mine.reason.errorCode) && theirs.status === 'fulfilled')
    return { kind: 'refused' };
  if (mine.status === 'rejected' || theirs.status === 'rejected') {
    const e = (mine.status === 'rejected' ? mine.reason : (theirs as PromiseRejectedResult).reason) as unknown;
    if (!(e instanceof ShotgunFault) && !(e instanceof ShotgunTransportError)) throw e;
    return { kind: 'failed' };
  }
  return { kind: 'both', mine: mine.value, theirs: theirs.value };
}
