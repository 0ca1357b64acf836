// The site's circuit breaker at its real defaults (opens after 3 outage failures over 1 s; probes backed off from 250 ms, doubling, jittered in [cap/2, cap], capped at 5 s) on a virtual clock, through the client against the simulated site in maintenance: every probe at its exact instant and not 1 ms before, the waits growing to the cap, recovery noticed at the next probe, and the backoff starting over after it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimSite, type SimSite } from '../../local/sim/server.js';
import { DEFAULT_SCRIPT } from '../../local/sim/credentials.js';
import { ShotgunClient, SiteHealth } from '../../shared/site/index.js';
import { VirtualClock } from '../support/virtual-clock.js';

/** The defaults of shared/site/site-health.ts, as documented in docs/operations.md. */
const BASE_MS = 250;
const CAP_MS = 5_000;
/** The jitter's draws, in order (a cycle: low, high, middle). */
const DRAWS = [0.1, 0.9, 0.5];

let sim: SimSite;
beforeAll(async () => {
  sim = await startSimSite({ port: 0, entities: 20, seed: 3 });
});
afterAll(() => sim?.close());

function rig() {
  const clock = new VirtualClock(Date.parse('2026-01-05T09:00:00Z'), { frozen: true });
  let draw = 0;
  const health = new SiteHealth({ clock, random: () => DRAWS[draw++ % DRAWS.length] });
  const client = new ShotgunClient({ url: sim.url, scriptName: DEFAULT_SCRIPT.name, scriptKey: DEFAULT_SCRIPT.key, health, retry: { maxAttempts: 1 } });
  const requests = () => Number(sim.control.stats().requests);
  /** One call at the clock's instant: whether it reached the site, and whether it succeeded. */
  const call = async () => {
    const before = requests();
    const ok = await client.call('info').then(
      () => true,
      () => false,
    );
    return { reached: requests() > before, ok };
  };
  return { clock, health, call };
}

/** The wait the breaker draws for probe round `round` with the `n`-th draw. */
const expectedWait = (round: number, n: number) => {
  const cap = Math.min(CAP_MS, BASE_MS * 2 ** round);
  return Math.floor(cap / 2 + DRAWS[n % DRAWS.length] * (cap / 2));
};

describe('the circuit breaker on a virtual clock at its defaults', () => {
  it('spaces its probes by a jittered backoff growing to 5 s, notices recovery at the next probe, and starts over after it', async () => {
    const { clock, health, call } = rig();
    sim.chaos.apply({ down: 'maintenance' });
    // Failures spanning less than a second do not open it, however many; the next one, 1 s after the first, does.
    expect(await call()).toEqual({ reached: true, ok: false });
    clock.advance(999);
    expect(await call()).toEqual({ reached: true, ok: false });
    expect(await call()).toEqual({ reached: true, ok: false });
    expect(health.isUp()).toBe(true);
    clock.advance(1);
    expect(await call()).toEqual({ reached: true, ok: false });
    expect(health.isUp()).toBe(false);

    const waits: number[] = [];
    let draw = 0;
    for (let round = 0; round < 8; round++) {
      const wait = expectedWait(round, draw++);
      waits.push(wait);
      // Refused (no call reaches the site) until exactly the drawn instant.
      clock.advance(wait - 1);
      expect(await call()).toEqual({ reached: false, ok: false });
      clock.advance(1);
      expect(await call()).toEqual({ reached: true, ok: false });
    }
    // Jittered (never the bare cap every time), growing, and never above the cap; at the cap from the 5th round on.
    expect(waits).toEqual([137, 475, 750, 1100, 3800, 3750, 2750, 4750]);
    expect(Math.max(...waits)).toBeLessThanOrEqual(CAP_MS);
    expect(health.stats.probes).toBe(8);

    // The site back: the next probe (within the 5 s cap) closes the breaker.
    sim.chaos.clear();
    const wait = expectedWait(8, draw++);
    clock.advance(wait - 1);
    expect(await call()).toEqual({ reached: false, ok: false });
    clock.advance(1);
    expect(await call()).toEqual({ reached: true, ok: true });
    expect(health.isUp()).toBe(true);
    expect(health.stats.recoveries).toBe(1);

    // Down again: it reopens as before, and its backoff starts over from 250 ms.
    sim.chaos.apply({ down: 'maintenance' });
    for (let i = 0; i < 2; i++) expect(await call()).toEqual({ reached: true, ok: false });
    clock.advance(1_000);
    expect(await call()).toEqual({ reached: true, ok: false });
    expect(health.isUp()).toBe(false);
    const first = expectedWait(0, draw);
    expect(first).toBeLessThanOrEqual(BASE_MS);
    clock.advance(first - 1);
    expect(await call()).toEqual({ reached: false, ok: false });
    clock.advance(1);
    expect(await call()).toEqual({ reached: true, ok: false });
    sim.chaos.clear();
  });
});
