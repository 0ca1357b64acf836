// The rows an id-ordered read of the sim needs: its candidates scanned in id order until the asked page (and one more row) is matched, not every row of the type.
import { readMatcher, type EntityRecord, type ReadContext } from '../../shared/semantics/index.js';
import type { ReadParams } from '../../shared/site/index.js';
import { readsAsDefault, type SimSemantics } from './site-semantics.js';

/** Candidates are prepared (permission view, caller fields) and matched this many at a time, at least. */
const CHUNK = 1000;

/**
 * The prefix of `candidates` (ascending id, as the store keeps them) that holds the first matches of `rp` up to the end
 * of its page and one more (has_next_page), prepared by `prepare`; every candidate, prepared, when the read needs
 * more than that: another order, a count (return_paging_info), or filter and order rules off their defaults. Without
 * it an import's keyset page (id > n, id asc, 500) filtered and sorted the whole rest of the type: quadratic in size.
 */
export function readPrefix(
  ctx: ReadContext,
  sem: SimSemantics,
  rp: ReadParams,
  candidates: readonly EntityRecord[],
  prepare: (rows: readonly EntityRecord[]) => EntityRecord[],
): readonly EntityRecord[] {
  const sorts = rp.sorts ?? [];
  const idAsc = sorts.length === 0 || (sorts.length === 1 && sorts[0].field_name === 'id' && sorts[0].direction === 'asc');
  const need = rp.paging.entities_per_page * rp.paging.current_page + 1;
  if (!idAsc || rp.return_paging_info || !readsAsDefault(sem) || candidates.length <= need + CHUNK) return prepare(candidates);
  const matches = readMatcher(ctx, rp);
  const out: EntityRecord[] = [];
  let matched = 0;
  for (let i = 0; i < candidates.length && matched < need; i += Math.max(CHUNK, need)) {
    for (const r of prepare(candidates.slice(i, i + Math.max(CHUNK, need)))) {
      out.push(r);
      if (matches(r) && ++matched >= need) break;
    }
  }
  return out;
}
