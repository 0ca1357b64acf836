// The consumer function built from its environment: FIFO batches of events applied in order, a failure stopping its entity's group.
import { Logger } from '@aws-lambda-powertools/logger';
import { systemClock, type Clock } from '../../shared/clock.js';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import {
  EventApplier,
  type ApplyOutcome,
  EventRowSchema,
  pendingKeyOf,
  writeTargets,
  type EventRow,
  SchemaDrift,
  StampLearner,
  syncContextFromEnv,
  type SyncContext,
  EmfSyncMetrics,
  type SyncMetrics,
} from '../../shared/sync/index.js';
import { bumpGenerations, countersOfChange, deferBumps, PendingEvents, SCHEMA_GENERATION, SiteBehaviour } from '../../shared/store/index.js';
import { eventTypes } from '../../shared/reads/index.js';
import { ShotgunTransportError } from '../../shared/site/index.js';

type Env = Record<string, string | undefined>;

/** The queue's RedrivePolicy.maxReceiveCount (infra MAX_RECEIVE_COUNT): a failure on this delivery sends the event to the DLQ. */
export const DEFAULT_MAX_RECEIVE_COUNT = 5;

export interface ConsumerDeps {
  applier: EventApplier;
  metrics: SyncMetrics;
  logger: Logger;
  maxReceiveCount: number;
  /** The time source of the lag figures and the waits while the site is down (default the real clock). */
  clock?: Clock;
  /** Told about each applied event (the local stack's /status). */
  onApplied?: (ev: EventRow, outcome: ApplyOutcome, lagSeconds: number) => void;
  /** The wait before trying an apply again while the site is down (SiteHealth.backoffMs); default 500 ms. */
  backoffMs?: (round: number) => number;
  /** Runs after an event is applied and before it is acknowledged (schema changes bump the schema counter). */
  afterApply?: (ev: EventRow) => Promise<void>;
  /** Runs a batch's applies with their change-counter bumps gathered and made once at the end (shared/store deferBumps). */
  deferBumps?: <T>(fn: () => Promise<T>) => Promise<T>;
  /** Runs a batch's applies with its entities' stored items read up front in one call (EntityStore.withStates). */
  withStates?: <T>(events: readonly EventRow[], fn: () => Promise<T>) => Promise<T>;
  /** Runs once a batch's applies and bumps are done, with the events applied, before any is acknowledged (their pending markers are cleared). */
  afterBatch?: (applied: readonly EventRow[]) => Promise<void>;
}

export type ConsumerHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** An event body as the poller queued it; anything else is a poison message. */
export function parseEventBody(body: string): EventRow {
  return EventRowSchema.parse(JSON.parse(body));
}

/** While the site is down, an event's apply is tried again (about every `backoffMs`) until this little time is left in the invocation. */
export const SITE_WAIT_MARGIN_MS = 5_000;

/**
 * Applies an event, waiting out a site outage within the invocation: its re-read of the entity cannot be made while the
 * site is down (shared/site/site-health.ts refuses at once, a probe at a time), so the apply is retried after a jittered
 * backoff instead of burning one of the event's deliveries per attempt (they lead to the DLQ).
 */
async function applyWaitingForSite(d: ConsumerDeps, applier: EventApplier, ev: EventRow, remainingMs: () => number): Promise<ApplyOutcome> {
  for (let round = 0; ; round++) {
    try {
      return await applier.apply(ev);
    } catch (e) {
      if (!(e instanceof ShotgunTransportError) || remainingMs() < SITE_WAIT_MARGIN_MS) throw e;
      await (d.clock ?? systemClock).sleep(d.backoffMs?.(round) ?? 500);
    }
  }
}

export function createConsumer(d: ConsumerDeps): ConsumerHandler {
  const clock = d.clock ?? systemClock;
  const now = () => clock.now();
  const recordHandler =
    (applier: EventApplier, remainingMs: () => number, parsed: ReadonlyMap<string, EventRow>, applied: EventRow[]) =>
    async (record: SQSRecord): Promise<void> => {
      let ev: EventRow | undefined;
      try {
        // Parsed once for the batch; a poison body is parsed again here, so its error fails it.
        ev = parsed.get(record.messageId) ?? parseEventBody(record.body);
        const outcome = await applyWaitingForSite(d, applier, ev, remainingMs);
        await d.afterApply?.(ev);
        const at = ev.created_at ? Date.parse(ev.created_at) : NaN;
        const lag = Number.isFinite(at) ? Math.max(0, (now() - at) / 1000) : 0;
        applied.push(ev);
        d.metrics.add('EventsApplied', 1);
        if (Number.isFinite(at)) d.metrics.add('SyncLagSeconds', lag, 'Seconds');
        d.onApplied?.(ev, outcome, lag);
        d.logger.debug('event applied', { eventId: ev.id, eventType: ev.event_type, ...outcome });
      } catch (e) {
        const receives = Number(record.attributes?.ApproximateReceiveCount ?? 1);
        const details = {
          eventId: ev?.id,
          eventType: ev?.event_type,
          attribute: ev?.attribute_name,
          messageId: record.messageId,
          group: record.attributes?.MessageGroupId,
          receives,
          error: (e as Error)?.message ?? String(e),
        };
        if (receives >= d.maxReceiveCount) {
          d.metrics.add('DeadLetters', 1);
          d.logger.error(`event ${ev?.id ?? '(unreadable)'} failed on its last delivery and goes to the dead-letter queue`, details);
        } else {
          d.logger.warn('event failed; it and the rest of its batch are retried', details);
        }
        throw e;
      }
    };
  /**
   * The batch's site reads made once, up front (one `id in [...]` read per type; docs/sync.md "Event bursts"). If they
   * fail, each event reads for itself and fails or succeeds on its own, as without them.
   */
  const batchApplier = async (events: readonly EventRow[]): Promise<EventApplier> => {
    try {
      return await d.applier.forBatch(events);
    } catch (e) {
      d.logger.warn("the batch's site reads failed; each event reads for itself", { error: e instanceof Error ? e.message : String(e) });
      return d.applier;
    }
  };
  return async (event, context) => {
    const parsed = new Map<string, EventRow>();
    for (const r of event.Records) {
      try {
        parsed.set(r.messageId, parseEventBody(r.body));
      } catch {
        /* poison: failed by its own record below */
      }
    }
    const events = [...parsed.values()];
    const applier = await batchApplier(events);
    // Each message group (one entity) in order, the groups of the batch at once. A failure stops its group (it and
    // every later record of the group are reported failed, so each entity's events stay in order); other groups go
    // on. Failing the whole rest of the batch would count receives against unrelated events and send them to the DLQ
    // together with one poison event.
    const groups = new Map<string, SQSRecord[]>();
    for (const r of event.Records) {
      const g = r.attributes.MessageGroupId ?? r.messageId;
      groups.set(g, [...(groups.get(g) ?? []), r]);
    }
    const failed: string[] = [];
    const applied: EventRow[] = [];
    const handle = recordHandler(applier, () => context.getRemainingTimeInMillis?.() ?? 0, parsed, applied);
    const applyGroups = () =>
      Promise.all(
        [...groups.values()].map(async (records) => {
          for (let i = 0; i < records.length; i++) {
            try {
              await handle(records[i]);
            } catch {
              failed.push(...records.slice(i).map((r) => r.messageId));
              return;
            }
          }
        }),
      );
    try {
      // The change counters every write of the batch bumps, bumped once each when the batch is applied, before any
      // record is acknowledged (a failed bump fails the batch; redelivered events bump again).
      const withStates = () => (d.withStates ? d.withStates(events, applyGroups) : applyGroups());
      await (d.deferBumps ? d.deferBumps(withStates) : withStates());
      // After the bumps: a read that finds no marker for its type also finds the counters moved (shared/reads/store-freshness.ts).
      await d.afterBatch?.(applied);
      const order = new Map(event.Records.map((r, i) => [r.messageId, i]));
      return { batchItemFailures: failed.sort((a, b) => order.get(a)! - order.get(b)!).map((itemIdentifier) => ({ itemIdentifier })) };
    } finally {
      d.metrics.flush();
    }
  };
}

export interface ConsumerOverrides {
  metrics?: SyncMetrics;
  logger?: Logger;
  ctx?: SyncContext;
  /** The time source (tests: a virtual one); ignored with `ctx` (its own clock counts). */
  clock?: Clock;
  onApplied?: ConsumerDeps['onApplied'];
}

export async function createConsumerHandler(env: Env, o: ConsumerOverrides = {}): Promise<ConsumerHandler> {
  const logger = o.logger ?? new Logger();
  const ctx = o.ctx ?? (await syncContextFromEnv(env, { clock: o.clock, log: (m, x) => logger.warn(m, x ?? {}) }));
  const metrics = o.metrics ?? new EmfSyncMetrics(env.POWERTOOLS_SERVICE_NAME ?? 'fpt-cache');
  const applier = new EventApplier({
    schema: ctx.schema,
    store: ctx.store,
    fetcher: ctx.fetcher,
    events: ctx.events,
    log: (m, x) => logger.warn(m, x ?? {}),
    schemaDrift: new SchemaDrift({ schema: ctx.schema, site: ctx.client, readiness: ctx.readiness, metrics, log: (m, x) => logger.warn(m, x ?? {}) }),
    // Whether back-references and revives move updated_at, measured (the trimmed-log rebuild relies on it: shared/sync/rebuild.ts).
    stamps: new StampLearner({ behaviour: new SiteBehaviour(ctx.doc, ctx.tables.state), events: ctx.events, log: (m, x) => logger.info(m, x ?? {}) }),
  });
  const max = Number(env.MAX_RECEIVE_COUNT);
  const pending = new PendingEvents(ctx.ddb, ctx.tables.state);
  return createConsumer({
    applier,
    logger,
    metrics,
    maxReceiveCount: Number.isInteger(max) && max > 0 ? max : DEFAULT_MAX_RECEIVE_COUNT,
    onApplied: o.onApplied,
    clock: ctx.clock,
    backoffMs: ctx.client.health && ((round) => ctx.client.health!.backoffMs(round)),
    deferBumps: (fn) => deferBumps(ctx.ddb, fn),
    withStates: (events, fn) => ctx.store.withStates(writeTargets(ctx.schema, events), fn),
    // Entity writes bump their own change counters (shared/store). Once applied (also when a redelivered event is now
    // stale, so a bump lost after its write is made good) the event's type and project are bumped again, and a schema
    // change (DisplayColumn) bumps `*schema`.
    afterApply: async (ev) => {
      const project = (ev.project as { id?: unknown } | null | undefined)?.id;
      const keys = eventTypes([ev]).flatMap((t) => (t === SCHEMA_GENERATION ? [t] : countersOfChange(t, typeof project === 'number' ? project : undefined)));
      await bumpGenerations(ctx.ddb, ctx.tables.state, keys);
    },
    // Applied: reads of their types no longer wait for them (shared/store/pending-events.ts), one call per batch.
    afterBatch: (applied) => pending.clearMany(applied.map((ev) => ({ key: pendingKeyOf(ctx.schema.site, ev), id: ev.id }))),
  });
}
