// Paging: which slice of the sorted matches a `read` returns, and the paging_info its flags ask for.
import type { Paging, ReadResult } from '../site/index.js';

export type PagingInfo = NonNullable<ReadResult['paging_info']>;

/** The [start, end) indexes of page `current_page` (1-based) over `total` sorted matches. */
export function pageBounds(total: number, paging: Paging): [number, number] {
  const start = Math.min(total, (paging.current_page - 1) * paging.entities_per_page);
  return [start, Math.min(total, start + paging.entities_per_page)];
}

/**
 * paging_info by flag: return_paging_info_without_counts -> {has_next_page}; else return_paging_info ->
 * {entity_count, current_page, entities_per_page, page_count}; neither -> undefined (the key is omitted).
 */
export function pagingInfo(
  flags: { return_paging_info?: boolean; return_paging_info_without_counts?: boolean },
  total: number,
  paging: Paging,
): PagingInfo | undefined {
  if (flags.return_paging_info_without_counts === true) {
    return { has_next_page: paging.current_page * paging.entities_per_page < total };
  }
  if (flags.return_paging_info === true) {
    return {
      entity_count: total,
      current_page: paging.current_page,
      entities_per_page: paging.entities_per_page,
      page_count: Math.ceil(total / paging.entities_per_page),
    };
  }
  return undefined;
}
