// Pure builders of exactly the JSON-RPC payloads shotgun_api3 v3.10 sends (protocol.md §1.3-§1.4, §2.1, §3.1-§3.2, §4.1, §5).
import { formatDateTime } from './data-types.js';
import type { AuthParams, Condition, FilterGroup } from './wire.js';

/** What shotgun_api3 raises client-side (ShotgunError / ValueError) before anything is sent. */
export class PayloadError extends Error {
  constructor(message: string) { super(message); this.name = 'PayloadError'; }
}

/** A server version as `info` reports it, truncated to three numbers (ServerCapabilities). */
export type ServerVersion = readonly [number, number, number];

export function versionAtLeast(v: ServerVersion, min: ServerVersion): boolean {
  for (let i = 0; i < 3; i++) if (v[i] !== min[i]) return v[i] > min[i];
  return true;
}

/** The version from an `info` reply (`version` is required, as ServerCapabilities requires it). */
export function serverVersionOf(info: unknown): ServerVersion {
  const v = (info as { version?: unknown } | null)?.version;
  if (!Array.isArray(v) || v.length < 3 || !v.slice(0, 3).every((n) => typeof n === 'number')) {
    throw new PayloadError('The server did not report a version in info()');
  }
  return [v[0] as number, v[1] as number, v[2] as number];
}

/** `records_per_page`: info's api_max_entities_per_page, or 500. */
export function recordsPerPageOf(info: unknown): number {
  const n = (info as { api_max_entities_per_page?: unknown } | null)?.api_max_entities_per_page;
  return typeof n === 'number' && n > 0 ? n : 500;
}

/** The paging-info flag find() sends: return_paging_info_without_counts on servers >= 7.4.0, else return_paging_info. */
export function pagingInfoFlag(v: ServerVersion): 'return_paging_info_without_counts' | 'return_paging_info' {
  return versionAtLeast(v, [7, 4, 0]) ? 'return_paging_info_without_counts' : 'return_paging_info';
}

// ---- values -------------------------------------------------------------------------------------------------

/**
 * _transform_outbound: JS Dates become "YYYY-MM-DDTHH:MM:SSZ" (UTC), recursively through arrays and plain
 * objects. (Python `date` values have no JS counterpart: pass "YYYY-MM-DD" strings.)
 */
export function transformOutbound<T>(value: T): T {
  if (value instanceof Date) return formatDateTime(value) as T;
  if (Array.isArray(value)) return value.map((v) => transformOutbound(v)) as T;
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = transformOutbound(v);
    return out as T;
  }
  return value;
}

/** Keys an entity dict keeps when the client optimises it (_get_type_and_id_from_value). */
const OPTIMIZED_KEYS = ['url', 'name', 'content_type', 'local_path', 'storage', 'relative_path'] as const;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The client's entity "optimisation": a dict with `type` and `id` is reduced to {type, id} plus the kept keys;
 * a list is reduced element by element; anything else (a url dict, a scalar) is returned unchanged.
 */
export function optimizeEntityValue(value: unknown): unknown {
  if (isPlainObject(value)) {
    if (!('type' in value) || !('id' in value)) return value;
    const out: Record<string, unknown> = { type: value.type, id: value.id };
    for (const k of OPTIMIZED_KEYS) if (k in value) out[k] = value[k];
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => optimizeEntityValue(v));
  return value;
}

// ---- filters ------------------------------------------------------------------------------------------------

/** A list-style condition [path, relation, v1, v2, ...] or a nested {filter_operator, filters} group. */
export type ListFilter = readonly unknown[] | { filter_operator?: unknown; filters?: unknown };

export interface TranslateOptions {
  /** SHOTGUN_API_DISABLE_ENTITY_OPTIMIZATION unset (the default): reduce entity dicts in is/is_not/in/not_in values. */
  entityOptimization?: boolean;
}

function logicalOperator(op: unknown): 'and' | 'or' {
  if (op === 'all' || op === 'and') return 'and';
  if (op === 'any' || op === 'or') return 'or';
  throw new PayloadError(`Invalid filter_operator ${String(op)}`);
}

function translateSimple(f: readonly unknown[], opts: TranslateOptions): Condition {
  if (f.length < 2) throw new PayloadError('list index out of range');
  const path = f[0] as string;
  const relation = f[1] as string;
  let values: unknown[] = f.slice(2);
  if (values.length === 1 && Array.isArray(values[0])) values = [...(values[0] as unknown[])];
  if ((opts.entityOptimization ?? true) && path !== 'id' && ['is', 'is_not', 'in', 'not_in'].includes(relation)) {
    // shotgun_api3 reads values[0] here, so an empty list on any other path raises IndexError client-side.
    if (values.length === 0) throw new PayloadError('list index out of range');
    if (isPlainObject(values[0])) values = values.map((v) => optimizeEntityValue(v));
  }
  return { path, relation, values };
}

function translateList(filters: readonly unknown[], opts: TranslateOptions): Array<Condition | FilterGroup> {
  return filters.map((f) => {
    if (Array.isArray(f)) return translateSimple(f, opts);
    if (isPlainObject(f)) return translateDict(f, opts);
    throw new PayloadError(`Invalid filters, expected a list, tuple or dict, got ${JSON.stringify(f)}`);
  });
}

function translateDict(f: Record<string, unknown>, opts: TranslateOptions): FilterGroup {
  if (!('filter_operator' in f) || !('filters' in f)) throw new PayloadError(`Invalid filter_operator ${String(f.filter_operator)}`);
  const logical_operator = logicalOperator(f.filter_operator);
  if (!Array.isArray(f.filters)) throw new PayloadError(`Invalid filters, expected a list or a tuple, got ${JSON.stringify(f.filters)}`);
  return { logical_operator, conditions: translateList(f.filters, opts) };
}

/**
 * _translate_filters(filters, filter_operator): list-style filters to the wire's {logical_operator, conditions}.
 * `filterOperator` null/undefined/"all"/"and" gives "and"; "any"/"or" gives "or".
 */
export function translateFilters(filters: readonly ListFilter[], filterOperator?: string | null, opts: TranslateOptions = {}): FilterGroup {
  return translateDict({ filter_operator: filterOperator ?? 'all', filters }, opts);
}

// ---- auth ---------------------------------------------------------------------------------------------------

export type ClientCredentials =
  | { login: string; password: string; authToken?: string }
  | { scriptName: string; apiKey: string }
  | { sessionToken: string };

export interface AuthOptions {
  sessionUuid?: string;
  sudoAsLogin?: string;
  /** config.extra_auth_params, merged last. */
  extraAuthParams?: Record<string, unknown>;
  /** The server version (decides reject_if_expired); unknown = treated as modern. */
  serverVersion?: ServerVersion;
}

/** _auth_params: params[0] of every call but info. The first matching credential kind wins. */
export function authParams(creds: ClientCredentials, opts: AuthOptions = {}): AuthParams {
  let a: AuthParams;
  if ('login' in creds && creds.login && creds.password) {
    a = { user_login: creds.login, user_password: creds.password };
    if (creds.authToken) a.auth_token = creds.authToken;
  } else if ('scriptName' in creds && creds.scriptName && creds.apiKey) {
    a = { script_name: creds.scriptName, script_key: creds.apiKey };
  } else if ('sessionToken' in creds && creds.sessionToken) {
    a = { session_token: creds.sessionToken };
    if (!opts.serverVersion || versionAtLeast(opts.serverVersion, [5, 4, 4])) a.reject_if_expired = true;
  } else {
    throw new PayloadError('invalid auth params');
  }
  if (opts.sessionUuid) a.session_uuid = opts.sessionUuid;
  if (opts.sudoAsLogin) a.sudo_as_login = opts.sudoAsLogin;
  if (opts.extraAuthParams) Object.assign(a, opts.extraAuthParams);
  return a;
}

/** _build_payload: {method_name, params: [auth?, methodParams?]}; method params only when truthy (non-empty). */
export function rpcPayload(method: string, auth: AuthParams | undefined, params?: unknown): { method_name: string; params: unknown[] } {
  const out: unknown[] = [];
  if (auth) out.push(auth);
  const truthy = params !== undefined && params !== null && params !== false && params !== '' && params !== 0
    && !(Array.isArray(params) && params.length === 0) && !(isPlainObject(params) && Object.keys(params).length === 0);
  if (truthy) out.push(transformOutbound(params));
  return { method_name: method, params: out };
}

// ---- find ---------------------------------------------------------------------------------------------------

export interface OrderItem { field_name?: string; column?: string; direction?: string }

export interface FindArgs {
  type: string;
  filters?: readonly ListFilter[] | FilterGroup;
  fields?: readonly string[] | null;
  order?: readonly OrderItem[] | null;
  filterOperator?: string | null;
  limit?: number;
  retiredOnly?: boolean;
  page?: number;
  includeArchivedProjects?: boolean;
  additionalFilterPresets?: ReadonlyArray<Record<string, unknown>> | null;
}

export interface FindPlan {
  /** The first `read` params to send. */
  params: Record<string, unknown> & { paging: { entities_per_page: number; current_page: number } };
  /** One request and no paging loop (page given, or limit within a page). */
  single: boolean;
  pagingFlag: 'return_paging_info_without_counts' | 'return_paging_info';
  limit: number;
}

/**
 * find(): validates the arguments as the client does and builds the `read` params (_construct_read_parameters
 * plus find's api_return_image_urls, paging flag and limit/page handling; protocol.md §3.1-§3.2).
 */
export function findPlan(args: FindArgs, server: { version: ServerVersion; recordsPerPage: number }, opts: TranslateOptions = {}): FindPlan {
  const limit = args.limit ?? 0;
  let page = args.page ?? 0;
  if (!Number.isInteger(limit) || limit < 0) throw new PayloadError('limit parameter must be a positive integer');
  if (!Number.isInteger(page) || page < 0) throw new PayloadError('page parameter must be a positive integer');
  let filters: FilterGroup;
  const raw = args.filters ?? [];
  if (Array.isArray(raw)) filters = translateFilters(raw as readonly ListFilter[], args.filterOperator, opts);
  else if (isPlainObject(raw)) {
    if (args.filterOperator) throw new PayloadError('Deprecated: Use of filter_operator for find() is not valid any more. See the documentation on find()');
    filters = raw as FilterGroup;
  } else throw new PayloadError('filters must be a list or a dict');
  if (args.includeArchivedProjects === false && !versionAtLeast(server.version, [5, 3, 14])) {
    throw new PayloadError('The include_archived_projects flag requires server version 5.3.14 or higher');
  }

  const params: FindPlan['params'] = {
    type: args.type,
    return_fields: args.fields && args.fields.length ? [...args.fields] : ['id'],
    filters,
    return_only: args.retiredOnly ? 'retired' : 'active',
    paging: { entities_per_page: server.recordsPerPage, current_page: 1 },
  };
  if (args.additionalFilterPresets && args.additionalFilterPresets.length) params.additional_filter_presets = args.additionalFilterPresets.map((p) => ({ ...p }));
  if (args.includeArchivedProjects === false) params.include_archived_projects = false;
  if (args.order && args.order.length) {
    params.sorts = args.order.map((s) => {
      const field = s.column !== undefined ? s.column : s.field_name;
      if (field === undefined) throw new PayloadError("KeyError: 'field_name'");
      return { field_name: field, direction: s.direction ?? 'asc' };
    });
  }
  if (versionAtLeast(server.version, [3, 3, 0])) params.api_return_image_urls = true;
  const pagingFlag = pagingInfoFlag(server.version);
  params[pagingFlag] = false;
  if (limit && limit <= server.recordsPerPage) {
    params.paging.entities_per_page = limit;
    if (page === 0) page = 1;
  }
  if (page !== 0) {
    params.paging.current_page = page;
    return { params: transformOutbound(params), single: true, pagingFlag, limit };
  }
  params[pagingFlag] = true;
  return { params: transformOutbound(params), single: false, pagingFlag, limit };
}

// ---- writes -------------------------------------------------------------------------------------------------

export type EntityData = Record<string, unknown>;
type UpdateMode = 'set' | 'add' | 'remove';

function dictToList(data: EntityData, extra?: Record<string, Record<string, unknown>>): Array<Record<string, unknown>> {
  return Object.entries(data).map(([k, v]) => ({ field_name: k, value: v, ...(extra?.[k] ?? {}) }));
}

function modesToExtra(modes?: Record<string, UpdateMode> | null): Record<string, Record<string, unknown>> {
  return Object.fromEntries(Object.entries(modes ?? {}).map(([k, v]) => [k, { multi_entity_update_mode: v }]));
}

/**
 * create(): {type, fields: [{field_name, value}], return_fields (default ["id"])}. `image` / `filmstrip_image`
 * are popped by the client (uploaded after the create), so they are not in `fields`. Values are not optimised.
 */
export function createParams(type: string, data: EntityData, returnFields?: readonly string[] | null): Record<string, unknown> {
  const d = { ...data };
  const image = d.image;
  const filmstrip = d.filmstrip_image;
  delete d.image;
  delete d.filmstrip_image;
  const rf = returnFields && returnFields.length ? [...returnFields] : ['id'];
  // The client uploads a (truthy) image after the create, so it does not ask for it back in the create itself.
  if (image && rf.includes('image')) rf.splice(rf.indexOf('image'), 1);
  if (filmstrip && rf.includes('filmstrip_image')) rf.splice(rf.indexOf('filmstrip_image'), 1);
  return transformOutbound({ type, fields: dictToList(d), return_fields: rf });
}

/**
 * update(): {type, id, fields: [{field_name, value[, multi_entity_update_mode]}]} with entity values optimised.
 * Returns undefined when nothing is left to send (the client then answers {id, type} without a call): an
 * `image` / `filmstrip_image` that is not None is popped for upload.
 */
export function updateParams(type: string, id: number, data: EntityData, modes?: Record<string, UpdateMode> | null, opts: TranslateOptions = {}): Record<string, unknown> | undefined {
  const d = { ...data };
  if ('image' in d && d.image !== null && d.image !== undefined) delete d.image;
  if ('filmstrip_image' in d && d.filmstrip_image !== null && d.filmstrip_image !== undefined) delete d.filmstrip_image;
  if (Object.keys(d).length === 0) return undefined;
  const fields = dictToList(d, modesToExtra(modes)).map((f) => (opts.entityOptimization ?? true)
    ? Object.fromEntries(Object.entries(f).map(([k, v]) => [k, optimizeEntityValue(v)]))
    : f);
  return transformOutbound({ type, id, fields });
}

export function deleteParams(type: string, id: number): Record<string, unknown> { return { type, id }; }
export function reviveParams(type: string, id: number): Record<string, unknown> { return { type, id }; }

export interface BatchRequest {
  request_type?: unknown;
  entity_type?: unknown;
  entity_id?: unknown;
  data?: EntityData;
  return_fields?: readonly string[] | null;
  multi_entity_update_modes?: Record<string, UpdateMode> | null;
  multi_entity_update_mode?: unknown;
}

/** batch(): the array params[1] (required keys checked client-side, exactly as shotgun_api3 does). Values are not optimised. */
export function batchParams(requests: readonly BatchRequest[]): Array<Record<string, unknown>> {
  if (!Array.isArray(requests)) throw new PayloadError(`batch() expects a list.  Instead was sent a ${typeof requests}`);
  const need = (what: string, keys: string[], req: BatchRequest) => {
    const missing = keys.filter((k) => !(k in req));
    if (missing.length) throw new PayloadError(`${what} missing required key: ${missing.join(', ')}. Value was: ${JSON.stringify(req)}.`);
  };
  return transformOutbound(requests.map((req) => {
    need('Batched request', ['request_type', 'entity_type'], req);
    const p: Record<string, unknown> = { request_type: req.request_type, type: req.entity_type };
    if (req.request_type === 'create') {
      need('Batched create request', ['data'], req);
      p.fields = dictToList(req.data ?? {});
      p.return_fields = req.return_fields && req.return_fields.length ? [...req.return_fields] : ['id'];
    } else if (req.request_type === 'update') {
      need('Batched update request', ['entity_id', 'data'], req);
      p.id = req.entity_id;
      p.fields = dictToList(req.data ?? {}, modesToExtra(req.multi_entity_update_modes));
      if ('multi_entity_update_mode' in req) p.multi_entity_update_mode = req.multi_entity_update_mode;
    } else if (req.request_type === 'delete') {
      need('Batched delete request', ['entity_id'], req);
      p.id = req.entity_id;
    } else {
      throw new PayloadError(`Invalid request_type '${String(req.request_type)}' for batch`);
    }
    return p;
  }));
}

// ---- other methods ------------------------------------------------------------------------------------------

/** summarize(): {type, summaries, filters[, include_archived_projects: false][, grouping]}. */
export function summarizeParams(type: string, filters: readonly ListFilter[] | FilterGroup, summaryFields: ReadonlyArray<{ field: string; type: string }>,
  opts: { filterOperator?: string | null; grouping?: ReadonlyArray<Record<string, unknown>> | null; includeArchivedProjects?: boolean } = {}): Record<string, unknown> {
  if (opts.grouping !== undefined && opts.grouping !== null && !Array.isArray(opts.grouping)) throw new PayloadError("summarize() 'grouping' parameter must be a list or None");
  const f = Array.isArray(filters) ? translateFilters(filters as readonly ListFilter[], opts.filterOperator) : filters;
  const p: Record<string, unknown> = { type, summaries: summaryFields, filters: f };
  if (opts.includeArchivedProjects === false) p.include_archived_projects = false;
  if (opts.grouping !== undefined && opts.grouping !== null) p.grouping = opts.grouping;
  return transformOutbound(p);
}

/** schema_read() / schema_entity_read(): absent, or {project}. */
export function schemaParams(project?: Record<string, unknown> | null): Record<string, unknown> | undefined {
  return project ? { project } : undefined;
}

/** schema_field_read(type, field_name?, project?). */
export function schemaFieldReadParams(type: string, fieldName?: string | null, project?: Record<string, unknown> | null): Record<string, unknown> {
  const p: Record<string, unknown> = { type };
  if (fieldName) p.field_name = fieldName;
  if (project) p.project = project;
  return p;
}

/** One condition in wire form ({path, relation, values}), as _translate_filters produces it. */
export function wireCondition(path: string, relation: string, ...values: unknown[]): { path: string; relation: string; values: unknown[] } {
  return { path, relation, values };
}

/**
 * `read` params as shotgun_api3 8.x sends a single-request find (a limit within one page), with wire-form
 * conditions; `extra` overrides any key (paging, return_only, sorts, ...).
 */
export function readParams(type: string, conditions: readonly unknown[], fields: readonly string[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type, return_fields: [...fields], filters: { logical_operator: 'and', conditions: [...conditions] }, return_only: 'active',
    paging: { entities_per_page: 500, current_page: 1 }, api_return_image_urls: true, return_paging_info_without_counts: false, ...extra,
  };
}

/** The `paging` of a find with `limit` n (first page of n). */
export function firstPage(n: number): { paging: { entities_per_page: number; current_page: number } } {
  return { paging: { entities_per_page: n, current_page: 1 } };
}
