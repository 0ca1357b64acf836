// The site's health, one per site per process: a circuit breaker every caller of the site asks first, probes with jittered backoff while it is down.
//
// Outage-class failures are the ones a down or overloaded site gives: a connection refused or reset, no reply in
// time, HTTP 502/503/504, or an HTML page where JSON was expected (a maintenance page). A 429, a fault body or any
// other status is an answer and proves the site up. After `failureThreshold` outage failures in a row spanning at least
// `openAfterMs` (one flaky reply or a single call's retries never open it), the breaker opens: calls are refused at
// once (the site's own last outage reply is kept, so a pass-through relays it), except one probe at a time, spaced
// by an exponential backoff with jitter capped at `maxProbeMs`: recovery is noticed within that cap (default 5 s,
// under one poll interval of the scheduled poller). The first success closes it.
import { systemClock, type Clock } from '../clock.js';
import type { RawReply } from './shotgun-client.js';

export interface SiteHealthOptions {
  failureThreshold?: number;
  openAfterMs?: number;
  baseProbeMs?: number;
  maxProbeMs?: number;
  /** A probe that never reports (aborted, frozen container) stops blocking the next one after this long. */
  probeTimeoutMs?: number;
  /** The time source (default the real clock). */
  clock?: Clock;
  random?: () => number;
}

export type Admission =
  | { go: true; probe: boolean }
  /** Refused: the site is down. `reply` is the site's own last outage answer (HTTP status, headers, body) when it gave one. */
  | { go: false; reply?: RawReply; downSinceMs: number };

export interface HealthReport {
  state: 'up' | 'down';
  downSince: string | null;
  lastUpAt: string | null;
  consecutiveFailures: number;
  opened: number;
  probes: number;
  refused: number;
  recoveries: number;
}

export class SiteHealth {
  private failures = 0;
  private streakStart = 0;
  private downSince: number | undefined;
  private nextProbeAt = 0;
  private probeStartedAt: number | undefined;
  private probeRound = 0;
  private lastUpAt: number | undefined;
  private lastReply: RawReply | undefined;
  private readonly now: () => number;
  private readonly random: () => number;
  readonly stats = { opened: 0, probes: 0, refused: 0, recoveries: 0 };

  constructor(private readonly o: SiteHealthOptions = {}) {
    const clock = o.clock ?? systemClock;
    this.now = () => clock.now();
    this.random = o.random ?? Math.random;
  }

  /** Whether a call may go to the site now: always while up; while down, one probe when due, else refused. */
  admit(): Admission {
    if (this.downSince === undefined) return { go: true, probe: false };
    const t = this.now();
    const probeLost = this.probeStartedAt !== undefined && t - this.probeStartedAt > (this.o.probeTimeoutMs ?? 35_000);
    if ((this.probeStartedAt === undefined || probeLost) && t >= this.nextProbeAt) {
      this.probeStartedAt = t;
      this.stats.probes++;
      return { go: true, probe: true };
    }
    this.stats.refused++;
    return { go: false, reply: this.lastReply, downSinceMs: this.downSince };
  }

  /** The site answered (anything but an outage-class failure). */
  succeeded(): void {
    if (this.downSince !== undefined) this.stats.recoveries++;
    this.failures = 0;
    this.downSince = undefined;
    this.probeStartedAt = undefined;
    this.probeRound = 0;
    this.lastReply = undefined;
    this.lastUpAt = this.now();
  }

  /** An outage-class failure; `reply` is the site's HTTP reply when there was one (a 503 page). */
  failed(reply?: RawReply): void {
    const t = this.now();
    if (reply) this.lastReply = reply;
    if (this.failures === 0) this.streakStart = t;
    this.failures++;
    if (this.downSince === undefined) {
      if (this.failures < (this.o.failureThreshold ?? 3) || t - this.streakStart < (this.o.openAfterMs ?? 1_000)) return;
      this.downSince = this.streakStart;
      this.stats.opened++;
      this.probeRound = 0;
    }
    this.probeStartedAt = undefined;
    this.nextProbeAt = t + this.backoffMs(this.probeRound++);
  }

  /** True unless the breaker is open. */
  isUp(): boolean {
    return this.downSince === undefined;
  }

  /** When the current outage began (epoch ms), or undefined while the site is up. */
  outageSince(): number | undefined {
    return this.downSince;
  }

  /**
   * Backoff before retry number `round` (0 first): uniform in [cap/2, cap] with cap = min(maxProbeMs, baseProbeMs * 2^round),
   * so callers spread out and the wait never exceeds the cap. Background work (poller, reconcile, validation) waits this long between tries.
   */
  backoffMs(round: number): number {
    const cap = Math.min(this.o.maxProbeMs ?? 5_000, (this.o.baseProbeMs ?? 250) * 2 ** Math.min(round, 20));
    return Math.floor(cap / 2 + this.random() * (cap / 2));
  }

  report(): HealthReport {
    const iso = (t: number | undefined) => (t === undefined ? null : new Date(t).toISOString());
    return {
      state: this.isUp() ? 'up' : 'down',
      downSince: iso(this.downSince),
      lastUpAt: iso(this.lastUpAt),
      consecutiveFailures: this.failures,
      ...this.stats,
    };
  }
}

/** HTTP statuses of a site (or its gateway) that is down or overloaded. */
const OUTAGE_STATUSES: ReadonlySet<number> = new Set([502, 503, 504]);

/** Whether an HTTP reply from the site is an outage (a gateway error, or an HTML page where JSON-RPC answers). */
export function isOutageReply(r: { status: number; headers: Record<string, string>; body: Buffer }): boolean {
  if (OUTAGE_STATUSES.has(r.status)) return true;
  if (r.status !== 200) return false;
  const type = r.headers['content-type'] ?? '';
  return type.includes('text/html') || r.body.subarray(0, 16).toString('utf8').trimStart().startsWith('<');
}

const registry = new WeakMap<Clock, Map<string, SiteHealth>>();

/** The one SiteHealth of a site (by origin) on a clock in this process: every client of the same site shares it (production has one clock). */
export function siteHealthFor(url: string, options: SiteHealthOptions = {}): SiteHealth {
  const clock = options.clock ?? systemClock;
  const origin = new URL(url).origin;
  let sites = registry.get(clock);
  if (!sites) registry.set(clock, (sites = new Map()));
  let h = sites.get(origin);
  if (!h) sites.set(origin, (h = new SiteHealth({ ...options, clock })));
  return h;
}
