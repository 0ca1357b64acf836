// Applying one EventLogEntry to the entity store: New, Change (scalar, entity, multi-entity, back-reference), Retirement, Revival, renames.
//
// Every write is versioned (docs/design.md §5): field changes carry the event id, whole or per-field re-fetches from
// the site carry the id of the event that caused them (the fetch happens after that event committed, so it reflects
// at least that event). Duplicated or reordered deliveries therefore end in the same state: an older version never
// overwrites a newer one, and re-applying a version changes nothing. Derived facts (link names, retired-target
// flags) are propagated from the entity's *stored* state after the write, which makes that step idempotent too.
import type { CachedSchema } from '../schema/index.js';
import { propagateStoredFacts, type EntityStore, type WriteResult, type Readiness } from '../store/index.js';
import { owningEntity, type EventRow } from './event-log.js';
import type { EntityRecord } from '../semantics/index.js';
import { displayColumnEntityType, type SchemaDrift } from './schema-drift.js';
import { cachedFields, type SiteFetcher } from './site-fetch.js';
import { BatchReads, plannedRead, type ReadPlanRules } from './batch-reads.js';
import { eventValue, isLink, isObj } from './event-values.js';
import { linkFieldsTo } from './link-targets.js';

const ENTITY_EVENT = /^Shotgun_(.+)_(New|Change|Retirement|Revival)$/;

export type ApplyAction = 'ignored' | 'schema-change' | 'refetched' | 'changed' | 'field-refetched' | 'retired' | 'revived' | 'renamed-target' | 'gone';

export interface ApplyOutcome {
  action: ApplyAction;
  /** What the store said about the main write (applied, stale, missing, unchanged). */
  status?: WriteResult['status'];
  /** Why an event was ignored. */
  reason?: string;
  /** Entities whose stored links were updated (names, retired flags) or that were re-fetched for a revived target. */
  propagated?: number;
  /** A schema change: what its diff found (newly drifted, cleared, drifted fields in all). */
  drift?: { detected: number; cleared: number; total: number };
}

export interface EventApplierDeps {
  schema: CachedSchema;
  store: EntityStore;
  fetcher: SiteFetcher;
  /** Reads EventLogEntry rows by id (a back-reference whose owner is retired: its original event names the owners). */
  events?: { readIds(ids: number[]): Promise<EventRow[]> };
  log?: (message: string, details?: Record<string, unknown>) => void;
  /**
   * Schema drift (shared/sync/schema-drift.ts): DisplayColumn events run its diff, and drifted fields are neither fetched
   * nor written. Without it a DisplayColumn event only logs a warning.
   */
  schemaDrift?: SchemaDrift;
  /**
   * Told the site's updated_at of an entity re-read after a back-reference or a revive (shared/sync/stamp-learning.ts):
   * whether the site moves it there is measured, never assumed. Never throws.
   */
  stamps?: { observe(kind: 'backRef' | 'revive', ev: EventRow, owner: { type: string; id: number }, siteUpdatedAt: unknown): Promise<void> };
}

/** One write's events share their created_at and user. */
function writeKey(ev: EventRow): string {
  const u = isObj(ev.user) ? `${String(ev.user.type)}#${String(ev.user.id)}` : '';
  return ev.created_at ? `${ev.created_at}|${u}` : `event ${ev.id}`;
}

/** Fields every write stamps without logging a Change for them. */
const AUDIT_FIELDS = ['updated_at', 'updated_by'];

export class EventApplier {
  /**
   * `audit`: updated_at / updated_by per write ("Type#id@created_at"), so one write's Change events read them once
   * (shared with the appliers of single batches). `site`: where entities are read (the batch's reads, or the site).
   */
  constructor(
    private readonly d: EventApplierDeps,
    private readonly audit = new Map<string, Record<string, unknown>>(),
    private readonly site: Pick<SiteFetcher, 'one' | 'linking'> = d.fetcher,
  ) {}

  /**
   * An applier for one consumer batch whose site reads are made up front, one `id in [...]` read per type for all
   * its events (shared/sync/batch-reads.ts); `this` when none of them reads the site.
   */
  async forBatch(events: readonly EventRow[]): Promise<EventApplier> {
    const view = await this.driftView();
    const rules: ReadPlanRules = {
      schema: this.d.schema,
      auditFields: AUDIT_FIELDS,
      trusted: (dataType, meta) => dataType !== 'multi_entity' && 'new_value' in meta && eventValue(dataType, meta.new_value) !== undefined,
    };
    const plans = events.flatMap((ev) => plannedRead(ev, rules, view) ?? []);
    if (!plans.length) return this;
    const fetchable = (type: string) => cachedFields(this.d.schema, type).filter((f) => !view?.isDrifted(type, f));
    return new EventApplier(this.d, this.audit, await BatchReads.gather(this.d.fetcher, this.d.schema, plans, fetchable));
  }

  async apply(ev: EventRow): Promise<ApplyOutcome> {
    if (ev.event_type.startsWith('Shotgun_DisplayColumn_')) return this.schemaChange(ev);
    const m = ENTITY_EVENT.exec(ev.event_type);
    if (!m) return { action: 'ignored', reason: 'not an entity event' };
    const [, type, kind] = m;
    const meta = isObj(ev.meta) ? ev.meta : {};
    if (!this.d.schema.site.hasType(type)) return this.linkTarget(type, kind, ev);
    if ((await this.driftView())?.isDrifted(type, '*')) return { action: 'ignored', reason: `drifted type ${type}` };
    const owner = owningEntity(ev);
    switch (kind) {
      case 'New':
        return owner ? this.refetch(type, owner.id, ev.id) : { action: 'ignored', reason: 'no entity id' };
      case 'Retirement':
      case 'Revival':
        return owner ? this.setRetired(type, owner.id, kind === 'Retirement', ev.id, ev) : { action: 'ignored', reason: 'no entity id' };
      default:
        return this.change(type, ev, meta, owner?.id);
    }
  }

  // ----- schema changes ----------------------------------------------------------------------------------------

  /**
   * A column was created, changed or deleted on the site: the schema diff of the type the event names (real events
   * name only the column, so usually every cached type) records or clears drift (docs/sync.md "Schema changes").
   */
  private async schemaChange(ev: EventRow): Promise<ApplyOutcome> {
    if (!this.d.schemaDrift) {
      this.d.log?.('schema change on the site: re-run `fpt-cache schema dump` and re-import the affected types', { eventId: ev.id, eventType: ev.event_type });
      return { action: 'schema-change' };
    }
    const named = displayColumnEntityType(ev.meta);
    if (named !== undefined && !this.d.schema.site.hasType(named)) return { action: 'schema-change', reason: `uncached type ${named}` };
    const r = await this.d.schemaDrift.check(named !== undefined ? [named] : undefined, `event ${ev.id} ${ev.event_type}`);
    return { action: 'schema-change', drift: { detected: r.detected.length, cleared: r.cleared.length, total: r.total } };
  }

  private async driftView(): Promise<Readiness | undefined> {
    return this.d.schemaDrift?.view();
  }

  /** The cached fields of `type` to fetch: all of them (undefined) unless some are drifted (those are left out). */
  private async fetchable(type: string): Promise<string[] | undefined> {
    const view = await this.driftView();
    const all = cachedFields(this.d.schema, type);
    if (!view || !all.some((f) => view.isDrifted(type, f))) return undefined;
    return all.filter((f) => !view.isDrifted(type, f));
  }

  // ----- Change ------------------------------------------------------------------------------------------------

  private async change(type: string, ev: EventRow, meta: Record<string, unknown>, id: number | undefined): Promise<ApplyOutcome> {
    const field = ev.attribute_name ?? (typeof meta.attribute_name === 'string' ? meta.attribute_name : null);
    if (!field) return { action: 'ignored', reason: 'no attribute' };
    const def = this.d.schema.site.field(type, field);
    if (!def) return { action: 'ignored', reason: `uncached field ${type}.${field}` };
    const view = await this.driftView();
    if (view?.isDrifted(type, field)) return { action: 'ignored', reason: `drifted field ${type}.${field}` };
    const backRef = meta.actual_attribute_changed !== undefined;
    if (id === undefined) {
      if (backRef) return this.orphanBackRef(type, field, meta, ev.id);
      return { action: 'ignored', reason: 'no entity id' };
    }
    // The write that logged this Change also stamped updated_at / updated_by, which log no event of their own; fields
    // set at creation come with the New event's re-fetch. Whether a back-reference stamps the other side is not known
    // (docs/sync.md "Write stamps"): its audit fields are read too, and what they show is reported to the learner.
    const audit =
      meta.in_create === true && !backRef ? [] : AUDIT_FIELDS.filter((f) => f !== field && this.d.schema.isCached(type, f) && !view?.isDrifted(type, f));
    const value = def.data_type === 'multi_entity' || !('new_value' in meta) ? undefined : eventValue(def.data_type, meta.new_value);
    let out: ApplyOutcome & { values?: Record<string, unknown> };
    let seen: Record<string, unknown> | undefined;
    if (value) {
      seen = await this.auditValues(type, id, ev, audit);
      const r = await this.d.store.applyChange(type, id, { [field]: value.value, ...seen }, ev.id);
      out = r.status === 'missing' ? await this.refetch(type, id, ev.id) : { action: 'changed', status: r.status };
      if (r.status === 'applied' && def.data_type === 'entity') out.propagated = (out.propagated ?? 0) + (await this.verifyLinks(type, id, [field]));
    } else {
      out = await this.refetchFields(type, id, [field, ...audit], ev.id);
      if (audit.length) this.remember(type, id, writeKey(ev), out.values);
      seen = out.values;
      delete out.values;
    }
    if (backRef && seen && Object.hasOwn(seen, 'updated_at')) await this.d.stamps?.observe('backRef', ev, { type, id }, seen.updated_at);
    if (this.d.schema.site.identifier(type) === field) out.propagated = (out.propagated ?? 0) + (await this.propagateStored(type, id));
    return out;
  }

  /**
   * updated_at / updated_by as the write left them: read from the site once per write (the Change events of one
   * write share their created_at and arrive together in the entity's message group).
   */
  private async auditValues(type: string, id: number, ev: EventRow, fields: string[]): Promise<Record<string, unknown>> {
    if (!fields.length) return {};
    let values = this.audit.get(`${type}#${id}@${writeKey(ev)}`);
    if (!values) {
      const rec = await this.site.one(type, id, fields);
      if (!rec) return {};
      values = Object.fromEntries(fields.map((f) => [f, Object.hasOwn(rec.values, f) ? rec.values[f] : null]));
      this.remember(type, id, writeKey(ev), values);
    }
    return values;
  }

  private remember(type: string, id: number, write: string, values: Record<string, unknown> | undefined): void {
    if (!values) return;
    const audit = Object.fromEntries(AUDIT_FIELDS.filter((f) => Object.hasOwn(values, f)).map((f) => [f, values[f]]));
    if (!Object.keys(audit).length) return;
    this.audit.set(`${type}#${id}@${write}`, audit);
    if (this.audit.size > 256) this.audit.delete(this.audit.keys().next().value!);
  }

  /** Re-reads fields from the site (multi-entity lists keep the site's order; odd event values) and applies them at the event's version. */
  private async refetchFields(type: string, id: number, fields: string[], version: number): Promise<ApplyOutcome & { values?: Record<string, unknown> }> {
    const rec = await this.site.one(type, id, fields);
    if (!rec) return { action: 'gone' };
    const values = Object.fromEntries(fields.map((f) => [f, Object.hasOwn(rec.values, f) ? rec.values[f] : null]));
    const r = await this.d.store.applyChange(type, id, values, version);
    if (r.status === 'missing') return this.refetch(type, id, version);
    const links = fields.filter((f) => {
      const dt = this.d.schema.site.dataType(type, f);
      return dt === 'entity' || dt === 'multi_entity';
    });
    const propagated = r.status === 'applied' && links.length ? await this.verifyLinks(type, id, links) : 0;
    return { action: 'field-refetched', status: r.status, values, propagated };
  }

  /**
   * Link names and retired flags come from the site (or the event) as of the read, but a rename or retirement of a
   * target may have been applied (and propagated) between that read and this write, missing this entity's links.
   * So after writing links, the stored facts of their cached targets are compared with what the links carry and,
   * where they differ, pushed again. Whichever of the two writes lands last, the link ends with the target's facts:
   * a target written after this check propagates to this entity itself (its edge exists by then).
   */
  private async verifyLinks(type: string, id: number, fields?: string[]): Promise<number> {
    const stored = await this.d.store.get(type, id);
    if (!stored) return 0;
    const wanted = new Set<string>();
    for (const [f, v] of Object.entries(stored.record.values)) {
      if (fields && !fields.includes(f)) continue;
      const dt = this.d.schema.site.dataType(type, f);
      if (dt === 'entity' && isLink(v)) wanted.add(`${v.type}#${v.id}`);
      else if (dt === 'multi_entity' && Array.isArray(v)) for (const l of v) if (isLink(l)) wanted.add(`${l.type}#${l.id}`);
    }
    const byType = new Map<string, Map<number, { name: unknown; retired: boolean }>>();
    for (const l of stored.links) {
      if (!wanted.has(`${l.type}#${l.id}`) || !this.d.schema.site.hasType(l.type)) continue;
      const m = byType.get(l.type) ?? new Map<number, { name: unknown; retired: boolean }>();
      m.set(l.id, { name: l.name, retired: l.retired });
      byType.set(l.type, m);
    }
    let n = 0;
    for (const [targetType, links] of byType) {
      const idf = this.d.schema.site.identifier(targetType);
      const { entities } = await this.d.store.getMany(targetType, [...links.keys()]);
      for (const t of entities) {
        const have = links.get(t.record.id)!;
        const name = idf && idf !== 'id' ? (Object.hasOwn(t.record.values, idf) ? t.record.values[idf] : null) : undefined;
        if ((name === undefined || name === have.name) && t.record.retired === have.retired) continue;
        // The target's facts pushed again, confirmed by a read after the push (shared/store/link-facts.ts): the target's
        // own events may be applied meanwhile, and a push of what this read saw must not land after theirs.
        n += await propagateStoredFacts(this.d.store, this.d.schema, { type: targetType, id: t.record.id });
      }
    }
    return n;
  }

  /**
   * A back-reference Change whose owner (an entity of `type`) is retired now, so the log shows no entity and the
   * meta describes the other side. The owners are the stored entities whose `field` links that other side, plus
   * those its original event names (old/new values, added/removed); each gets the field re-read.
   */
  private async orphanBackRef(type: string, field: string, meta: Record<string, unknown>, version: number): Promise<ApplyOutcome> {
    const owners = new Set<number>();
    if (typeof meta.entity_type === 'string' && typeof meta.entity_id === 'number') {
      const { rows } = await this.d.store.refs({ type: meta.entity_type, id: meta.entity_id }, { type, field });
      for (const r of rows) owners.add(r.id);
    }
    const original =
      typeof meta.original_event_log_entry_id === 'number' && this.d.events ? (await this.d.events.readIds([meta.original_event_log_entry_id]))[0] : undefined;
    const om = isObj(original?.meta) ? original.meta : {};
    for (const v of [om.old_value, om.new_value, ...(Array.isArray(om.added) ? om.added : []), ...(Array.isArray(om.removed) ? om.removed : [])]) {
      if (isLink(v) && v.type === type) owners.add(v.id);
    }
    let n = 0;
    for (const id of owners) {
      await this.refetchFields(type, id, [field], version);
      n++;
    }
    return { action: 'field-refetched', propagated: n, reason: owners.size ? undefined : 'owner unknown' };
  }

  // ----- whole entities ----------------------------------------------------------------------------------------

  /** Re-fetches the whole entity (active or retired) and writes it at `version`. */
  private async refetch(type: string, id: number, version: number): Promise<ApplyOutcome> {
    const rec = await this.site.one(type, id, await this.fetchable(type));
    if (!rec) return { action: 'gone' };
    const r = await this.d.store.putEntity(rec, version);
    let propagated = r.propagate ? await this.propagateStored(type, id) : 0;
    if (r.status === 'applied') propagated += await this.verifyLinks(type, id);
    return { action: 'refetched', status: r.status, propagated };
  }

  private async setRetired(type: string, id: number, retired: boolean, version: number, ev?: EventRow): Promise<ApplyOutcome> {
    let r = await this.d.store.setRetired(type, id, retired, version);
    if (r.status === 'missing') {
      const rec = await this.site.one(type, id, await this.fetchable(type));
      if (!rec) return { action: 'gone' };
      r = await this.d.store.putEntity(rec, version);
      if (r.status === 'applied') await this.verifyLinks(type, id);
    }
    if (!retired && ev) await this.reviveStamps(type, id, ev);
    let propagated = await this.propagateStored(type, id);
    if (!retired) propagated += await this.repairLinksTo({ type, id }, version);
    return { action: retired ? 'retired' : 'revived', status: r.status, propagated };
  }

  /**
   * A revive may or may not move updated_at / updated_by (not known for hosted sites): read as the site shows them after
   * the Revival and applied at its version, and what they show reported to the learner.
   */
  private async reviveStamps(type: string, id: number, ev: EventRow): Promise<void> {
    const view = await this.driftView();
    const audit = AUDIT_FIELDS.filter((f) => this.d.schema.isCached(type, f) && !view?.isDrifted(type, f));
    if (!audit.length) return;
    const rec = await this.site.one(type, id, audit);
    if (!rec) return;
    await this.d.store.applyChange(type, id, Object.fromEntries(audit.map((f) => [f, Object.hasOwn(rec.values, f) ? rec.values[f] : null])), ev.id);
    if (Object.hasOwn(rec.values, 'updated_at')) await this.d.stamps?.observe('revive', ev, { type, id }, rec.values.updated_at);
  }

  /**
   * Pushes the entity's stored identifier value and retired state into every stored link to it. Reading the stored
   * state (not the event) makes a late or repeated event harmless: the links always get the latest facts.
   */
  private async propagateStored(type: string, id: number): Promise<number> {
    return propagateStoredFacts(this.d.store, this.d.schema, { type, id });
  }

  /**
   * A revived target: entities fetched while it was retired hold no link to it (the site hid it), so no edge finds
   * them. Every cached link field that can point to its type is asked for it on the site, and those entities are
   * re-fetched whole at the event's version (docs/design.md §4).
   */
  private async repairLinksTo(target: { type: string; id: number }, version: number): Promise<number> {
    let n = 0;
    const view = await this.driftView();
    for (const { type, field } of linkFieldsTo(this.d.schema, target.type, view)) {
      const sources: EntityRecord[] = await this.site.linking(type, field, target);
      const fields = await this.fetchable(type);
      // Drifted fields are left out of what is written (the read itself still names them: site-fetch.ts linking()).
      const keep = fields ? new Set(fields) : undefined;
      for (const rec of keep ? sources.map((r) => ({ ...r, values: Object.fromEntries(Object.entries(r.values).filter(([f]) => keep.has(f))) })) : sources) {
        const r = await this.d.store.putEntity(rec, version);
        if (r.status === 'applied') n++;
      }
    }
    return n;
  }

  // ----- uncached link targets ---------------------------------------------------------------------------------

  /**
   * Events of a type that is not cached but that cached links point to: its renames, retirements and revivals. No
   * stored state of the target carries a version, so the facts pushed are the target's as the site has them now (read
   * once), never the event's: a late or repeated event (a redelivery after a crash, a dead letter replayed) pushes the
   * current name and retired state, not the ones it describes.
   */
  private async linkTarget(type: string, kind: string, ev: EventRow): Promise<ApplyOutcome> {
    const idf = this.d.schema.site.identifier(type);
    const owner = owningEntity(ev);
    const relevant = kind === 'Retirement' || kind === 'Revival' || (kind === 'Change' && ev.attribute_name === idf);
    if (!idf || !owner || !relevant) return { action: 'ignored', reason: `uncached type ${type}` };
    const target = { type, id: owner.id };
    const now = await this.site.one(type, owner.id, [idf]);
    if (!now) return { action: 'gone', reason: `${type} ${owner.id} is on the site no more` };
    const facts = { retired: now.retired, ...(idf !== 'id' ? { name: Object.hasOwn(now.values, idf) ? now.values[idf] : null } : {}) };
    let propagated = (await this.d.store.propagateLinkFacts(target, facts)).entities;
    if (kind === 'Revival' && !now.retired) propagated += await this.repairLinksTo(target, ev.id);
    return { action: kind === 'Change' ? 'renamed-target' : now.retired ? 'retired' : 'revived', propagated };
  }
}
