// The poller's EventSource over the site: EventLogEntry read as the shotgunEvents daemon reads it (id > cursor, id asc, 500 at a time).
import { EVENT_FIELDS, EventRowSchema, type EventRow } from './event-log.js';
import type { EventSource } from './poller.js';
import type { ShotgunClient } from '../site/index.js';

const PAGE = 500;

export class ShotgunEventSource implements EventSource {
  constructor(
    private readonly client: ShotgunClient,
    private readonly onBadRow: (row: unknown, error: string) => void = () => {},
  ) {}

  private async raw(conditions: unknown[], limit: number, direction: 'asc' | 'desc', fields: readonly string[]): Promise<Array<Record<string, unknown>>> {
    const r = await this.client.call<{ entities?: Array<Record<string, unknown>> }>('read', {
      type: 'EventLogEntry',
      return_fields: [...fields],
      filters: { logical_operator: 'and', conditions },
      return_only: 'active',
      paging: { entities_per_page: limit, current_page: 1 },
      sorts: [{ field_name: 'id', direction }],
    });
    return r?.entities ?? [];
  }

  private async read(conditions: unknown[], limit: number, direction: 'asc' | 'desc' = 'asc', fields: readonly string[] = EVENT_FIELDS): Promise<EventRow[]> {
    const out: EventRow[] = [];
    for (const row of await this.raw(conditions, limit, direction, fields)) {
      const p = EventRowSchema.safeParse(row);
      if (p.success) out.push(p.data);
      else this.onBadRow(row, p.error.message);
    }
    return out;
  }

  readAfter(afterId: number, limit: number): Promise<EventRow[]> {
    return this.read([{ path: 'id', relation: 'greater_than', values: [afterId] }], Math.min(limit, PAGE));
  }

  async readIds(ids: number[]): Promise<EventRow[]> {
    const out: EventRow[] = [];
    for (let i = 0; i < ids.length; i += PAGE) {
      const chunk = ids.slice(i, i + PAGE);
      out.push(...(await this.read([{ path: 'id', relation: 'in', values: chunk }], chunk.length)));
    }
    return out;
  }

  async latestId(): Promise<number> {
    const rows = await this.raw([], 1, 'desc', ['id']);
    return typeof rows[0]?.id === 'number' ? rows[0].id : 0;
  }

  async exists(id: number): Promise<boolean> {
    return (await this.raw([{ path: 'id', relation: 'is', values: [id] }], 1, 'asc', ['id'])).length > 0;
  }

  /**
   * The latest event id logged for each of `ids` of `type` after `afterId` (entities with none are absent): whether a
   * write that logged an event is still on its way to the consumer (the shadow checks' stale-or-wrong rule).
   */
  async latestFor(type: string, ids: readonly number[], afterId: number): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    for (let i = 0; i < ids.length; i += 100) {
      const chunk = ids.slice(i, i + 100).map((id) => ({ type, id }));
      const rows = await this.raw(
        [
          { path: 'id', relation: 'greater_than', values: [afterId] },
          { path: 'entity', relation: 'in', values: chunk },
        ],
        PAGE,
        'desc',
        ['id', 'entity'],
      );
      for (const r of rows) {
        const e = r.entity as { id?: unknown } | null | undefined;
        if (typeof e?.id === 'number' && typeof r.id === 'number' && !out.has(e.id)) out.set(e.id, r.id);
      }
    }
    return out;
  }

  /** The events logged for one entity at `sinceIso` or later (at most one page, newest first): what wrote it since (shared/sync/stamp-learning.ts). */
  writesOf(type: string, id: number, sinceIso: string): Promise<EventRow[]> {
    return this.read(
      [
        { path: 'entity', relation: 'is', values: [{ type, id }] },
        { path: 'created_at', relation: 'greater_than', values: [sinceIso] },
      ],
      100,
      'desc',
    );
  }

  /** Rows with id in (afterId, upTo], ascending (the import's look at the log's recent tail for uncommitted ids). */
  window(afterId: number, upTo: number): Promise<EventRow[]> {
    return this.read([{ path: 'id', relation: 'between', values: [afterId + 1, upTo] }], PAGE, 'asc', ['id', 'event_type', 'created_at']);
  }
}
