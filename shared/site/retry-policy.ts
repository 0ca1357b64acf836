// When a call to the Shotgun site may be retried, and how long to wait: idempotency by method, full-jitter backoff.
//
// The policy (also in docs/architecture.md):
// - 429 is an explicit refusal (the site did nothing): retried for every method.
// - A connection that could not be opened (refused, DNS failure, connect timeout) never carried the request:
//   retried for every method.
// - 502/503/504, a connection reset/closed mid-call, and a per-call timeout may have happened after the site
//   received (and applied) the request: retried ONLY for idempotent methods (reads). A create/update/delete/
//   revive/batch, or any method we do not know, is never sent twice; the error surfaces to the caller.
// - Anything else (other HTTP statuses, a fault body) is an answer, not a transport failure: never retried.
// Delays are exponential with full jitter: uniform in [0, min(maxDelayMs, baseDelayMs * 2^retry)], but never less
// than a Retry-After the site sent (when that fits under maxDelayMs).

/** Methods without side effects on the site: repeating one cannot change data. */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set([
  'info',
  'read',
  'summarize',
  'schema_read',
  'schema_entity_read',
  'schema_field_read',
  'query_display_name_cache',
  'note_thread_contents',
  'activity_stream',
  'work_schedule_read',
  'followers',
  'following',
  'preferences_read',
  'user_subscriptions_read',
  'export_page',
  'nav_expand',
  'nav_search',
  'get_session_token',
]);

export function isIdempotentMethod(method: string): boolean {
  return IDEMPOTENT_METHODS.has(method);
}

export interface RetryPolicy {
  /** Total attempts including the first. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 5_000 };

/** What went wrong with one attempt, as far as retrying is concerned. */
export type FailureKind =
  /** The connection was never established, so the request was never sent. */
  | 'not-sent'
  /** HTTP 429: the site refused the call without acting on it. */
  | 'refused'
  /** HTTP 502/503/504: a gateway or the site failed; the request may have been applied. */
  | 'gateway'
  /** Connection reset/closed after it was open: the request may have reached the site. */
  | 'reset'
  /** The per-call timeout fired: the request may have reached the site. */
  | 'timeout';

export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/** Whether an attempt that failed this way may be repeated for a call of this idempotency. */
export function mayRetry(kind: FailureKind, idempotent: boolean): boolean {
  if (kind === 'not-sent' || kind === 'refused') return true;
  return idempotent;
}

/** Delay before retry number `retry` (0 for the first retry). `retryAfterMs` is the site's Retry-After, if any. */
export function backoffDelayMs(policy: RetryPolicy, retry: number, retryAfterMs?: number, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  const jittered = Math.floor(random() * cap);
  if (retryAfterMs !== undefined && retryAfterMs <= policy.maxDelayMs) return Math.max(jittered, retryAfterMs);
  return jittered;
}

/** Retry-After in ms (seconds or an HTTP date), or undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const s = Number(value);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const t = Date.parse(value);
  return Number.isFinite(t) ? Math.max(0, t - now) : undefined;
}
