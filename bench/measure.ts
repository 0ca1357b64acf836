// Benchmark measurement: run an async call repeatedly (optionally concurrently), report p50/p99 latency and throughput.

export interface Measurement {
  n: number;
  p50: number;
  p99: number;
  mean: number;
  /** Completed calls per second over the whole run. */
  rps: number;
}

export function percentile(sortedMs: readonly number[], p: number): number {
  if (!sortedMs.length) return NaN;
  const i = Math.min(sortedMs.length - 1, Math.max(0, Math.ceil((p / 100) * sortedMs.length) - 1));
  return sortedMs[i];
}

/** Runs `fn` `iterations` times over `concurrency` workers after `warmup` untimed calls. Bounded by count, never by time. */
export async function measure(fn: () => Promise<unknown>, opts: { iterations: number; concurrency?: number; warmup?: number }): Promise<Measurement> {
  for (let i = 0; i < (opts.warmup ?? 5); i++) await fn();
  const conc = Math.max(1, opts.concurrency ?? 1);
  const times: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (next < opts.iterations) {
        next++;
        const s = performance.now();
        await fn();
        times.push(performance.now() - s);
      }
    }),
  );
  const wall = performance.now() - t0;
  times.sort((a, b) => a - b);
  return {
    n: times.length,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    mean: times.reduce((a, b) => a + b, 0) / times.length,
    rps: (times.length / wall) * 1000,
  };
}

export const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

export function table(header: string[], rows: Array<Array<string | number>>): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}
