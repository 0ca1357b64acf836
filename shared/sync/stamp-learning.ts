// Measuring how the site stamps writes during normal sync: after a back-reference or a revive, did the entity's updated_at move? Folded into shared/store/site-behaviour.ts.
//
// The consumer re-reads the owner of a back-reference Change (and a revived entity) anyway; its updated_at, compared
// with the event's created_at (both the site's clock, to the second), says what the write did:
// - older than the event's second: the write did not move it. Proof of `keeps`, whatever else happened.
// - at the event's second or later: moved, unless another write touched the entity then or since. Such a write is
//   looked up in the event log (one read, made only while the fact is still unknown): any event of the entity at or
//   after that second that is neither a back-reference nor the revive itself makes the observation ambiguous, and it is
//   dropped. A write with events off cannot be seen there, which is why a bump needs PROOF_OWNERS distinct entities.
import { PROOF_OWNERS, type SiteBehaviour, type StampFact, type StampKind } from '../store/index.js';
import { formatDateTime } from '../site/index.js';
import type { EventRow } from './event-log.js';
import { isObj } from './event-values.js';

export interface StampLearnerDeps {
  behaviour: Pick<SiteBehaviour, 'fact' | 'observe'>;
  events: { writesOf(type: string, id: number, sinceIso: string): Promise<EventRow[]> };
  log?: (message: string, details?: Record<string, unknown>) => void;
}

const seconds = (v: unknown): number => (typeof v === 'string' ? Math.floor(Date.parse(v) / 1000) : NaN);

/** Whether an event row is part of the write being observed rather than a separate write of the entity. */
function partOf(kind: StampKind, row: EventRow, observed: EventRow): boolean {
  if (row.id === observed.id) return true;
  const meta = isObj(row.meta) ? row.meta : {};
  if (meta.actual_attribute_changed !== undefined) return true;
  return kind === 'revive' && (/_Revival$/.test(row.event_type) || (row.attribute_name === 'retirement_date' && meta.new_value === null));
}

export class StampLearner {
  /** Decided facts, per kind (a `keeps` is final; a `bumps` is re-checked by every observation, which costs no read). */
  private readonly decided = new Map<StampKind, StampFact['fact']>();

  constructor(private readonly d: StampLearnerDeps) {}

  async observe(kind: StampKind, ev: EventRow, owner: { type: string; id: number }, siteUpdatedAt: unknown): Promise<void> {
    try {
      const at = seconds(ev.created_at);
      const updated = seconds(siteUpdatedAt);
      if (!Number.isFinite(at) || !Number.isFinite(updated)) return;
      const bumped = updated >= at;
      const known = this.decided.get(kind);
      if (known === 'keeps' || (known === 'bumps' && bumped)) return;
      if (bumped) {
        const cur = await this.d.behaviour.fact(kind);
        if (cur.fact !== 'unknown' || cur.owners.includes(`${owner.type}#${owner.id}`) || cur.owners.length >= PROOF_OWNERS) {
          if (cur.fact !== 'unknown') this.decided.set(kind, cur.fact);
          return;
        }
        const since = formatDateTime(new Date((at - 1) * 1000));
        const other = (await this.d.events.writesOf(owner.type, owner.id, since)).filter((r) => seconds(r.created_at) >= at && !partOf(kind, r, ev));
        if (other.length) return;
      }
      const next = await this.d.behaviour.observe({ kind, owner: `${owner.type}#${owner.id}`, bumped, eventId: ev.id });
      if (next.fact !== 'unknown') {
        if (this.decided.get(kind) !== next.fact) this.d.log?.('learned how the site stamps writes', { kind, fact: next.fact, evidence: next.evidence });
        this.decided.set(kind, next.fact);
      }
    } catch (e) {
      this.d.log?.('could not record a write-stamp observation (learned later)', { kind, error: (e as Error).message });
    }
  }
}
