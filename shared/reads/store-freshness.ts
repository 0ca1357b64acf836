// Whether the store is provably fresh for a read: the poller saved its cursor recently, read the log to its end, and no queued event of the read's types waits to be applied.
//
// A cached answer is "as of the last poll". That holds only while the poller polls (a dead poller, an event log that
// fails, a site that is down stop it: the cursor's `cursorAt` ages) and once what it read is applied (markers of
// shared/store/pending-events.ts). Otherwise the read passes (`store-stale:*`), or, while the site is down, is served
// marked stale within the outage grace (functions/api/read-route.ts). A container trusts only polls saved after it
// started: what a dead stack's poller saw proves nothing about what the site logged while it was down. The lease item and the markers are read at
// most every `cacheMs` per container: an answer may be that much older than the last poll, within the poll interval
// every cached answer already lags by.
import { systemClock, type Clock } from '../clock.js';
import type { SiteSchema } from '../schema/index.js';
import { dependentTypes } from '../semantics/index.js';
import { ANY_TYPE } from '../store/index.js';
import type { LeaseRecord } from '../sync/index.js';

/** The cached types a read's freshness depends on (semantics dependentTypes): the answer's links are checked on the answer itself (CachedReads.staleLinks). */
export function freshnessTypes(schema: Pick<SiteSchema, 'field' | 'hasType'>, params: unknown): string[] {
  return dependentTypes(schema, params).filter((t) => schema.hasType(t));
}

export type Freshness = { fresh: true; lastPollAgeMs: number } | { fresh: false; reason: string; lastPollAgeMs: number | null };

export interface StoreFreshnessOptions {
  lease: () => Promise<Pick<LeaseRecord, 'cursorAt' | 'caughtUp' | 'siteDownSince' | 'gapAt'>>;
  /** The first of these keys with queued, unapplied events (PendingEvents.firstPending). */
  firstPending: (keys: readonly string[]) => Promise<string | undefined>;
  /** How recent the last successful poll must be (STORE_MAX_LAG_MS, default 15 s). */
  maxLagMs: number;
  /**
   * Polls saved before this instant (the container's start) prove nothing: after a restart (or a crash of the whole
   * stack) the store may miss what the site logged since; reads pass until a poller has polled again.
   */
  since?: number;
  cacheMs?: number;
  /** The time source (default the real clock). */
  clock?: Clock;
}

export const DEFAULT_STORE_MAX_LAG_MS = 15_000;

export class StoreFreshness {
  private lease?: { at: number; value: Promise<Pick<LeaseRecord, 'cursorAt' | 'caughtUp' | 'siteDownSince' | 'gapAt'>> };
  private readonly pending = new Map<string, { at: number; value: Promise<boolean> }>();
  private readonly now: () => number;

  constructor(private readonly o: StoreFreshnessOptions) {
    const clock = o.clock ?? systemClock;
    this.now = () => clock.now();
  }

  /** Fresh for a read of `types`, or why not. */
  async check(types: readonly string[]): Promise<Freshness> {
    const lease = await this.leaseRecord();
    const t = this.now();
    const age = lease.cursorAt === null ? null : Math.max(0, t - lease.cursorAt);
    if (age === null) return { fresh: false, reason: 'store-stale:never-polled', lastPollAgeMs: null };
    if (age > this.o.maxLagMs) return { fresh: false, reason: 'store-stale:last-poll', lastPollAgeMs: age };
    if (this.o.since !== undefined && lease.cursorAt! < this.o.since) return { fresh: false, reason: 'store-stale:not-polled-since-start', lastPollAgeMs: age };
    if (!lease.caughtUp) return { fresh: false, reason: 'store-stale:catching-up', lastPollAgeMs: age };
    // The types were taken out of service when the gap was found; a readiness snapshot taken before may not show it yet.
    if (lease.gapAt !== null && t - lease.gapAt < this.o.maxLagMs) return { fresh: false, reason: 'store-stale:rebuilding', lastPollAgeMs: age };
    const keys = [...new Set([...types, ANY_TYPE])];
    const flags = await Promise.all(keys.map((k) => this.isPending(k, t)));
    const waiting = keys.find((_, i) => flags[i]);
    if (waiting) return { fresh: false, reason: `store-stale:pending:${waiting}`, lastPollAgeMs: age };
    return { fresh: true, lastPollAgeMs: age };
  }

  /** Milliseconds since the last successful poll (null: never), and since when the poller finds the site down. */
  async pollState(): Promise<{ lastPollAgeMs: number | null; siteDownSince: number | null }> {
    const lease = await this.leaseRecord();
    return { lastPollAgeMs: lease.cursorAt === null ? null : Math.max(0, this.now() - lease.cursorAt), siteDownSince: lease.siteDownSince };
  }

  private leaseRecord(): Promise<Pick<LeaseRecord, 'cursorAt' | 'caughtUp' | 'siteDownSince' | 'gapAt'>> {
    const t = this.now();
    const c = this.lease;
    if (c && t - c.at < (this.o.cacheMs ?? 250)) return c.value;
    const value = this.o.lease();
    const entry = { at: t, value };
    this.lease = entry;
    value.catch(() => {
      if (this.lease === entry) this.lease = undefined;
    });
    return value;
  }

  private isPending(key: string, t: number): Promise<boolean> {
    const c = this.pending.get(key);
    if (c && t - c.at < (this.o.cacheMs ?? 250)) return c.value;
    const value = this.o.firstPending([key]).then((k) => k !== undefined);
    const entry = { at: t, value };
    this.pending.set(key, entry);
    value.catch(() => {
      if (this.pending.get(key) === entry) this.pending.delete(key);
    });
    return value;
  }
}
