// A virtual Clock for tests: follows real time (so real sockets, schedulers and DynamoDB keep working) or stands frozen, and jumps forward on demand; its sleeps end when its time reaches them either way.
import type { Clock } from '../../shared/clock.js';

interface Sleeper {
  at: number;
  wake: () => void;
}

export class VirtualClock implements Clock {
  /** Virtual minus real time while following. */
  private offset: number;
  /** The instant the clock stands at while frozen. */
  private frozenAt: number | undefined;
  private readonly sleepers = new Set<Sleeper>();
  private timer: NodeJS.Timeout | undefined;
  /** Every wait asked of this clock (ms), in order: what the code under test backed off by. */
  readonly slept: number[] = [];
  private readonly jump: boolean;

  /** `frozen`: stands still from the start; `jump`: every wait moves the clock to its end at once (the code under test never really waits). */
  constructor(start = Date.now(), o: { frozen?: boolean; jump?: boolean } = {}) {
    this.offset = start - Date.now();
    if (o.frozen) this.frozenAt = start;
    this.jump = o.jump ?? false;
  }

  now(): number {
    return this.frozenAt ?? Date.now() + this.offset;
  }

  sleep(ms: number): Promise<void> {
    this.slept.push(ms);
    if (this.jump) {
      this.advance(Math.max(0, ms));
      return Promise.resolve();
    }
    return new Promise<void>((wake) => {
      this.sleepers.add({ at: this.now() + Math.max(0, ms), wake });
      this.wakeDue();
    });
  }

  /** Moves the clock `ms` forward (frozen or following); waits that are due end. */
  advance(ms: number): void {
    if (this.frozenAt !== undefined) this.frozenAt += ms;
    else this.offset += ms;
    this.wakeDue();
  }

  /** Sets the clock to `t` (forward or back). */
  set(t: number): void {
    this.advance(t - this.now());
  }

  /** Stops the clock where it is: only advance() and set() move it until resume(). */
  freeze(): void {
    this.frozenAt = this.now();
    this.wakeDue();
  }

  /** Follows real time again from where it stands. */
  resume(): void {
    if (this.frozenAt === undefined) return;
    this.offset = this.frozenAt - Date.now();
    this.frozenAt = undefined;
    this.wakeDue();
  }

  /** Ends the waits that are due, and (while following) arms one real timer for the next. */
  private wakeDue(): void {
    const t = this.now();
    for (const s of [...this.sleepers]) {
      if (s.at > t) continue;
      this.sleepers.delete(s);
      s.wake();
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.frozenAt !== undefined || this.sleepers.size === 0) return;
    const next = Math.min(...[...this.sleepers].map((s) => s.at));
    this.timer = setTimeout(() => this.wakeDue(), Math.max(1, next - t)).unref();
  }
}
