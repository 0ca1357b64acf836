// Reads of EventLogEntry answered from the kept event log (tk-core's path-cache shapes) when the poller's cursor proves the answer complete; otherwise the pass reason.
import { planRead } from '../query/index.js';
import { CachedSchema, eventLogSchema } from '../schema/index.js';
import { isGroup, ShotgunFault, type Condition, type ReadParams, type ReadResult } from '../site/index.js';
import { executeRead, type EntityRecord } from '../semantics/index.js';
import { type KeptEvents, type KeptRow, Readiness, ScanTooLarge } from '../store/index.js';
import { type CursorState, knownIds } from '../sync/index.js';

/** `shape`: the projects and event types a served read covers (whose views a caller who is not trusted needs). */
export type EventLogOutcome = { served: true; result: ReadResult; shape: Pick<Shape, 'projects' | 'types'> } | { served: false; reason: string };

/** Fields a kept row answers: its own values, and `project` (a Project link, named from the cached Project). */
export const EVENT_LOG_SERVED_FIELDS = ['id', 'event_type', 'attribute_name', 'meta', 'session_uuid', 'created_at', 'project'] as const;
/** Most kept rows one read may gather. */
export const MAX_EVENT_LOG_ROWS = 5_000;
/** Most kept-log partitions (project x event type) one read may fan out to; more: the read passes (`limit:event-log-fan-out`). */
export const MAX_EVENT_LOG_PARTITIONS = 64;
/**
 * Default EVENT_LOG_MAX_LAG_MS: an answer "as of the last poll" is given only while that poll is this recent (a few
 * 1 s poll intervals, plus the gap between two poller invocations of the one-minute schedule).
 */
export const DEFAULT_EVENT_LOG_MAX_LAG_MS = 15_000;

export interface EventLogReadsDeps {
  schema: CachedSchema;
  kept: KeptEvents;
  /** The poller's cursor as durably saved, and when (epoch ms). */
  cursor: () => Promise<{ cursor: CursorState | null; cursorAt: number | null }>;
  /** Cached Project records by id (the `project` filter's targets). */
  projects: (ids: number[]) => Promise<EntityRecord[]>;
  readiness: () => Promise<Readiness>;
  maxLagMs?: number;
  now?: () => number;
  maxRows?: number;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

interface Shape {
  projects: number[];
  types: string[];
  lo: number;
  hi: number;
  /** Every condition is one of those above (no other filter, no `id in`): the partitions' id ranges are the answer's rows. */
  exact: boolean;
  /** The highest id the caller names as one it knows (`greater_than N`: N; `is N`: N; not `in`, a list of candidates); 0 when none. */
  named: number;
}

/** The partition and id range of a read: `project is/in`, `event_type is/in` and id bounds among its top-level `and` conditions. */
function readShape(params: ReadParams): Shape | string {
  const f = params.filters;
  if (f.logical_operator !== 'and') return 'event-log-filter:or';
  let projects: number[] | undefined;
  let types: string[] | undefined;
  let lo = 1;
  let hi = Number.MAX_SAFE_INTEGER;
  let exact = true;
  let named = 0;
  for (const c of f.conditions) {
    if (isGroup(c)) {
      exact = false;
      continue;
    }
    const leaf = c as Condition;
    if (leaf.path === 'project' && (leaf.relation === 'is' || leaf.relation === 'in')) {
      const ids = leaf.values.map((v) => (isObj(v) && v.type === 'Project' && isNum(v.id) ? v.id : undefined));
      if (ids.some((id) => id === undefined)) return 'event-log-filter:project';
      projects = projects ? projects.filter((p) => ids.includes(p)) : [...new Set(ids as number[])];
    } else if (leaf.path === 'event_type' && (leaf.relation === 'is' || leaf.relation === 'in')) {
      if (!leaf.values.every((v) => typeof v === 'string')) return 'event-log-filter:event_type';
      const ts = leaf.values as string[];
      types = types ? types.filter((t) => ts.includes(t)) : [...new Set(ts)];
    } else if (leaf.path === 'id' && leaf.values.every(isNum)) {
      const v = leaf.values as number[];
      if (leaf.relation === 'greater_than' && v.length === 1) {
        lo = Math.max(lo, Math.floor(v[0]) + 1);
        named = Math.max(named, v[0]);
      } else if (leaf.relation === 'less_than' && v.length === 1) hi = Math.min(hi, Math.ceil(v[0]) - 1);
      else if (leaf.relation === 'between' && v.length === 2) {
        lo = Math.max(lo, Math.ceil(v[0]));
        hi = Math.min(hi, Math.floor(v[1]));
      } else if ((leaf.relation === 'is' || leaf.relation === 'in') && v.length > 0) {
        lo = Math.max(lo, Math.ceil(Math.min(...v)));
        hi = Math.min(hi, Math.floor(Math.max(...v)));
        if (leaf.relation === 'is') named = Math.max(named, v[0]);
        exact &&= leaf.relation === 'is';
      } else exact = false;
    } else exact = false;
  }
  if (!projects) return 'event-log-filter:project';
  if (!types) return 'event-log-filter:event_type';
  return { projects, types, lo, hi, exact, named };
}

/** The reason class of a planner pass, for EventLogEntry: a field the kept log does not answer. */
function plannerReason(reason: string): string {
  const m = /^(?:uncached-field|unknown-field|field-not-ready):EventLogEntry\.(.+)$/.exec(reason) ?? /^uncached-type:(.+)$/.exec(reason);
  return m ? `event-log-field:${m[1]}` : reason;
}

/** GET /status: what the kept log covers and how far behind its last poll is (no data). */
export interface EventLogStatus {
  types: string[];
  /** The low watermark: reads whose ids reach at or below it pass. Null: no kept window yet. */
  completeAfter: number | null;
  maxSeen: number | null;
  backlog: number;
  /** Seconds since the poller last saved its cursor (the staleness of every answer from the kept log). */
  lastPollSecondsAgo: number | null;
  maxLagSeconds: number;
  /** Whether a complete read would be served now. */
  serving: boolean;
}

export class EventLogReads {
  private readonly base: CachedSchema | undefined;

  constructor(private readonly d: EventLogReadsDeps) {
    const site = eventLogSchema(d.schema, EVENT_LOG_SERVED_FIELDS);
    this.base = site && new CachedSchema(site, 'event log (kept)');
  }

  /**
   * After a write through the cache succeeded: the highest id of EventLogEntry rows it created (`create`, or `create`
   * requests of a `batch` on the wire, `{request_type, type}`, whose results are in request order) is noted, so reads of a range holding it pass until
   * the poller has read it (tk-core reads its own folder events back). Returns the id noted, if any.
   */
  async noteWrites(method: string, params: unknown, results: unknown): Promise<number | undefined> {
    const ids: number[] = [];
    const idOf = (r: unknown) => (isObj(r) && r.type === 'EventLogEntry' && isNum(r.id) ? r.id : undefined);
    if (method === 'create' && isObj(params) && params.type === 'EventLogEntry') ids.push(idOf(results) ?? 0);
    if (method === 'batch' && Array.isArray(params) && Array.isArray(results)) {
      params.forEach((req, i) => {
        if (isObj(req) && req.request_type === 'create' && req.type === 'EventLogEntry') ids.push(idOf(results[i]) ?? 0);
      });
    }
    const top = Math.max(0, ...ids);
    if (top === 0) return undefined;
    await this.d.kept.noteWritten(top);
    return top;
  }

  private get maxLagMs(): number {
    return this.d.maxLagMs ?? DEFAULT_EVENT_LOG_MAX_LAG_MS;
  }

  async status(): Promise<EventLogStatus> {
    const { cursor, cursorAt } = await this.d.cursor();
    const ago = cursorAt === null ? null : Math.max(0, ((this.d.now ?? Date.now)() - cursorAt) / 1000);
    return {
      types: cursor?.kept?.types ?? [],
      completeAfter: cursor?.kept?.after ?? null,
      maxSeen: cursor?.maxSeen ?? null,
      backlog: cursor ? Object.keys(cursor.backlog).length : 0,
      lastPollSecondsAgo: ago,
      maxLagSeconds: this.maxLagMs / 1000,
      serving: cursor?.kept !== undefined && ago !== null && ago * 1000 <= this.maxLagMs,
    };
  }

  async read(raw: unknown): Promise<EventLogOutcome> {
    const schema = this.base;
    if (!schema) return { served: false, reason: 'uncached-type:Project' };
    const ready = await this.d.readiness();
    if (!ready.isTypeReady('Project')) return { served: false, reason: 'type-not-ready:Project' };
    const projectFields = Object.keys(schema.site.type('Project')!.fields).filter((f) => ready.isFieldReady('Project', f));
    const evReady = Readiness.all({ EventLogEntry: EVENT_LOG_SERVED_FIELDS, Project: projectFields }).withRules(ready.siteRules);
    const planned = planRead(schema, evReady, raw);
    if (!planned.ok) return { served: false, reason: plannerReason(planned.reason) };
    const params = planned.plan.params;
    if (params.return_only !== 'active') return { served: false, reason: 'event-log-filter:return_only' };
    const shape = readShape(params);
    if (typeof shape === 'string') return { served: false, reason: shape };
    if (shape.projects.length * shape.types.length > MAX_EVENT_LOG_PARTITIONS) return { served: false, reason: 'limit:event-log-fan-out' };

    // The Project records are needed for any answer: fetched while the cursor is read.
    const [{ cursor, cursorAt }, projects, written] = await Promise.all([this.d.cursor(), this.d.projects(shape.projects), this.d.kept.written()]);
    const now = (this.d.now ?? Date.now)();
    if (!cursor?.kept) return { served: false, reason: 'event-log-incomplete' };
    if (cursorAt === null || now - cursorAt > this.maxLagMs) return { served: false, reason: 'event-log-stale' };
    const notKept = shape.types.find((t) => !cursor.kept!.types.includes(t));
    if (notKept !== undefined) return { served: false, reason: `event-log-type:${notKept}` };

    // An id the caller names above the last polled one is one it knows and the poller has not read (its own new event);
    // `greater_than <the last polled id>` (tk-core's sync when nothing is new) is answered: nothing after it, as of the last poll.
    if (shape.named > cursor.maxSeen) return { served: false, reason: 'event-log-ahead' };
    // An event created through the cache that the poller has not read yet, in the read's range: the site's answer (read-your-writes).
    if (written > cursor.maxSeen && written >= shape.lo && written <= shape.hi) return { served: false, reason: 'event-log-ahead' };
    const known = knownIds(cursor, shape.lo, shape.hi);
    let from = known.from;
    let to = known.to;
    let partial = false;
    // A read ordered by id alone, with no page counts, depends only on the first rows from one end of its range.
    const sorts = params.sorts ?? [];
    const dir = sorts.length === 0 ? 'asc' : sorts.length === 1 && sorts[0].field_name === 'id' ? sorts[0].direction : undefined;
    const counts = params.return_paging_info === true || params.return_paging_info_without_counts === true;
    const pageEnd = params.paging.current_page * params.paging.entities_per_page;
    if (known.firstUnknown !== undefined) {
      const cause = `event-log-${known.cause}`;
      if (!dir || counts) return { served: false, reason: cause };
      if (dir === 'asc') to = known.firstUnknown - 1;
      else from = known.lastUnknown! + 1;
      if (from > to) return { served: false, reason: cause };
      partial = true;
    }

    if (projects.length !== shape.projects.length) return { served: false, reason: 'event-log-project' };
    let rows: KeptRow[];
    try {
      // With no other filter, each partition's first `pageEnd` rows from that end hold the page (one Query with a Limit each).
      const end = dir && !counts && shape.exact && params.include_archived_projects !== false ? { direction: dir, take: pageEnd } : undefined;
      const ranges = shape.projects.flatMap((project) => shape.types.map((eventType) => ({ project, eventType, fromId: from, toId: to, end })));
      const got = await this.d.kept.read(ranges, this.d.maxRows ?? MAX_EVENT_LOG_ROWS);
      if (got.unreadable) return { served: false, reason: 'event-log-unreadable' };
      rows = got.rows;
    } catch (e) {
      if (e instanceof ScanTooLarge) return { served: false, reason: 'scan-too-large:EventLogEntry' };
      throw e;
    }
    const byKey = new Map(projects.map((p) => [`${p.type}#${p.id}`, p]));
    const ctx = {
      schema: schema.site,
      lookup: { get: (type: string, id: number) => byKey.get(`${type}#${id}`) },
      now: new Date(now),
      rules: planned.plan.rules,
    };
    const records = rows.map(recordOf);
    try {
      if (partial) {
        // The known end answers the page only if it holds every row up to the page's last one.
        const probe = executeRead(ctx, { ...params, return_fields: ['id'], paging: { entities_per_page: 1, current_page: pageEnd } }, records);
        if (probe.entities.length === 0) return { served: false, reason: `event-log-${known.cause}` };
      }
      return { served: true, result: executeRead(ctx, params, records), shape: { projects: shape.projects, types: shape.types } };
    } catch (e) {
      if (e instanceof ShotgunFault) return { served: false, reason: 'invalid-request' };
      throw e;
    }
  }
}

/** A kept row as the semantics model's record: its values as the site returned them (date_times, meta, links). */
function recordOf(row: KeptRow): EntityRecord {
  const { id, type: _type, ...values } = row;
  return { type: 'EventLogEntry', id, retired: false, values };
}
