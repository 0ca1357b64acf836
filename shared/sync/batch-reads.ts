// What one consumer batch reads up front: the site reads (one `find` with `id in [...]` per entity type, never one per event) and which stored entities it writes.
//
// Why it is safe (docs/sync.md "Event bursts"): the consumer gets an event only after the poller read it from the
// event log, so every event of a batch has committed before the batch starts. One read of an entity taken then
// reflects at least each of its events in the batch, which is exactly what a re-fetch at an event's version needs
// (docs/sync.md "Versions"): it was always allowed to reflect later writes too. What the batch did not plan for
// (a Change whose entity turns out to be missing, a back-reference whose owner is retired, a revived target's
// referrers) is still read from the site by the event that needs it.
import type { CachedSchema } from '../schema/index.js';
import type { EntityRecord } from '../semantics/index.js';
import type { Readiness } from '../store/index.js';
import { owningEntity, type EventRow } from './event-log.js';
import { cachedFields, type SiteFetcher } from './site-fetch.js';

const ENTITY_EVENT = /^Shotgun_(.+)_(New|Change|Retirement|Revival)$/;

/** What an event's apply reads from the site: the fields of one entity (`all` = every fetchable cached field). */
export interface PlannedRead {
  type: string;
  id: number;
  fields: string[] | 'all';
}

export interface ReadPlanRules {
  schema: CachedSchema;
  /** Fields stamped by every write with no event of their own (read with a Change's value). */
  auditFields: readonly string[];
  /** Whether a Change's meta carries its value in read shape for this data type (else the field is re-read). */
  trusted(dataType: string, meta: Record<string, unknown>): boolean;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The read the event's apply would make (mirrors EventApplier.apply): a New re-reads the whole entity, a Change the
 * field when its event value is not trusted plus the write's audit fields; other events read nothing up front.
 */
export function plannedRead(ev: EventRow, rules: ReadPlanRules, view: Readiness | undefined): PlannedRead | undefined {
  const m = ENTITY_EVENT.exec(ev.event_type);
  if (!m) return undefined;
  const [, type, kind] = m;
  const { site } = rules.schema;
  if (!site.hasType(type) || view?.isDrifted(type, '*')) return undefined;
  const owner = owningEntity(ev);
  if (!owner || owner.type !== type) return undefined;
  if (kind === 'New') return { type, id: owner.id, fields: 'all' };
  if (kind !== 'Change') return undefined;
  const meta = isObj(ev.meta) ? ev.meta : {};
  const field = ev.attribute_name ?? (typeof meta.attribute_name === 'string' ? meta.attribute_name : null);
  const def = field ? site.field(type, field) : undefined;
  if (!field || !def || view?.isDrifted(type, field)) return undefined;
  const backRef = meta.actual_attribute_changed !== undefined;
  const fields =
    meta.in_create === true && !backRef ? [] : rules.auditFields.filter((f) => f !== field && rules.schema.isCached(type, f) && !view?.isDrifted(type, f));
  if (!rules.trusted(def.data_type, meta)) fields.unshift(field);
  return fields.length ? { type, id: owner.id, fields } : undefined;
}

/** The cached entities a batch's events write (the owners of entity events of cached types): their stored items are read up front, once. */
export function writeTargets(schema: CachedSchema, events: readonly EventRow[]): Array<{ type: string; id: number }> {
  return events.flatMap((ev) => {
    const m = ENTITY_EVENT.exec(ev.event_type);
    const owner = m && schema.site.hasType(m[1]) ? owningEntity(ev) : undefined;
    return owner && owner.type === m?.[1] ? [owner] : [];
  });
}

/** The batch's reads, answered from one read per type; anything it did not read goes to the site as before. */
export class BatchReads implements Pick<SiteFetcher, 'one' | 'linking'> {
  /** Per type: the fields read (undefined = every fetchable one), the ids asked, and what the site had. */
  private constructor(
    private readonly fetcher: SiteFetcher,
    private readonly schema: CachedSchema,
    private readonly read: Map<string, { fields: Set<string>; asked: Set<number>; found: Map<number, EntityRecord> }>,
  ) {}

  /**
   * Reads every planned entity: per type, one `id in [...]` read of the union of the planned fields (active, then
   * retired for ids not found; SiteFetcher.byIds). `fetchable(type)` gives the readable fields of a whole read.
   */
  static async gather(fetcher: SiteFetcher, schema: CachedSchema, plans: readonly PlannedRead[], fetchable: (type: string) => string[]): Promise<BatchReads> {
    const wanted = new Map<string, { fields: Set<string>; ids: Set<number> }>();
    for (const p of plans) {
      const w = wanted.get(p.type) ?? { fields: new Set<string>(), ids: new Set<number>() };
      for (const f of p.fields === 'all' ? fetchable(p.type) : p.fields) w.fields.add(f);
      w.ids.add(p.id);
      wanted.set(p.type, w);
    }
    const read = new Map<string, { fields: Set<string>; asked: Set<number>; found: Map<number, EntityRecord> }>();
    await Promise.all(
      [...wanted].map(async ([type, w]) => {
        const found = await fetcher.byIds(type, [...w.ids], [...w.fields]);
        read.set(type, { fields: w.fields, asked: w.ids, found });
      }),
    );
    return new BatchReads(fetcher, schema, read);
  }

  /** The entity with `fields` (every cached field when omitted) from the batch's read when it covered them, else from the site. */
  async one(type: string, id: number, fields?: readonly string[]): Promise<EntityRecord | undefined> {
    const r = this.read.get(type);
    const want = fields ?? cachedFields(this.schema, type);
    if (!r || !r.asked.has(id) || !want.every((f) => r.fields.has(f))) return this.fetcher.one(type, id, fields);
    const rec = r.found.get(id);
    if (!rec) return undefined;
    return { ...rec, values: Object.fromEntries(want.filter((f) => Object.hasOwn(rec.values, f)).map((f) => [f, rec.values[f]])) };
  }

  linking(type: string, field: string, target: { type: string; id: number }): Promise<EntityRecord[]> {
    return this.fetcher.linking(type, field, target);
  }
}
