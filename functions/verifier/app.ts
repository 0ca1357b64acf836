// The verifier function built from its environment: sampled cache hits replayed against the site, verdicts recorded, wrong types quarantined.
import { Logger } from '@aws-lambda-powertools/logger';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import {
  EmfShadowMetrics,
  ShadowLedger,
  ShadowSampleSchema,
  ShadowVerifier,
  sampleTypes,
  type ShadowMetrics,
  type ShadowVerdict,
} from '../../shared/shadow/index.js';
import { ReconcilePace, asWriter } from '../../shared/store/index.js';
import { shadowPorts, syncContextFromEnv, type SyncContext } from '../../shared/sync/index.js';

type Env = Record<string, string | undefined>;

/** Defaults: keep re-checking a difference for 30 s, first round after 1 s; one confirmed mismatch quarantines its types. */
export const VERIFIER_DEFAULTS = { settleMs: 30_000, roundMs: 1_000, threshold: 1 } as const;
/** Answers logged on a mismatch are cut to this many characters each. */
const MAX_LOGGED_ANSWER = 20_000;

/** What the verifier logs through (a Powertools Logger in AWS). */
export interface VerifierLog {
  error(message: string, details: Record<string, unknown>): void;
  warn(message: string, details: Record<string, unknown>): void;
  debug(message: string, details: Record<string, unknown>): void;
}

export interface VerifierDeps {
  verifier: ShadowVerifier;
  ledger: ShadowLedger;
  /** Where stale verdicts report writes the event log did not carry (the reconciler scans those types sooner). */
  pace?: Pick<ReconcilePace, 'found'>;
  metrics: ShadowMetrics;
  logger: VerifierLog;
  /** The clock of the pace's records (default Date.now). */
  now?: () => number;
  /** Told about each verdict (tests, the local stack). */
  onVerdict?: (v: ShadowVerdict & { type: string; shape: string }) => void;
}

export type VerifierHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

const cut = (v: unknown): string => {
  const s = JSON.stringify(v) ?? 'null';
  return s.length > MAX_LOGGED_ANSWER ? `${s.slice(0, MAX_LOGGED_ANSWER)}... (${s.length} chars)` : s;
};

export function createVerifier(d: VerifierDeps): VerifierHandler {
  const recordHandler = async (record: SQSRecord): Promise<void> => {
    // A malformed message is a poison message: it fails until the queue's redrive moves it to the dead-letter queue.
    const sample = ShadowSampleSchema.parse(JSON.parse(record.body));
    const verdict = await d.verifier.verify(sample);
    const types = sampleTypes(sample);
    d.metrics.verdict(verdict.outcome, { type: sample.type, shape: sample.shape });
    if (verdict.outcome === 'mismatch') {
      // The request (params only: the sample never holds credentials) and both answers, for the operator.
      d.logger.error('shadow mismatch: the cache answered differently from the site', {
        type: sample.type,
        shape: sample.shape,
        method: sample.method,
        access: sample.access,
        principal: sample.principal,
        answeredAt: new Date(sample.answeredAt).toISOString(),
        request: sample.params,
        rounds: verdict.rounds,
        differences: verdict.evidence?.differences,
        cacheAnswer: cut(verdict.evidence?.cache),
        siteAnswer: cut(verdict.evidence?.site),
      });
    } else if (verdict.outcome === 'stale') {
      d.logger.warn('shadow check: a stale answer (the site had newer versions), repaired', {
        type: sample.type,
        shape: sample.shape,
        rounds: verdict.rounds,
        stale: verdict.stale?.map((e) => ({ type: e.type, id: e.id, updatedAt: e.updatedAt, by: e.by })),
      });
    } else {
      d.logger.debug('shadow check', { type: sample.type, shape: sample.shape, outcome: verdict.outcome, rounds: verdict.rounds });
    }
    const quarantined = await d.ledger.record(verdict.outcome, types, {
      shape: sample.shape,
      ids: (verdict.evidence?.differences ?? []).map((x) => x.id).filter((id): id is number => id !== null),
      request: { method: sample.method, params: sample.params },
    });
    await recordStale(d, verdict);
    d.metrics.quarantined(quarantined.length);
    for (const type of quarantined) {
      // Its next reconcile pass at once: the re-check that can lift the quarantine follows that pass.
      await d.pace?.found(type, [], (d.now ?? Date.now)(), { hint: true });
      d.logger.error(
        `${type} is now served from the site (reason shadow-mismatch) until a re-check after the next reconcile pass, \`fpt-cache validate\` or a re-import finds it clean`,
        { type, shape: sample.shape },
      );
    }
    d.onVerdict?.({ ...verdict, type: sample.type, shape: sample.shape });
  };
  return async (event, context) => {
    const processor = new BatchProcessor(EventType.SQS);
    try {
      return await processPartialResponse(event, recordHandler, processor, { context, throwOnFullBatchFailure: false });
    } finally {
      d.metrics.flush();
    }
  };
}

/** Stale entities are writes the cache had not seen: per type, who made them and when, and the type's next scan at once. */
async function recordStale(d: VerifierDeps, verdict: ShadowVerdict): Promise<void> {
  if (!d.pace || !verdict.stale?.length) return;
  const byType = new Map<string, NonNullable<ShadowVerdict['stale']>>();
  for (const e of verdict.stale) byType.set(e.type, [...(byType.get(e.type) ?? []), e]);
  const at = (d.now ?? Date.now)();
  for (const [type, es] of byType)
    await d.pace.found(
      type,
      es.map((e) => ({ id: e.id, updatedAt: e.updatedAt, by: asWriter(e.by) })),
      at,
      { hint: true },
    );
}

export interface VerifierOverrides {
  metrics?: ShadowMetrics;
  logger?: VerifierLog;
  ctx?: SyncContext;
  onVerdict?: VerifierDeps['onVerdict'];
}

const positive = (raw: string | undefined, fallback: number): number => {
  const n = Number(raw);
  return raw !== undefined && raw.trim() !== '' && Number.isFinite(n) && n > 0 ? n : fallback;
};

/**
 * From the environment: the sync context (site client with the cache's script credentials, tables), SHADOW_SETTLE_MS,
 * SHADOW_ROUND_MS and SHADOW_MISMATCH_THRESHOLD.
 */
export async function createVerifierHandler(env: Env, o: VerifierOverrides = {}): Promise<VerifierHandler> {
  const logger: VerifierLog = o.logger ?? new Logger();
  const ctx = o.ctx ?? (await syncContextFromEnv(env, { log: (m, x) => logger.warn(m, x ?? {}) }));
  const metrics = o.metrics ?? new EmfShadowMetrics(env.POWERTOOLS_SERVICE_NAME ?? 'fpt-cache');
  const verifier = new ShadowVerifier({
    ...shadowPorts(ctx, { onRepair: (n) => metrics.repaired(n) }),
    settleMs: positive(env.SHADOW_SETTLE_MS, VERIFIER_DEFAULTS.settleMs),
    roundMs: positive(env.SHADOW_ROUND_MS, VERIFIER_DEFAULTS.roundMs),
    now: () => ctx.clock.now(),
    sleep: (ms) => ctx.clock.sleep(ms),
  });
  return createVerifier({
    verifier,
    logger,
    onVerdict: o.onVerdict,
    metrics,
    now: () => ctx.clock.now(),
    pace: new ReconcilePace(ctx.doc, ctx.tables.state),
    ledger: new ShadowLedger(ctx.ddb, ctx.tables.state, positive(env.SHADOW_MISMATCH_THRESHOLD, VERIFIER_DEFAULTS.threshold)),
  });
}
