// Quarantines that heal: a quarantined type's evidence (the request its mismatch was caught on, its suspect entities) re-checked against the site after its next reconcile pass and on a backoff after that; the quarantine lifts once everything matches.
//
// docs/shadow.md "Healing". Runs in the reconciler after each pass. A type is re-checked when a pass has just scanned
// it (the first re-check waits for that: a pass repairs what the event log did not carry) or when its backoff
// (RECHECK_BACKOFF) has come. The request is replayed through ShadowVerifier.recheck (cache vs site now; a difference
// made only of stale entities is repaired and compared once more); suspects are compared field by field with the
// validator's comparison. A type with neither kept (a summary too large to keep) waits for `fpt-cache validate`.
import type { ShadowMethod } from './shadow-check.js';
import type { QuarantineEntry, ShadowLedger } from './shadow-ledger.js';
import type { ShadowMetrics } from './shadow-metrics.js';

export interface QuarantineHealerDeps {
  ledger: Pick<ShadowLedger, 'quarantinedEntries' | 'clear' | 'recheckLater'>;
  /** The cache's answer to the request now against the site's (ShadowVerifier.recheck). */
  recheck(method: ShadowMethod, type: string, params: Record<string, unknown>): Promise<'match' | 'differ' | 'skipped'>;
  /** How many of `ids` still differ between the site and the cache (active and retired, field by field). */
  suspectsDiffering(type: string, ids: number[]): Promise<number>;
  metrics?: Pick<ShadowMetrics, 'lifted'>;
  log?: (message: string, details?: Record<string, unknown>) => void;
  now?: () => number;
}

export interface HealOutcome {
  checked: string[];
  lifted: string[];
  waiting: string[];
}

export class QuarantineHealer {
  constructor(private readonly d: QuarantineHealerDeps) {}

  /** Re-checks the quarantined types that are due: `scanned` are the types the reconcile pass just scanned. */
  async run(scanned: ReadonlySet<string>): Promise<HealOutcome> {
    const now = this.d.now ?? Date.now;
    const out: HealOutcome = { checked: [], lifted: [], waiting: [] };
    for (const q of await this.d.ledger.quarantinedEntries()) {
      const due = q.recheckAt === undefined ? scanned.has(q.type) : now() >= q.recheckAt;
      if (!due || (!q.request && !q.suspects.length)) {
        out.waiting.push(q.type);
        continue;
      }
      out.checked.push(q.type);
      if (await this.clean(q)) {
        if (await this.d.ledger.clear(q.type, 'recheck')) {
          out.lifted.push(q.type);
          this.d.log?.(`${q.type} is served from the cache again: its shadow mismatch re-checked clean`, {
            type: q.type,
            shape: q.shape,
            since: q.since,
            rechecks: q.rechecks,
          });
        }
      } else {
        const at = await this.d.ledger.recheckLater(q.type, q.rechecks, now());
        this.d.log?.(`${q.type} stays quarantined: its re-check still differs`, { type: q.type, rechecks: q.rechecks + 1, next: new Date(at).toISOString() });
      }
    }
    this.d.metrics?.lifted(out.lifted.length);
    return out;
  }

  private async clean(q: QuarantineEntry): Promise<boolean> {
    if (q.request && (await this.d.recheck(q.request.method, String(q.request.params.type), q.request.params)) === 'differ') return false;
    return !q.suspects.length || (await this.d.suspectsDiffering(q.type, q.suspects)) === 0;
  }
}
