// Index-ordered paging: a read ordered by id (its index's order) reads its id-ordered indexes only until its page, and what its reply needs, is found.
//
// byType, byProject and the link slots are sorted by id within their key (shared/store/table-design.ts). A read whose
// order is id ascending (no sort: the site's default) or id descending needs only its first `current_page *
// entities_per_page` matches in that order (one more when has_next_page is asked): those are exactly the first that
// many matches in index order, so each source is read in index order and left as soon as it holds that many matches.
// The reply is then built by the semantics model over what was read, as before: its page is the same rows. A read
// asking for the total count (return_paging_info) still reads everything.
import type { CachedSchema } from '../schema/index.js';
import { idOrder, type EntityRecord } from '../semantics/index.js';
import { ScanTooLarge, addStats, type EntityStore, type OrderedSource, type ReadStats, type StoredEntity } from '../store/index.js';
import type { Access, ReadPlan } from './planner.js';

/** The order a read can be paged in from its indexes, and how many of its matches (in that order) its reply needs. */
export interface IndexOrder {
  desc: boolean;
  needed: number;
}

/** Accesses whose candidates come from id-ordered indexes (a semi-join's from link slots, or its fallback's). */
const ORDERED_ACCESS: ReadonlySet<Access['kind']> = new Set(['type', 'project', 'link', 'semi']);

/** Most items one Query of an ordered source asks for (DynamoDB stops at 1 MB anyway). */
const MAX_PAGE = 1000;

/**
 * When a read can stop early: its order is id (no sort, sorts on fields that do not exist, or the root's `id` first),
 * its candidates come from id-ordered indexes, and its reply does not carry the total count (return_paging_info
 * without return_paging_info_without_counts); undefined otherwise.
 */
export function indexOrder(schema: CachedSchema, plan: ReadPlan): IndexOrder | undefined {
  const { params, access } = plan;
  if (!ORDERED_ACCESS.has(access.kind)) return undefined;
  // The semantics model checks return_paging_info_without_counts first (docs/semantics.md "Paging").
  const hasNext = params.return_paging_info_without_counts === true;
  if (!hasNext && params.return_paging_info === true) return undefined;
  const order = idOrder(schema.site, params.type, params.sorts);
  if (!order) return undefined;
  const paging = params.paging;
  return { desc: order === 'desc', needed: paging.current_page * paging.entities_per_page + (hasNext ? 1 : 0) };
}

export interface OrderedReadOptions {
  /** More items read than this (all sources together): ScanTooLarge, as for a whole-type or whole-project read. */
  maxScan: number;
  /** What the reads cost is added here. */
  stats: ReadStats;
  /** Called with each page's entities before they are matched: their link facts and deep records into the lookup. */
  admit: (entities: StoredEntity[]) => Promise<void>;
  /** Whether a record is one of the read's matches (the semantics model's predicate over the lookup). */
  matches: (rec: EntityRecord) => boolean;
}

interface Stream {
  source: OrderedSource;
  after?: number;
  done: boolean;
  read: number;
  matched: number;
  entities: StoredEntity[];
}

const sourceKey = (s: OrderedSource): string =>
  s.index === 'type'
    ? `type:${s.type}`
    : s.index === 'project'
      ? `project:${s.type}#${s.projectId}`
      : `link:${s.type}.${s.field}#${s.target.type}#${s.target.id}`;

/**
 * Reads each source in `order` until it holds `order.needed` matches or ends, and returns what was read. Every match
 * among the first `needed` of the union of the sources (in id order) is among the first `needed` of its own source,
 * so the union read holds the reply's rows. Once every source stopped, matches are counted again over the whole
 * lookup (a later page's deep records may decide an earlier row) and a source found short reads on.
 */
export async function readOrdered(store: EntityStore, sources: readonly OrderedSource[], order: IndexOrder, o: OrderedReadOptions): Promise<StoredEntity[]> {
  const unique = new Map(sources.map((s) => [sourceKey(s), s]));
  const streams: Stream[] = [...unique.values()].map((source) => ({ source, done: false, read: 0, matched: 0, entities: [] }));
  let total = 0;
  for (;;) {
    const open = streams.filter((s) => !s.done && s.matched < order.needed);
    if (!open.length) {
      let short = false;
      for (const s of streams) {
        s.matched = s.entities.reduce((n, e) => n + (o.matches(e.record) ? 1 : 0), 0);
        if (!s.done && s.matched < order.needed) short = true;
      }
      if (!short) break;
      continue;
    }
    const pages = await Promise.all(
      open.map((s) => {
        const remaining = order.needed - s.matched;
        // The first page asks for exactly what is missing (every row matching); later ones scale by the rate seen so far.
        const estimate = s.read === 0 ? remaining : Math.ceil((remaining * s.read) / Math.max(1, s.matched));
        const limit = Math.max(1, Math.min(MAX_PAGE, Math.max(remaining, estimate), o.maxScan + 1 - total));
        return store.orderedPage(s.source, { desc: order.desc, after: s.after, limit });
      }),
    );
    for (let i = 0; i < open.length; i++) {
      const s = open[i];
      const page = pages[i];
      addStats(o.stats, page.stats);
      total += page.entities.length;
      if (total > o.maxScan) throw new ScanTooLarge(o.maxScan);
      await o.admit(page.entities);
      for (const e of page.entities) if (o.matches(e.record)) s.matched++;
      s.entities.push(...page.entities);
      s.read += page.entities.length;
      s.after = page.lastId;
      s.done = page.done || page.entities.length === 0;
    }
  }
  const seen = new Set<number>();
  const out: StoredEntity[] = [];
  for (const s of streams)
    for (const e of s.entities)
      if (!seen.has(e.record.id)) {
        seen.add(e.record.id);
        out.push(e);
      }
  return out;
}
