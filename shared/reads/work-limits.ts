// The bounds on the work one read may ask of the cache: filter values (`in` / id lists), filter conditions, page size; over a bound the read passes to the site with the reason.
//
// Checked before anything else on the read path (no credential check, no store read, no engine work): a request of
// any size or shape costs the cache one walk over its filters at most, then it is the site's to answer.

/** Most values all of a read's filter conditions may name together (an `in` list of ids counts each id). */
export const MAX_FILTER_VALUES = 2_000;
/** Most filter conditions (leaves and groups) in one read. */
export const MAX_FILTER_CONDITIONS = 500;
/** Largest page the cache builds (the site's own cap: 500 entities per page). */
export const MAX_PAGE_SIZE = 500;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Why the read exceeds a bound (`limit:*`), or undefined when it is within every one. */
export function workLimitReason(params: unknown): string | undefined {
  if (!isObj(params)) return undefined;
  let values = 0;
  let conditions = 0;
  const stack: unknown[] = [params.filters];
  while (stack.length) {
    const f = stack.pop();
    if (Array.isArray(f)) {
      for (const c of f) stack.push(c);
      continue;
    }
    if (!isObj(f)) continue;
    conditions++;
    if (conditions > MAX_FILTER_CONDITIONS) return 'limit:filters';
    if (Array.isArray(f.conditions)) stack.push(f.conditions);
    if (Array.isArray(f.filters)) stack.push(f.filters);
    if (Array.isArray(f.values)) {
      for (const v of f.values) values += Array.isArray(v) ? v.length : 1;
      if (values > MAX_FILTER_VALUES) return 'limit:in-list';
    }
  }
  const paging = isObj(params.paging) ? params.paging : undefined;
  const perPage = paging?.entities_per_page;
  if (typeof perPage === 'number' && perPage > MAX_PAGE_SIZE) return 'limit:page-size';
  return undefined;
}
