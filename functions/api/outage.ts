// Outage mode: while the site is down, reads the cache can answer for callers verified before it went down are served marked stale, within OUTAGE_GRACE_S of the last poll.
import type { ApiContext } from './context.js';

/** OUTAGE_GRACE_S's default: four hours. */
export const DEFAULT_OUTAGE_GRACE_S = 4 * 3600;

export interface OutageMode {
  /** Verdicts and views still valid after this instant (epoch ms) count. */
  after: number;
  /** Seconds since the last successful poll: how stale every answer may be. */
  ageS: number;
}

/**
 * Outage mode for this request, or undefined: the site must be down (this container's breaker is open, or the poller
 * found it down; `siteFailed`: this request just got an outage answer from it), the grace must be on, and the last
 * successful poll within it.
 */
export async function outageMode(ctx: ApiContext, siteFailed = false): Promise<OutageMode | undefined> {
  const cache = ctx.cache;
  const graceMs = cache?.outage?.graceMs ?? 0;
  if (!cache || graceMs <= 0) return undefined;
  let state;
  try {
    state = await cache.freshness.pollState();
  } catch {
    return undefined;
  }
  const down = siteFailed || ctx.client.health?.isUp() === false || state.siteDownSince !== null;
  if (!down || state.lastPollAgeMs === null || state.lastPollAgeMs > graceMs) return undefined;
  return { after: ctx.clock.now() - graceMs, ageS: Math.floor(state.lastPollAgeMs / 1000) };
}

/** The headers a reply served in outage mode carries. */
export function staleHeaders(ageS: number): Record<string, string> {
  return { 'x-fpt-cache-stale': 'site-unavailable', 'x-fpt-cache-stale-seconds': String(ageS) };
}

/** Whether a passed-through reply is the site being down (a gateway status): outage mode may answer instead. */
export function isOutageStatus(status: number | undefined): boolean {
  return status === 502 || status === 503 || status === 504;
}
