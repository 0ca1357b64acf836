// Deterministic pseudo-random numbers for the sim (mulberry32): seed data and fault/delay draws repeat for a given seed.

export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max] inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** Up to n distinct items, in the order drawn. */
  sample<T>(items: readonly T[], n: number): T[] {
    const out: T[] = [];
    const used = new Set<number>();
    const k = Math.min(n, items.length);
    while (out.length < k) {
      const i = Math.floor(this.next() * items.length);
      if (!used.has(i)) {
        used.add(i);
        out.push(items[i]);
      }
    }
    return out;
  }

  /** A version-4-shaped UUID from the stream. */
  uuid(): string {
    const hex = (n: number) => Array.from({ length: n }, () => Math.floor(this.next() * 16).toString(16)).join('');
    return `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'[Math.floor(this.next() * 4)]}${hex(3)}-${hex(12)}`;
  }
}

/** The same generator as a bare function (tests and benchmarks). */
export function prng(seed: number): () => number {
  const g = new Prng(seed);
  return () => g.next();
}
