// The site's own Pages (the web UI's saved pages): a few always present, as site configuration, with their last_accessed stamps; export_page over them.
//
// Hosted sites keep a Page per saved view of the web UI and stamp `last_accessed` when someone opens it; the API can
// read and create Pages, and `export_page` exports one as CSV when the site has the export service, which is not
// generally available ("This functionality is currently not available", or "Export for Page id=N not available").
// The sim models a site without it (ASSUMPTION: the exported CSV's exact columns are unknown).
import { ErrorCode, ShotgunFault, formatDateTime } from '../../shared/site/index.js';
import type { SiteStore } from './store.js';

const SITE_PAGES = [
  { name: 'Shots', entity_type: 'Shot', page_type: 'entity_list' },
  { name: 'Assets', entity_type: 'Asset', page_type: 'entity_list' },
  { name: 'My Tasks', entity_type: 'Task', page_type: 'entity_list' },
] as const;

/** Creates the site's Pages when missing (no events: site configuration, like the script users). */
export function ensureSitePages(store: SiteStore, now: () => Date): void {
  const have = new Set(store.all('Page').map((p) => p.values.name));
  const at = formatDateTime(now());
  for (const p of SITE_PAGES) {
    if (have.has(p.name)) continue;
    store.insert({ type: 'Page', id: store.allocateId('Page'), retired: false, values: { ...p, last_accessed: at, created_at: at, updated_at: at } });
  }
}

/** export_page(page_id, format, layout_name): the site's checks, then "not available" (no export service). */
export function exportPage(store: SiteStore, params: unknown): never {
  const p = (typeof params === 'object' && params !== null ? params : {}) as Record<string, unknown>;
  if (p.page_id === undefined || p.page_id === null) throw new ShotgunFault("API export_page() 'page_id' missing", ErrorCode.API);
  if (p.format === undefined || p.format === null) throw new ShotgunFault("API export_page() 'format' missing", ErrorCode.API);
  const id = Number(p.page_id);
  const page = Number.isInteger(id) ? store.get('Page', id) : undefined;
  if (!page || page.retired) throw new ShotgunFault(`API export_page() Page id=${String(p.page_id)} does not exist`, ErrorCode.RECORD_NOT_FOUND);
  throw new ShotgunFault(`Export for Page id=${id} not available`, ErrorCode.API);
}
