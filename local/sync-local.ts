// The sync pipeline on one machine: per-stack metrics in memory, the /status sync report, and the CLI's environment for a running stack.
import { Logger } from '@aws-lambda-powertools/logger';
import {
  cachedFields,
  type Rebuilder,
  rebuilderFor,
  requeuePending,
  SqsEventSink,
  syncContextFromEnv,
  type SyncContext,
  MemorySyncMetrics,
} from '../shared/sync/index.js';
import { PendingEvents } from '../shared/store/index.js';
import { MemoryShadowMetrics } from '../shared/shadow/index.js';
import { DEFAULT_SCRIPT } from './sim/credentials.js';
import { EVENTS_DLQ_NAME, EVENTS_QUEUE_NAME } from './sqs-local.js';
import type { FunctionEnv } from './functions.js';

/** Local function loggers (POWERTOOLS_LOG_LEVEL, default WARN to keep `npm start` quiet). */
export function syncLogger(serviceName: string, env: FunctionEnv): Logger {
  return new Logger({ serviceName, logLevel: (env.POWERTOOLS_LOG_LEVEL ?? 'WARN') as 'WARN' });
}

interface StackSync {
  metrics: MemorySyncMetrics;
  shadowMetrics: MemoryShadowMetrics;
  ctx?: Promise<SyncContext>;
}

/** One record per running stack (two stacks can share a process in tests), keyed by where its state lives. */
const stacks = new Map<string, StackSync>();
const keyOf = (env: FunctionEnv) => `${env.AWS_ENDPOINT_URL_DYNAMODB ?? ''}|${env.STATE_TABLE ?? ''}`;

export function stackSync(env: FunctionEnv): StackSync {
  const key = keyOf(env);
  let s = stacks.get(key);
  if (!s) stacks.set(key, (s = { metrics: new MemorySyncMetrics(), shadowMetrics: new MemoryShadowMetrics() }));
  return s;
}

/** Forgets a stack's record (its clients are destroyed). */
export async function releaseStackSync(env: FunctionEnv): Promise<void> {
  const s = stacks.get(keyOf(env));
  stacks.delete(keyOf(env));
  if (s?.ctx) (await s.ctx.catch(() => undefined))?.destroy();
}

/**
 * At the stack's start, before the poller runs: the events the in-memory queue lost when the stack last stopped (still
 * marked pending) queued again (shared/sync/pending-requeue.ts). A failure (the site down) is logged and the start goes
 * on: the markers keep those types passing until they expire and the reconciler repairs them.
 */
export async function requeueLostEvents(env: FunctionEnv, log: (line: string) => void): Promise<number> {
  const ctx = await syncContextFromEnv(env, { entities: false });
  try {
    const n = await requeuePending({
      pending: new PendingEvents(ctx.ddb, ctx.tables.state),
      source: ctx.events,
      sink: new SqsEventSink(ctx.sqs, ctx.queueUrl!),
      schema: ctx.schema.site,
    });
    if (n) log(`fpt-cache: ${n} event(s) queued and not applied when the stack last stopped were queued again`);
    return n;
  } catch (e) {
    log(`fpt-cache: could not queue again the events the last stop lost (their types pass until repaired): ${(e as Error).message}`);
    return 0;
  } finally {
    ctx.destroy();
  }
}

export interface TypeStatus {
  ready: boolean;
  entities: number;
  pass?: string;
  total?: number;
}

export interface SyncStatus {
  ok: boolean;
  /** Every cached type imported and the poller following the log. */
  ready: boolean;
  types: Record<string, TypeStatus>;
  importing: boolean;
  /** The running import: entities done of the site's counts, the rate since the run started, the time left at that rate. */
  import: { done: number; total: number; percent: number; perSecond: number; etaSeconds: number | null } | null;
  /**
   * The trimmed-log rebuild (shared/sync/rebuild.ts): since when, each type's plan (scan or full, and why) and its
   * phase and counts; `stampFacts`: what the cache has measured about how the site stamps back-references and revives.
   */
  rebuild: {
    since: string | null;
    types: Record<string, { mode: string; why?: string; phase: string; scanned: number; added: number; flipped: number; vanished: number }>;
  } | null;
  stampFacts: Record<string, string>;
  cursor: { maxSeen: number; backlog: number; savedSecondsAgo: number | null } | null;
  following: boolean;
  /** now - created_at of the last applied event, when one was applied. */
  lagSeconds: number | null;
  lastAppliedSecondsAgo: number | null;
  eventsApplied: number;
  /** How far the cursor was behind the site's latest event at the last full poll. */
  behind: number;
  deadLetters: number;
  error?: string;
}

/** The sync part of GET /status: readiness and counts per type, the cursor and its backlog, the lag. */
export async function syncStatus(env: FunctionEnv, now = Date.now()): Promise<SyncStatus> {
  const s = stackSync(env);
  s.ctx ??= syncContextFromEnv(env);
  const ctx = await s.ctx;
  const rebuilder = rebuilderFor(ctx);
  const [readiness, checkpoints, run, request, lease, rebuilding, facts] = await Promise.all([
    ctx.readiness.load(),
    ctx.importState.checkpoints(),
    ctx.importState.run(),
    ctx.importState.request(),
    ctx.lease.read(),
    rebuilder.progress(),
    rebuilder.behaviour.facts(),
  ]);
  const types: Record<string, TypeStatus> = {};
  let allReady = true;
  for (const t of ctx.schema.site.typeNames) {
    const cp = checkpoints.get(t);
    const ready = readiness.isTypeReady(t) && cachedFields(ctx.schema, t).every((f) => readiness.isFieldReady(t, f));
    allReady &&= ready;
    types[t] = { ready, entities: cp ? cp.active + cp.retired : 0, ...(cp && cp.pass !== 'done' ? { pass: cp.pass, total: cp.total } : {}) };
  }
  let progress: SyncStatus['import'] = null;
  if (run) {
    let done = 0;
    let total = 0;
    for (const t of run.types) {
      const cp = checkpoints.get(t);
      const n = cp ? cp.active + cp.retired : 0;
      done += n;
      total += Math.max(cp?.total ?? 0, n);
    }
    const perSecond = done / Math.max(1, (now - run.startedAt) / 1000);
    progress = {
      done,
      total,
      percent: total ? Math.floor((done / total) * 1000) / 10 : 100,
      perSecond: Math.round(perSecond),
      etaSeconds: perSecond > 0 ? Math.round((total - done) / perSecond) : null,
    };
  }
  const pollEvery = Number(env.POLL_INTERVAL_MS) > 0 ? Number(env.POLL_INTERVAL_MS) : 1000;
  const savedAgo = lease.cursorAt === null ? null : (now - lease.cursorAt) / 1000;
  const following = savedAgo !== null && savedAgo * 1000 < Math.max(10_000, pollEvery * 5);
  const lag = s.metrics.last.get('SyncLagSeconds');
  return {
    ok: true,
    ready: allReady && following && !run && !request && !rebuilding,
    types,
    importing: Boolean(run || request || rebuilding),
    import: progress,
    rebuild: rebuilding ? rebuildStatus(rebuilding) : null,
    stampFacts: Object.fromEntries(Object.entries(facts).map(([k, f]) => [k, f.fact])),
    cursor: lease.cursor ? { maxSeen: lease.cursor.maxSeen, backlog: Object.keys(lease.cursor.backlog).length, savedSecondsAgo: savedAgo } : null,
    following,
    lagSeconds: lag ? lag.value : null,
    lastAppliedSecondsAgo: lag ? (now - lag.at) / 1000 : null,
    eventsApplied: s.metrics.total('EventsApplied'),
    behind: s.metrics.last.get('Backlog')?.value ?? 0,
    deadLetters: s.metrics.total('DeadLetters'),
  };
}

function rebuildStatus(p: NonNullable<Awaited<ReturnType<Rebuilder['progress']>>>): NonNullable<SyncStatus['rebuild']> {
  const types: NonNullable<SyncStatus['rebuild']>['types'] = {};
  for (const [t, plan] of Object.entries(p.run?.plan ?? {})) {
    const cp = p.types[t];
    types[t] = {
      ...plan,
      phase: cp?.phase ?? 'waiting',
      scanned: cp?.scanned ?? 0,
      added: cp?.added ?? 0,
      flipped: cp?.flipped ?? 0,
      vanished: cp?.vanished ?? 0,
    };
  }
  return { since: p.run?.since !== undefined ? new Date(p.run.since).toISOString() : null, types };
}

/**
 * The functions' environment for CLI commands (import, validate, dlq replay): as given when ENTITIES_TABLE is set
 * (a deployed stack), else the running local stack's defaults (DYNAMODB_PORT, SQS_PORT, SIM_PORT or SHOTGUN_URL).
 */
export function cliSyncEnv(env: FunctionEnv): FunctionEnv {
  if (env.ENTITIES_TABLE) return env;
  const sqs = `http://127.0.0.1:${env.SQS_PORT || 9324}`;
  const real = Boolean(env.SHOTGUN_URL);
  return {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    POWERTOOLS_LOG_LEVEL: 'WARN',
    STORE_WRITE_GROUPING: 'transact',
    ...env,
    SHOTGUN_URL: env.SHOTGUN_URL || `http://127.0.0.1:${env.SIM_PORT || 8020}`,
    SHOTGUN_SCRIPT_NAME: env.SHOTGUN_SCRIPT_NAME || (real ? undefined : DEFAULT_SCRIPT.name),
    SHOTGUN_SCRIPT_KEY: env.SHOTGUN_SCRIPT_KEY || (real ? undefined : DEFAULT_SCRIPT.key),
    // The local stack's tables (TABLE_PREFIX in local/stack.ts).
    ENTITIES_TABLE: 'fpt-cache-entities',
    STATE_TABLE: 'fpt-cache-state',
    REFS_TABLE: 'fpt-cache-refs',
    AWS_ENDPOINT_URL_DYNAMODB: env.AWS_ENDPOINT_URL_DYNAMODB || `http://127.0.0.1:${env.DYNAMODB_PORT || 8000}`,
    AWS_ENDPOINT_URL_SQS: env.AWS_ENDPOINT_URL_SQS || sqs,
    EVENTS_QUEUE_URL: env.EVENTS_QUEUE_URL || `${sqs}/123456789012/${EVENTS_QUEUE_NAME}`,
    EVENTS_DLQ_URL: env.EVENTS_DLQ_URL || `${sqs}/123456789012/${EVENTS_DLQ_NAME}`,
  };
}
