// EventBridge schedules, emulated: invokes scheduled Lambda handlers at a fixed rate with the Scheduled Event shape.
import { randomUUID } from 'node:crypto';
import type { ScheduledEvent } from 'aws-lambda';
import { invokeLocal, type LambdaHandler, type LocalFunction } from './lambda-invoke.js';

export type ScheduledHandler = LambdaHandler<ScheduledEvent, unknown>;

export interface ScheduledFunction {
  fn: LocalFunction;
  handler: ScheduledHandler;
  /** The rule's rate (EventBridge's floor is one minute; locally any rate works). */
  everyMs: number;
  /** Invoke once right away instead of waiting a full period (default true). */
  runAtStart?: boolean;
}

export interface SchedulerStats {
  [name: string]: { invocations: number; failures: number; running: boolean; lastError?: string; lastRunAt?: string };
}

export interface Scheduler {
  stats(): SchedulerStats;
  /** Stops firing; running invocations see getRemainingTimeInMillis() = 0 and get `graceMs` to finish (default 5 s). */
  stop(graceMs?: number): Promise<void>;
}

/** The event EventBridge sends for a scheduled rule. */
export function scheduledEvent(ruleName: string, now = new Date(), region = process.env.AWS_REGION ?? 'us-east-1'): ScheduledEvent {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [`arn:aws:events:${region}:123456789012:rule/${ruleName}`],
    detail: {},
  };
}

/**
 * Runs each function every `everyMs`. A tick that finds the previous invocation of the same function still
 * running is skipped (EventBridge would start a second, concurrent one; our scheduled functions guard
 * themselves with a lease anyway, so skipping only saves local CPU).
 */
export function startScheduler(functions: ScheduledFunction[], onError: (message: string, error?: unknown) => void = () => {}): Scheduler {
  let stopped = false;
  const shutdown = new AbortController();
  const timers: NodeJS.Timeout[] = [];
  const running = new Map<string, Promise<void>>();
  const stats: SchedulerStats = {};

  for (const f of functions) {
    const s = (stats[f.fn.name] = { invocations: 0, failures: 0, running: false } as SchedulerStats[string]);
    const fire = () => {
      if (stopped || running.has(f.fn.name)) return;
      s.invocations++;
      s.running = true;
      s.lastRunAt = new Date().toISOString();
      const p = invokeLocal(f.fn, f.handler, scheduledEvent(`${f.fn.name}-schedule`), shutdown.signal)
        .then(
          () => undefined,
          (e) => {
            s.failures++;
            s.lastError = (e as Error)?.message ?? String(e);
            onError(`${f.fn.name} failed`, e);
          },
        )
        .finally(() => {
          s.running = false;
          running.delete(f.fn.name);
        });
      running.set(f.fn.name, p);
    };
    timers.push(setInterval(fire, f.everyMs));
    if (f.runAtStart ?? true) timers.push(setTimeout(fire, 0));
  }

  return {
    stats: () => structuredClone(stats),
    async stop(graceMs = 5_000) {
      stopped = true;
      shutdown.abort();
      for (const t of timers) clearTimeout(t);
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...running.values()]),
        new Promise((r) => {
          grace = setTimeout(r, graceMs);
        }),
      ]);
      clearTimeout(grace);
    },
  };
}
