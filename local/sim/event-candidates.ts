// Which EventLogEntry rows a read over a site with a synthesized history could match: the id range its filters pin, and only as much history as it can use.
import { isGroup, type ReadParams } from '../../shared/site/index.js';
import type { EntityRecord } from '../../shared/semantics/index.js';
import { HISTORY_SCAN } from './event-history.js';
import type { SiteStore } from './store.js';

/**
 * The candidate rows of an EventLogEntry read when the store has a history (local/sim/event-history.ts). The top-level
 * id conditions (`is`, `in`, `greater_than`, `less_than`, `between`) bound the range. A read filtered on nothing else
 * and ordered by id (or created_at, which follows id) gets exactly the history rows its page needs; any other read
 * sees at most HISTORY_SCAN history rows, those nearest the start of its order, and every real row in range.
 */
export function eventCandidates(store: SiteStore, rp: ReadParams): readonly EntityRecord[] {
  let after = Number.NEGATIVE_INFINITY;
  let before = Number.POSITIVE_INFINITY;
  let others = rp.filters.logical_operator !== 'and';
  for (const c of rp.filters.conditions) {
    const v = isGroup(c) ? [] : c.values;
    if (isGroup(c) || c.path !== 'id' || !v.every((x) => typeof x === 'number')) {
      others = true;
      continue;
    }
    const ids = v as number[];
    if (c.relation === 'is' && ids.length === 1) {
      const rec = store.get('EventLogEntry', ids[0]);
      return rec ? [rec] : [];
    }
    if (c.relation === 'in') {
      return ids.map((id) => store.get('EventLogEntry', id)).filter((r) => r !== undefined);
    }
    if (c.relation === 'greater_than' && ids.length === 1) after = Math.max(after, ids[0]);
    else if (c.relation === 'less_than' && ids.length === 1) before = Math.min(before, ids[0]);
    else if (c.relation === 'between' && ids.length === 2) {
      after = Math.max(after, ids[0] - 1);
      before = Math.min(before, ids[1] + 1);
    } else others = true;
  }
  const sort = rp.sorts?.[0];
  const byId = !sort || sort.field_name === 'id' || sort.field_name === 'created_at';
  const newestFirst = byId && sort?.direction === 'desc';
  const page = rp.paging.entities_per_page * rp.paging.current_page;
  // One more row than the page needs: a paged read learns there is a next page.
  const limit = others || !byId || (rp.sorts?.length ?? 0) > 1 ? HISTORY_SCAN : Math.min(page + 1, HISTORY_SCAN);
  return store.eventRows(after, before, limit, newestFirst);
}
