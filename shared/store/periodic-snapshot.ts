// A value reloaded at most every `maxAgeMs`, shared by concurrent callers: how the read path sees state-table facts (readiness, quarantine) cheaply.

/** Returns a getter that reloads through `load` when the last load is older than `maxAgeMs`; a failed load is retried on the next call. */
export function periodicSnapshot<T>(load: () => Promise<T>, maxAgeMs: number, now: () => number = Date.now): () => Promise<T> {
  let at = -Infinity;
  let current: Promise<T> | undefined;
  return () => {
    if (!current || now() - at > maxAgeMs) {
      at = now();
      const p = load();
      p.catch(() => {
        if (current === p) current = undefined;
      });
      current = p;
    }
    return current;
  };
}
