// The Shotgun JSON-RPC client the functions use: keep-alive fetch, retries per shared/site/retry-policy.ts, typed faults, paging, raw forwarding.
//
// Transport: POST <SHOTGUN_URL>/api3/json with Node's built-in fetch (undici; its global dispatcher keeps
// connections alive). `accept-encoding: gzip` is sent and fetch inflates the reply. Each attempt has its own
// timeout (AbortSignal), covering the whole reply body.
// Retries: see shared/site/retry-policy.ts. A non-idempotent call (create/update/delete/revive/batch, or any method
// not known to be a read) is never repeated once the request may have reached the site; 429 and connections
// that never opened are retried for every method.
// Errors: a fault body ({"exception": true, ...}) becomes a ShotgunFault carrying the site's error_code;
// everything else that goes wrong on the way (no connection, reset, timeout, HTTP status >= 300, a reply that
// is not JSON) becomes a ShotgunTransportError, which says whether the request may have reached the site.
import { ErrorCode, ShotgunFault, isFaultBody } from './faults.js';
import {
  DEFAULT_RETRY_POLICY,
  RETRYABLE_STATUSES,
  backoffDelayMs,
  isIdempotentMethod,
  mayRetry,
  parseRetryAfter,
  type FailureKind,
  type RetryPolicy,
} from './retry-policy.js';
import type { Clock } from '../clock.js';
import { isOutageReply, siteHealthFor, type SiteHealth } from './site-health.js';
import { authParams, findPlan, recordsPerPageOf, rpcPayload, serverVersionOf, type FindArgs } from './api3-payloads.js';
import type { AuthParams } from './wire.js';

export type TransportErrorKind = FailureKind | 'http' | 'bad-response' | 'aborted';

/** The site could not be talked to, or did not answer in Shotgun's JSON envelope. */
export class ShotgunTransportError extends Error {
  constructor(
    message: string,
    readonly kind: TransportErrorKind,
    readonly details: {
      method: string;
      url: string;
      attempts: number;
      /** False only when no attempt could have reached the site (so nothing can have been applied). */
      mayHaveReachedSite: boolean;
      /** Not sent because the site is known to be down (shared/site/site-health.ts). */
      circuitOpen?: boolean;
      status?: number;
      cause?: unknown;
    },
  ) {
    super(message);
    this.name = 'ShotgunTransportError';
  }
}

export interface ShotgunClientOptions {
  /** Base URL of the site, e.g. https://studio.shotgunstudio.com (a path prefix is kept, as shotgun_api3 does). */
  url: string;
  scriptName?: string;
  scriptKey?: string;
  /** Auth params sent with every call (overrides scriptName/scriptKey). */
  auth?: AuthParams;
  /** Per-attempt timeout; default 30 s. */
  timeoutMs?: number;
  /** All attempts of one call, retry waits included, end within this (the API: under API Gateway's 30 s); default unbounded. */
  totalTimeoutMs?: number;
  /** The site's health (shared/site/site-health.ts): default the one shared by every client of this site in the process; false: none. */
  health?: SiteHealth | false;
  /**
   * The clock of the default health (its breaker and probe backoff): clients on one clock share one health per site.
   * A call's own retries and timeouts stay on real time (they bound waits on real sockets).
   */
  clock?: Clock;
  retry?: Partial<RetryPolicy>;
  userAgent?: string;
  /** Told about each retry (for logs). */
  onRetry?: (info: { method: string; attempt: number; kind: FailureKind; status?: number; delayMs: number }) => void;
}

export interface CallOptions {
  /** Auth params for this call; `false` sends none (as shotgun_api3 does for `info`). Default: the client's. */
  auth?: AuthParams | false;
  timeoutMs?: number;
  /** Override the method table (e.g. a read-only method the table does not know). */
  idempotent?: boolean;
  signal?: AbortSignal;
}

/** An upstream HTTP reply, body already inflated (so content-encoding/content-length are dropped). */
export interface RawReply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface FindOptions extends Omit<CallOptions, 'idempotent'> {
  /** Entities per page instead of the site's api_max_entities_per_page (else 500), like shotgun_api3's records_per_page. */
  pageSize?: number;
}

export interface ServerInfo {
  version: number[];
  api_max_entities_per_page?: number;
  [key: string]: unknown;
}

/** Headers that describe one hop (or the encoding fetch already undid), never copied between hops. */
const HOP_HEADERS = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-encoding',
  'content-length',
  'proxy-connection',
  'upgrade',
  'te',
  'trailer',
]);

const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

function errorCode(e: unknown): string | undefined {
  const cause = (e as { cause?: unknown })?.cause ?? e;
  if (cause instanceof AggregateError) return errorCode(cause.errors[0]);
  return (cause as { code?: string })?.code;
}

/** Attempt failures before any HTTP reply: was the connection ever open? */
function classifyThrown(e: unknown): FailureKind {
  if ((e as Error)?.name === 'TimeoutError') return 'timeout';
  const code = errorCode(e);
  return code && NOT_SENT_CODES.has(code) ? 'not-sent' : 'reset';
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** `https://user:pass@host/prefix` -> the /api3/json URL without credentials, and the Basic header they imply. */
export function apiEndpoint(baseUrl: string): { url: string; authorization?: string } {
  const u = new URL(baseUrl);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`Shotgun URL must be http or https: ${baseUrl}`);
  let authorization: string | undefined;
  if (u.username || u.password) {
    authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
    u.username = '';
    u.password = '';
  }
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return { url: new URL('api3/json', u).toString(), authorization };
}

export class ShotgunClient {
  readonly endpoint: string;
  private readonly authorization?: string;
  private readonly policy: RetryPolicy;
  private readonly defaultAuth?: AuthParams;
  private infoPromise?: Promise<ServerInfo>;
  /** The site's health this client reports to and asks before every attempt. */
  readonly health?: SiteHealth;

  constructor(private readonly opts: ShotgunClientOptions) {
    const ep = apiEndpoint(opts.url);
    this.endpoint = ep.url;
    this.health = opts.health === false ? undefined : (opts.health ?? siteHealthFor(opts.url, { clock: opts.clock }));
    this.authorization = ep.authorization;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...opts.retry };
    this.defaultAuth = opts.auth ?? (opts.scriptName && opts.scriptKey ? authParams({ scriptName: opts.scriptName, apiKey: opts.scriptKey }) : undefined);
  }

  /**
   * One JSON-RPC call; resolves to the reply's `results` (or the whole reply when it has none, as shotgun_api3
   * tolerates). Throws ShotgunFault for a fault body and ShotgunTransportError for everything else.
   */
  async call<T = unknown>(method: string, params?: unknown, options: CallOptions = {}): Promise<T> {
    const auth = options.auth === false ? undefined : (options.auth ?? (method === 'info' ? undefined : this.defaultAuth));
    const body = Buffer.from(JSON.stringify(rpcPayload(method, auth, params)), 'utf8');
    const idempotent = options.idempotent ?? isIdempotentMethod(method);
    const { reply, attempts } = await this.exchange(method, body, {}, idempotent, options);
    if (reply.status >= 300) {
      const kind: TransportErrorKind = reply.status === 429 ? 'refused' : RETRYABLE_STATUSES.has(reply.status) ? 'gateway' : 'http';
      throw new ShotgunTransportError(
        `Shotgun site answered HTTP ${reply.status} to ${method} after ${attempts} attempt(s): ${reply.body.toString('utf8').slice(0, 200)}`,
        kind,
        { method, url: this.endpoint, attempts, status: reply.status, mayHaveReachedSite: true },
      );
    }
    let decoded: unknown;
    try {
      decoded = JSON.parse(reply.body.toString('utf8'));
    } catch (e) {
      throw new ShotgunTransportError(`Shotgun site sent a reply to ${method} that is not JSON`, 'bad-response', {
        method,
        url: this.endpoint,
        attempts,
        status: reply.status,
        mayHaveReachedSite: true,
        cause: e,
      });
    }
    if (isFaultBody(decoded)) {
      const code = (decoded as { error_code?: unknown }).error_code;
      throw new ShotgunFault(String(decoded.message ?? ''), typeof code === 'number' ? code : ErrorCode.API);
    }
    if (decoded && typeof decoded === 'object' && !Array.isArray(decoded) && 'results' in decoded) {
      return (decoded as { results: T }).results;
    }
    return decoded as T;
  }

  /**
   * Sends a request body unchanged and returns the site's reply unchanged (status, headers, body bytes), after
   * retries allowed for `method` (pass the parsed method_name; undefined counts as non-idempotent). Only a
   * failure to get any HTTP reply throws (ShotgunTransportError).
   */
  async forward(
    body: Uint8Array,
    headers: Record<string, string>,
    options: { method?: string; timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<RawReply> {
    const method = options.method ?? '(unknown)';
    const idempotent = options.method !== undefined && isIdempotentMethod(options.method);
    const { reply } = await this.exchange(method, body, headers, idempotent, options);
    return reply;
  }

  /** The site's `info` (cached for the client's life, like shotgun_api3's server_caps). */
  info(options: Omit<CallOptions, 'auth' | 'idempotent'> = {}): Promise<ServerInfo> {
    this.infoPromise ??= this.call<ServerInfo>('info', undefined, { ...options, auth: false }).then((info) => {
      try {
        serverVersionOf(info);
      } catch (e) {
        throw new ShotgunTransportError("the site's info reply has no version", 'bad-response', {
          method: 'info',
          url: this.endpoint,
          attempts: 1,
          mayHaveReachedSite: true,
          cause: e,
        });
      }
      return info;
    });
    this.infoPromise.catch(() => {
      this.infoPromise = undefined;
    });
    return this.infoPromise;
  }

  /**
   * Pages through a find exactly as shotgun_api3's find() does (params from shared/site/api3-payloads.ts findPlan):
   * `has_next_page` on sites >= 7.4.0, otherwise the legacy `entity_count` protocol (stop on an empty page or
   * once the count is reached); `limit` truncates, `page` asks for one page. Yields one page's entities at a time.
   */
  async *findPages(args: FindArgs, options: FindOptions = {}): AsyncGenerator<Array<Record<string, unknown>>> {
    const info = await this.info(options);
    const plan = findPlan(args, { version: serverVersionOf(info), recordsPerPage: options.pageSize ?? recordsPerPageOf(info) });
    const params = plan.params;
    const callOptions: CallOptions = { auth: options.auth, timeoutMs: options.timeoutMs, signal: options.signal, idempotent: true };
    type ReadReply = { entities?: Array<Record<string, unknown>>; paging_info?: Record<string, unknown> };
    const read = () => this.call<ReadReply>('read', params, callOptions);
    if (plan.single) {
      const entities = (await read())?.entities ?? [];
      if (entities.length) yield entities;
      return;
    }
    const missing = (key: string) =>
      new ShotgunTransportError(`read reply has no paging_info.${key}`, 'bad-response', {
        method: 'read',
        url: this.endpoint,
        attempts: 1,
        mayHaveReachedSite: true,
      });
    let seen = 0;
    for (;;) {
      const result = await read();
      let entities = result?.entities ?? [];
      if (plan.pagingFlag === 'return_paging_info' && entities.length === 0) return;
      if (plan.limit && seen + entities.length >= plan.limit) {
        entities = entities.slice(0, plan.limit - seen);
        if (entities.length) yield entities;
        return;
      }
      seen += entities.length;
      if (entities.length) yield entities;
      const paging = result?.paging_info ?? {};
      if (plan.pagingFlag === 'return_paging_info_without_counts') {
        if (typeof paging.has_next_page !== 'boolean') throw missing('has_next_page');
        if (!paging.has_next_page) return;
      } else {
        if (typeof paging.entity_count !== 'number') throw missing('entity_count');
        if (seen === paging.entity_count) return;
      }
      params.paging.current_page++;
    }
  }

  /** Every entity a find matches, across pages. */
  async findAll(args: FindArgs, options: FindOptions = {}): Promise<Array<Record<string, unknown>>> {
    const out: Array<Record<string, unknown>> = [];
    for await (const page of this.findPages(args, options)) out.push(...page);
    return out;
  }

  /** Attempts until an HTTP reply that is final for this call, or a failure that may not be retried. */
  private async exchange(
    method: string,
    body: Uint8Array,
    extraHeaders: Record<string, string>,
    idempotent: boolean,
    options: { timeoutMs?: number; signal?: AbortSignal },
  ): Promise<{ reply: RawReply; attempts: number }> {
    const timeoutMs = options.timeoutMs ?? this.opts.timeoutMs ?? 30_000;
    const headers: Record<string, string> = {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': this.opts.userAgent ?? 'fpt-cache',
      ...extraHeaders,
      'accept-encoding': 'gzip',
    };
    if (this.authorization) headers.authorization = this.authorization;
    let reached = false;
    const budgetEnd = Date.now() + (this.opts.totalTimeoutMs ?? Number.POSITIVE_INFINITY);
    let lastReply: RawReply | undefined;
    for (let attempt = 1; ; attempt++) {
      let kind: FailureKind;
      let status: number | undefined;
      let retryAfter: number | undefined;
      const admitted = this.health?.admit() ?? { go: true as const, probe: false };
      if (!admitted.go) {
        // The site is down: no call is made. Its own last outage answer (a 503 page) is the reply, else a transport error.
        const reply = lastReply ?? admitted.reply;
        if (reply) return { reply, attempts: Math.max(1, attempt - 1) };
        throw new ShotgunTransportError(
          `Shotgun site ${this.endpoint} is unavailable since ${new Date(admitted.downSinceMs).toISOString()}; ${method} not sent`,
          'not-sent',
          { method, url: this.endpoint, attempts: attempt, mayHaveReachedSite: reached, circuitOpen: true },
        );
      }
      const attemptMs = Math.min(timeoutMs, budgetEnd - Date.now());
      try {
        const limit = AbortSignal.timeout(Math.max(1, attemptMs));
        const signal = options.signal ? AbortSignal.any([options.signal, limit]) : limit;
        const res = await fetch(this.endpoint, { method: 'POST', headers, body, signal });
        const replyBody = Buffer.from(await res.arrayBuffer());
        const reply: RawReply = { status: res.status, headers: {}, body: replyBody };
        res.headers.forEach((v, k) => {
          if (!HOP_HEADERS.has(k)) reply.headers[k] = v;
        });
        if (isOutageReply(reply)) this.health?.failed(reply);
        else this.health?.succeeded();
        if (!RETRYABLE_STATUSES.has(res.status)) return { reply, attempts: attempt };
        lastReply = reply;
        kind = res.status === 429 ? 'refused' : 'gateway';
        status = res.status;
        retryAfter = parseRetryAfter(res.headers.get('retry-after'));
        if (kind === 'gateway') reached = true;
        if (attempt >= this.policy.maxAttempts || !mayRetry(kind, idempotent) || budgetEnd - Date.now() < 100) return { reply, attempts: attempt };
      } catch (e) {
        if (options.signal?.aborted) {
          throw new ShotgunTransportError(`${method} aborted by the caller`, 'aborted', {
            method,
            url: this.endpoint,
            attempts: attempt,
            mayHaveReachedSite: true,
            cause: e,
          });
        }
        kind = classifyThrown(e);
        this.health?.failed();
        if (kind !== 'not-sent') reached = true;
        if (attempt >= this.policy.maxAttempts || !mayRetry(kind, idempotent) || budgetEnd - Date.now() < 100) {
          const what = kind === 'timeout' ? `no reply within ${attemptMs} ms` : kind === 'not-sent' ? 'could not connect' : 'connection lost';
          throw new ShotgunTransportError(
            `Shotgun site ${this.endpoint}: ${what} (${errorCode(e) ?? (e as Error).message}) on ${method} after ${attempt} attempt(s)` +
              (kind !== 'not-sent' && !idempotent ? '; not retried because the call may have been applied' : ''),
            kind,
            { method, url: this.endpoint, attempts: attempt, mayHaveReachedSite: reached, cause: e },
          );
        }
      }
      const delayMs = Math.min(backoffDelayMs(this.policy, attempt - 1, retryAfter), Math.max(0, budgetEnd - Date.now() - 100));
      this.opts.onRetry?.({ method, attempt, kind, status, delayMs });
      await sleep(delayMs);
    }
  }
}
