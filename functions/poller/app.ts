// The poller function built from its environment: EventLogEntry -> SQS FIFO until shortly before the Lambda timeout, and nudging the importer.
import { Logger } from '@aws-lambda-powertools/logger';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { Context } from 'aws-lambda';
import type { Clock } from '../../shared/clock.js';
import { ConfigError } from '../../shared/config.js';
import {
  type CursorState,
  importPending,
  pendingKeyOf,
  keptLogSettingsFromEnv,
  keptUntilS,
  type KeptLogSettings,
  runPoller,
  type PollerMetrics,
  type PollerRun,
  SqsEventSink,
  syncContextFromEnv,
  type SyncContext,
  EmfSyncMetrics,
  gapSince,
  type SyncMetrics,
} from '../../shared/sync/index.js';
import { generationBumper } from '../../shared/reads/index.js';
import { KeptEvents, PendingEvents, RebuildState } from '../../shared/store/index.js';

type Env = Record<string, string | undefined>;

/** Stop polling this long before the Lambda timeout (the last poll, the cursor save and the lease release fit in it). */
export const TIMEOUT_MARGIN_MS = 8_000;
export const DEFAULT_POLL_INTERVAL_MS = 1_000;
/** How long one invocation loops (POLL_LOOP_MS): under the one-minute schedule. */
export const DEFAULT_POLL_LOOP_MS = 55_000;

export interface PollerAppDeps {
  ctx: SyncContext;
  metrics: SyncMetrics;
  logger: Logger;
  pollIntervalMs: number;
  loopMs: number;
  /** Starts (or resumes) the importer; called when import work is pending and no importer holds its lease. */
  triggerImport?: () => Promise<void>;
  /** Told about every saved cursor (the local stack's /status). */
  onPoll?: (cursor: CursorState) => void;
  /** What of the event log is kept for reads (EVENT_LOG_KEEP_TYPES, EVENT_LOG_RETENTION_DAYS); undefined keeps nothing. */
  keep?: KeptLogSettings;
}

export interface PollerSummary extends Omit<PollerRun, 'cursor'> {
  maxSeen: number | null;
  backlog: number;
  importTriggered: boolean;
}

export type PollerHandler = (event: unknown, context: Context) => Promise<PollerSummary>;

export function createPoller(d: PollerAppDeps): PollerHandler {
  const { ctx, metrics, logger } = d;
  const sink = new SqsEventSink(ctx.sqs, ctx.queueUrl!);
  const keptLog = new KeptEvents(ctx.ddb, ctx.tables.state);
  const pending = new PendingEvents(ctx.ddb, ctx.tables.state);
  const rebuild = new RebuildState(ctx.doc, ctx.tables.state);
  const keep = d.keep && {
    ...d.keep,
    write: (rows: Parameters<KeptEvents['write']>[0], nowMs: number) => keptLog.write(rows, keptUntilS(nowMs, d.keep!.retentionMs)),
  };
  return async (_event, context) => {
    const started = ctx.clock.now();
    const deadline = started + Math.min(d.loopMs, context.getRemainingTimeInMillis() - TIMEOUT_MARGIN_MS);
    let importTriggered = false;
    if (
      d.triggerImport &&
      ctx.client.health?.isUp() !== false &&
      !(await ctx.importState.leaseHeld()) &&
      (await importPending({ schema: ctx.schema, readiness: ctx.readiness, state: ctx.importState, store: ctx.store }))
    ) {
      await d.triggerImport();
      importTriggered = true;
    }
    let polls = 0;
    const pm: PollerMetrics = {
      heartbeat: () => metrics.add('PollerHeartbeat', 1),
      forwarded: (n) => metrics.add('EventsForwarded', n),
      dropped: (n) => metrics.add('EventsDropped', n),
      backlog: () => {},
      behind: (n) => metrics.add('Backlog', n),
      expired: (ids) => {
        metrics.add('EventsExpired', ids.length);
        metrics.add('DeadLetters', ids.length);
        logger.warn('event ids that never committed were given up (the reconciliation scan covers them)', { ids });
      },
      lagSeconds: () => {},
      cursorBeyondRetention: () => {
        metrics.add('CursorBeyondRetention', 1);
      },
    };
    const run = await runPoller({
      lease: ctx.lease,
      source: ctx.events,
      sink,
      schema: ctx.schema.site,
      metrics: pm,
      pollIntervalMs: d.pollIntervalMs,
      clock: ctx.clock,
      deadline,
      keep,
      markPending: (events) => pending.mark(events.map((ev) => ({ key: pendingKeyOf(ctx.schema.site, ev), id: ev.id }))),
      onSiteTrouble: (e) => {
        if (e) {
          metrics.add('PollFailures', 1);
          logger.warn('poll failed (the site or its event log); retrying after one interval', { error: e.message, site: ctx.client.health?.report() });
        } else logger.info('polling again after the site came back');
      },
      shouldStop: () => context.getRemainingTimeInMillis() < TIMEOUT_MARGIN_MS / 2,
      // Every entity type seen (cached or not) invalidates the response cache's replies that read it.
      onEvents: generationBumper(ctx.ddb, ctx.tables.state),
      onRetentionExceeded: async (lost) => {
        // Rebuilt from updated_at scans and id diffs where proven complete, else re-imported (shared/sync/rebuild.ts).
        const since = gapSince(lost);
        await rebuild.request({ ...(since !== undefined ? { since } : {}), reason: "event-log cursor older than the site's event retention", at: Date.now() });
        logger.error("the event-log cursor is older than the site's event retention: a rebuild is scheduled", { maxSeen: lost.maxSeen, since });
        // Out of service at once, before the cursor restarts: nothing the gap may have changed is served until rebuilt.
        for (const type of ctx.schema.site.typeNames) await ctx.readiness.markTypeNotReady(type);
        if (d.triggerImport) {
          await d.triggerImport();
          importTriggered = true;
        }
      },
      onPoll: (cursor) => {
        d.onPoll?.(cursor);
        if (++polls % 30 === 0) metrics.flush();
      },
    });
    metrics.flush();
    if (run.status !== 'done') logger.info('poller did not run', { status: run.status });
    const { cursor, ...rest } = run;
    return { ...rest, maxSeen: cursor?.maxSeen ?? null, backlog: cursor ? Object.keys(cursor.backlog).length : 0, importTriggered };
  };
}

/** In AWS: invoke the importer function asynchronously (IMPORTER_FUNCTION_NAME); it checkpoints and stops before its timeout. */
export function lambdaImportTrigger(env: Env): (() => Promise<void>) | undefined {
  const name = env.IMPORTER_FUNCTION_NAME?.trim();
  if (!name) return undefined;
  const lambda = new LambdaClient({ ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}) });
  return async () => {
    await lambda.send(new InvokeCommand({ FunctionName: name, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify({ source: 'fpt-cache-poller' })) }));
  };
}

function positive(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new ConfigError(`${name} must be a positive number of milliseconds, not "${raw}"`);
  return n;
}

function keptSettings(env: Env): KeptLogSettings | undefined {
  try {
    return keptLogSettingsFromEnv(env);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
}

export interface PollerOverrides {
  metrics?: SyncMetrics;
  logger?: Logger;
  triggerImport?: () => Promise<void>;
  onPoll?: (cursor: CursorState) => void;
  /** The time source (tests: a virtual one; default the real clock). */
  clock?: Clock;
}

export async function createPollerHandler(env: Env, o: PollerOverrides = {}): Promise<PollerHandler> {
  const logger = o.logger ?? new Logger();
  const ctx = await syncContextFromEnv(env, { entities: false, clock: o.clock, log: (m, x) => logger.warn(m, x ?? {}) });
  if (!ctx.queueUrl) throw new ConfigError('EVENTS_QUEUE_URL must name the event queue');
  return createPoller({
    ctx,
    logger,
    metrics: o.metrics ?? new EmfSyncMetrics(env.POWERTOOLS_SERVICE_NAME ?? 'fpt-cache'),
    pollIntervalMs: positive(env, 'POLL_INTERVAL_MS', DEFAULT_POLL_INTERVAL_MS),
    loopMs: positive(env, 'POLL_LOOP_MS', DEFAULT_POLL_LOOP_MS),
    triggerImport: o.triggerImport ?? lambdaImportTrigger(env),
    onPoll: o.onPoll,
    keep: keptSettings(env),
  });
}
