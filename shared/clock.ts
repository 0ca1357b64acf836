// The one time source of the cache's time-bound behaviour (site health, outage grace, store freshness, the poller's lease, backoff): the real clock in production, a virtual one in tests.

/** What a component reads the time from and waits on. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Resolves once `ms` milliseconds have passed on this clock. */
  sleep(ms: number): Promise<void>;
}

/** The real clock: Date.now and setTimeout. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms))),
};
