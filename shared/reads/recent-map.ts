// A bounded in-memory map of what a container learnt most recently (auth verdicts, verified views): keeping a key makes it the newest; beyond `max` entries the oldest go.

export class RecentMap<K, V> extends Map<K, V> {
  constructor(private readonly max: number) {
    super();
  }

  /** Sets `key` as the newest entry, dropping the oldest ones beyond the bound. */
  keep(key: K, value: V): void {
    this.delete(key);
    this.set(key, value);
    while (this.size > this.max) this.delete(this.keys().next().value!);
  }
}
