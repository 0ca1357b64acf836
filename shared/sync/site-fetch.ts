// Reading cached entities from the site for the sync pipeline: keyset pages, whole entities by id (active and retired), one field, counts.
import type { CachedSchema } from '../schema/index.js';
import type { EntityRecord } from '../semantics/index.js';
import type { ShotgunClient } from '../site/index.js';

/** Entities per read (the site's api_max_entities_per_page). */
export const PAGE_SIZE = 500;
/** Rounds of (active, retired) reads before an id counts as gone (a retire or revive can fall between two reads). */
const MISSING_ROUNDS = 3;

type Row = Record<string, unknown> & { type: string; id: number };
type Cond = { path: string; relation: string; values: unknown[] };

/** Every cached field of a type but `id` (what the import and re-fetches ask for). */
export function cachedFields(schema: CachedSchema, type: string): string[] {
  return Object.keys(schema.site.type(type)?.fields ?? {}).filter((f) => f !== 'id');
}

/** A read reply row -> EntityRecord (links keep the site's {type, id, name}; the store keeps the name). */
export function toRecord(row: Record<string, unknown>, retired: boolean): EntityRecord {
  const { type, id, ...values } = row as Row;
  return { type, id, retired, values };
}

export interface PageQuery {
  type: string;
  retired: boolean;
  /** Ids strictly greater than this (keyset paging: no offset drift while the site changes under the scan). */
  afterId: number;
  fields?: readonly string[];
  /** Extra AND conditions, e.g. updated_at greater_than. */
  where?: Cond[];
  pageSize?: number;
}

export class SiteFetcher {
  constructor(
    private readonly client: ShotgunClient,
    private readonly schema: CachedSchema,
  ) {}

  private async read(
    type: string,
    conditions: Cond[],
    fields: readonly string[],
    retired: boolean,
    pageSize: number,
    sorts = [{ field_name: 'id', direction: 'asc' }],
  ): Promise<Row[]> {
    const r = await this.client.call<{ entities?: Row[] }>('read', {
      type,
      return_fields: fields.length ? [...fields] : ['id'],
      filters: { logical_operator: 'and', conditions },
      return_only: retired ? 'retired' : 'active',
      paging: { entities_per_page: pageSize, current_page: 1 },
      sorts,
    });
    return r?.entities ?? [];
  }

  /** One keyset page, id ascending. Fewer than pageSize rows means the scan is complete. */
  async page(q: PageQuery): Promise<EntityRecord[]> {
    const rows = await this.read(
      q.type,
      [{ path: 'id', relation: 'greater_than', values: [q.afterId] }, ...(q.where ?? [])],
      q.fields ?? cachedFields(this.schema, q.type),
      q.retired,
      q.pageSize ?? PAGE_SIZE,
    );
    return rows.map((r) => toRecord(r, q.retired));
  }

  /** Every id of a type on the site, active (false) and retired (true): keyset pages of `id` only. */
  async ids(type: string): Promise<Map<number, boolean>> {
    const out = new Map<number, boolean>();
    for (const retired of [false, true]) {
      for (let afterId = 0; ;) {
        const page = await this.page({ type, retired, afterId, fields: [] });
        for (const e of page) out.set(e.id, retired);
        if (page.length < PAGE_SIZE) break;
        afterId = page[page.length - 1].id;
      }
    }
    return out;
  }

  /**
   * Whole entities (or `fields` only) by id, active ones first, then the retired ones among the rest. The site has no
   * read of both at once, so an entity revived between the two reads is in neither: ids missing after both are asked
   * again (active, then retired) up to MISSING_ROUNDS times before they count as gone.
   */
  async byIds(type: string, ids: readonly number[], fields?: readonly string[]): Promise<Map<number, EntityRecord>> {
    const out = new Map<number, EntityRecord>();
    const f = fields ?? cachedFields(this.schema, type);
    for (let i = 0; i < ids.length; i += PAGE_SIZE) {
      const chunk = [...new Set(ids.slice(i, i + PAGE_SIZE))];
      for (let round = 0; round < MISSING_ROUNDS && chunk.some((id) => !out.has(id)); round++) {
        for (const retired of [false, true]) {
          const want = chunk.filter((id) => !out.has(id));
          if (!want.length) break;
          for (const r of await this.read(type, [{ path: 'id', relation: 'in', values: want }], f, retired, PAGE_SIZE)) out.set(r.id, toRecord(r, retired));
        }
      }
    }
    return out;
  }

  /** One entity, active or retired, or undefined when the site has no such id. */
  async one(type: string, id: number, fields?: readonly string[]): Promise<EntityRecord | undefined> {
    return (await this.byIds(type, [id], fields)).get(id);
  }

  /** Every entity (active and retired) of `type` whose link field `field` holds `target`, whole. */
  async linking(type: string, field: string, target: { type: string; id: number }): Promise<EntityRecord[]> {
    const out: EntityRecord[] = [];
    for (const retired of [false, true]) {
      let afterId = 0;
      for (;;) {
        const page = await this.page({ type, retired, afterId, where: [{ path: field, relation: 'is', values: [{ type: target.type, id: target.id }] }] });
        out.push(...page);
        if (page.length < PAGE_SIZE) break;
        afterId = page[page.length - 1].id;
      }
    }
    return out;
  }

  /** How many entities of a type the site has (active or retired), optionally only ids after `ids.after` up to `ids.upTo`. */
  async count(type: string, retired: boolean, ids: { after?: number; upTo?: number } = {}): Promise<number> {
    const conditions: Cond[] = [];
    if (ids.after) conditions.push({ path: 'id', relation: 'greater_than', values: [ids.after] });
    if (ids.upTo !== undefined) conditions.push({ path: 'id', relation: 'less_than', values: [ids.upTo + 1] });
    const r = await this.client.call<{ paging_info?: { entity_count?: number } }>('read', {
      type,
      return_fields: ['id'],
      filters: { logical_operator: 'and', conditions },
      return_only: retired ? 'retired' : 'active',
      paging: { entities_per_page: 1, current_page: 1 },
      return_paging_info: true,
    });
    return r?.paging_info?.entity_count ?? 0;
  }

  /** The most recently updated entities of a type (updated_at descending), whole; for validation samples. */
  async recentlyUpdated(type: string, limit: number, fields?: readonly string[]): Promise<EntityRecord[]> {
    const rows = await this.read(type, [], fields ?? cachedFields(this.schema, type), false, Math.min(limit, PAGE_SIZE), [
      { field_name: 'updated_at', direction: 'desc' },
    ]);
    return rows.map((r) => toRecord(r, false));
  }
}
