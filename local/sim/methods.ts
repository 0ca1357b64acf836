// The sim's JSON-RPC methods: parses each request, authenticates it, and runs info / read / writes / schema_* / summarize / get_session_token.
import { z } from 'zod';
import {
  BatchParamsSchema,
  CreateParamsSchema,
  EntityRefParamsSchema,
  ReadParamsSchema,
  RpcRequestSchema,
  SummaryParamsSchema,
  UpdateParamsSchema,
  isGroup,
  type ReadParams,
  ErrorCode,
  ShotgunFault,
  type FaultBody,
} from '../../shared/site/index.js';
import type { SiteSchema } from '../../shared/schema/index.js';
import { type EntityRecord, validateRead, validateSummarize, type ReadContext } from '../../shared/semantics/index.js';
import { simRead, simSummarize, type SimSemantics } from './site-semantics.js';
import type { SiteStore } from './store.js';
import type { Actor, SiteAuth } from './auth.js';
import type { SiteWrites } from './writes.js';
import type { CallerView, SitePermissions } from './permissions.js';
import { schemaEntityRead, schemaFieldRead, schemaRead } from './schema-replies.js';
import type { CallerFields } from './caller-fields.js';
import type { SchemaWrites } from './schema-writes.js';
import type { SiteExtras } from './site-extras.js';
import { checkPresets, latestOnly } from './filter-presets.js';
import { maskPasswords } from './passwords.js';
import { eventCandidates } from './event-candidates.js';
import { readPrefix } from './read-prefix.js';

export type RpcReply = { results: unknown } | FaultBody;

export interface MethodDeps {
  schema: SiteSchema;
  store: SiteStore;
  auth: SiteAuth;
  writes: SiteWrites;
  /** Permission profiles: what each caller sees (reads, summaries, schema reads). */
  permissions: SitePermissions;
  now: () => Date;
  /** The version `info` reports: 8.50.0, or 7.3.0 (legacy paging) when the switch is on. */
  legacyVersion: () => boolean;
  /** How reads behave where hosted sites may differ (local/sim/site-semantics.ts). */
  semantics: () => SimSemantics;
  /** Project fields computed for the current user (local/sim/caller-fields.ts). */
  callerFields: CallerFields;
  /** schema_field_create / _update / _delete, and the per-project visibility they set (local/sim/schema-writes.ts). */
  schemaWrites: SchemaWrites;
  /** Methods beyond reads and writes: follow, work schedules, activity stream, text search, ... (local/sim/site-extras.ts). */
  extras?: SiteExtras;
  /** The upload settings `info` reports (s3_* fields; local/sim/s3-uploads.ts). */
  uploadInfo?: Record<string, unknown>;
}

export const MODERN_VERSION = [8, 50, 0] as const;
export const LEGACY_VERSION = [7, 3, 0] as const;

/** The site's `info` reply. */
export function infoReply(legacy: boolean): Record<string, unknown> {
  const v = legacy ? LEGACY_VERSION : MODERN_VERSION;
  return {
    version: [...v],
    full_version: [...v, 0],
    api_max_entities_per_page: 500,
    s3_uploads_enabled: false,
    s3_direct_uploads_enabled: false,
    s3_enabled_upload_types: {},
    user_authentication_method: 'default',
  };
}

function paramFault(method: string, e: z.ZodError): ShotgunFault {
  const issue = e.issues[0];
  const where = issue.path.length ? issue.path.join('.') : 'params';
  return new ShotgunFault(`API ${method}() invalid parameters: ${where}: ${issue.message}`, ErrorCode.API);
}

function parseWith<S extends z.ZodType>(method: string, schema: S, raw: unknown): z.infer<S> {
  const r = schema.safeParse(raw);
  if (!r.success) throw paramFault(method, r.error);
  return r.data;
}

export class Api3Methods {
  constructor(private readonly d: MethodDeps) {}

  readContext(view?: CallerView, user?: { type: string; id: number }): ReadContext {
    const lookup = view?.lookup ?? this.d.store;
    return { schema: this.d.schema, lookup: user ? this.d.callerFields.lookup(user, lookup) : lookup, now: this.d.now() };
  }

  /** Answers one decoded request body. Never throws: every failure is the fault envelope. */
  call(body: unknown): { method: string; reply: RpcReply } {
    let method = '(invalid)';
    try {
      const req = RpcRequestSchema.safeParse(body);
      if (!req.success) {
        if (typeof body === 'object' && body !== null && typeof (body as { method_name?: unknown }).method_name === 'string') {
          method = (body as { method_name: string }).method_name;
        }
        throw new ShotgunFault(`Invalid JSON-RPC request: ${req.error.issues[0].path.join('.') || 'body'}: ${req.error.issues[0].message}`, ErrorCode.API);
      }
      method = req.data.method_name;
      return { method, reply: { results: this.dispatch(method, req.data.params) } };
    } catch (e) {
      if (e instanceof ShotgunFault) return { method, reply: e.toBody() };
      const msg = e instanceof Error ? e.message : String(e);
      process.stderr.write(`${JSON.stringify({ level: 'ERROR', component: 'sim', method, message: msg })}\n`);
      return { method, reply: new ShotgunFault(`API ${method}() failed: ${msg}`, ErrorCode.API).toBody() };
    }
  }

  private dispatch(method: string, params: unknown[]): unknown {
    const { schema, store, auth, writes } = this.d;
    if (method === 'info') return { ...infoReply(this.d.legacyVersion()), ...this.d.uploadInfo };
    if (!KNOWN_METHODS.has(method) && !this.d.extras?.has(method)) throw new ShotgunFault(`Unknown method '${method}'`, ErrorCode.API);
    const actor = auth.authenticate(params[0]);
    const view = this.d.permissions.viewFor(actor.user);
    const hidden = view ? view.hidden : undefined;
    const p = params[1];
    switch (method) {
      case 'read':
        return this.read(actor, view, p);
      case 'summarize': {
        const sp = parseWith('summarize', SummaryParamsSchema, p);
        validateSummarize(schema, sp);
        const rows = this.d.callerFields.rows(actor.user, view ? view.rows(sp.type, store.all(sp.type)) : store.all(sp.type));
        return simSummarize(this.readContext(view, actor.user), this.d.semantics(), sp, rows, (t) =>
          this.d.callerFields.rows(actor.user, view ? view.rows(t, store.all(t)) : store.all(t)),
        );
      }
      case 'create':
        return writes.create(actor, parseWith('create', CreateParamsSchema, p));
      case 'update':
        return writes.update(actor, parseWith('update', UpdateParamsSchema, p));
      case 'delete':
        return writes.delete(actor, parseWith('delete', EntityRefParamsSchema, p));
      case 'revive':
        return writes.revive(actor, parseWith('revive', EntityRefParamsSchema, p));
      case 'batch': {
        if (!Array.isArray(p)) throw new ShotgunFault('API batch() expects params[1] to be a list of requests', ErrorCode.API);
        return writes.batch(actor, parseWith('batch', BatchParamsSchema, p));
      }
      case 'schema_read':
        return schemaRead(schema, this.shownIn(hidden, p), this.d.schemaWrites.isCustom);
      case 'schema_entity_read':
        return schemaEntityRead(schema);
      case 'schema_field_read': {
        const fp = parseWith('schema_field_read', z.looseObject({ type: z.string(), field_name: z.string().optional() }), p);
        return schemaFieldRead(schema, fp.type, fp.field_name, this.shownIn(hidden, p), this.d.schemaWrites.isCustom);
      }
      case 'schema_field_create':
        return this.d.schemaWrites.create(actor, p);
      case 'schema_field_update':
        return this.d.schemaWrites.update(actor, p);
      case 'schema_field_delete':
        return this.d.schemaWrites.delete(actor, p);
      case 'get_session_token':
        return { session_id: auth.createSession(actor, auth.scriptNameOf(params[0])) };
      default:
        return this.d.extras?.call(method, { actor, params: p, read: (rp) => this.read(actor, view, rp) as { entities: Array<Record<string, unknown>> } });
    }
  }

  /** A read as `actor` (its view's rows, caller fields), with the LATEST filter preset applied first. */
  private read(actor: Actor, view: CallerView | undefined, p: unknown): unknown {
    const parsed = parseWith('read', ReadParamsSchema, p);
    const latest = checkPresets(parsed.additional_filter_presets);
    const rp = latest ? { ...parsed, additional_filter_presets: undefined } : parsed;
    validateRead(this.d.schema, rp);
    const candidates = this.candidates(rp);
    const ctx = this.readContext(view, actor.user);
    const prepare = (c: readonly EntityRecord[]) => this.d.callerFields.rows(actor.user, view ? view.rows(rp.type, c) : c);
    let rows = latest ? prepare(candidates) : readPrefix(ctx, this.d.semantics(), rp, candidates, prepare);
    const rowsOf = (t: string) => this.d.callerFields.rows(actor.user, view ? view.rows(t, this.d.store.all(t)) : this.d.store.all(t));
    if (latest) {
      // The newest per group among the rows the filters match (then read as asked: fields, order, paging).
      const all = { ...rp, return_fields: ['id'], sorts: undefined, paging: { entities_per_page: Math.max(rows.length, 1), current_page: 1 } };
      const matched = new Set(simRead(ctx, this.d.semantics(), all, rows, rowsOf).entities.map((e) => e.id));
      rows = latestOnly(
        rows.filter((r) => matched.has(r.id)),
        latest,
        (task) => this.d.store.get(task.type, task.id)?.values.step,
      );
    }
    return maskPasswords(this.d.schema, rp.type, rp.return_fields, simRead(ctx, this.d.semantics(), rp, rows, rowsOf));
  }

  /** The fields a schema reply reports not visible: the caller's hidden ones, and for a `project` param those hidden in that project. */
  private shownIn(hidden: ((type: string) => ReadonlySet<string>) | undefined, params: unknown): ((type: string) => ReadonlySet<string>) | undefined {
    const project = (params as { project?: { id?: unknown } } | undefined)?.project?.id;
    if (typeof project !== 'number') return hidden;
    return (type) => {
      const inProject = this.d.schemaWrites.hiddenIn(project, type);
      return inProject.size ? new Set([...(hidden?.(type) ?? []), ...inProject]) : (hidden?.(type) ?? inProject);
    };
  }

  /**
   * The entities a read could match: the type's whole table, narrowed when the top-level filter pins the id
   * (`id is N`, `id greater_than N`, as the event-log poll sends). executeRead filters the rest.
   */
  private candidates(rp: ReadParams): readonly EntityRecord[] {
    const { store } = this.d;
    if (rp.type === 'EventLogEntry' && store.history) return eventCandidates(store, rp);
    let minId: number | undefined;
    if (rp.filters.logical_operator === 'and') {
      for (const c of rp.filters.conditions) {
        if (isGroup(c) || c.path !== 'id' || c.values.length !== 1 || typeof c.values[0] !== 'number') continue;
        const v = c.values[0];
        if (c.relation === 'is') {
          const rec = store.get(rp.type, v);
          return rec ? [rec] : [];
        }
        if (c.relation === 'greater_than') minId = Math.max(minId ?? v, v);
      }
    }
    return minId === undefined ? store.all(rp.type) : store.after(rp.type, minId);
  }
}

const KNOWN_METHODS = new Set([
  'read',
  'summarize',
  'create',
  'update',
  'delete',
  'revive',
  'batch',
  'schema_read',
  'schema_entity_read',
  'schema_field_read',
  'schema_field_create',
  'schema_field_update',
  'schema_field_delete',
  'get_session_token',
]);
