// The sim's EventLogEntry rows (protocol.md §6): New / Change / back-reference / Retirement / Revival shapes, and when rows become visible.
import { formatDateTime, type Link } from '../../shared/site/index.js';
import type { SiteSchema } from '../../shared/schema/index.js';
import { identifierValue, wireLink } from '../../shared/semantics/index.js';
import type { SiteStore, StoredEntity } from './store.js';
import type { Actor } from './auth.js';
import { Prng } from './prng.js';

/** "2015-07-13 21:54:01 UTC": the form event meta uses for date-times (retirement_date and date_time fields). */
export function metaDateTime(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

/** What changed on the other side of a connection (see writes.ts). */
export interface BackRefChange {
  target: StoredEntity;
  field: string;
  /** The entity and field whose write caused it (meta.entity_type/entity_id/field_data_type describe this side). */
  cause: { rec: StoredEntity; field: string };
  added?: Link[];
  removed?: Link[];
  old?: Link | null;
  new?: Link | null;
}

export interface EventDelay {
  probability: number;
  delayMs: number;
}

/** The rows one write (or one batch) logs; they commit, or are dropped, together. */
export class EventBatch {
  readonly rows: StoredEntity[] = [];
  readonly createdAt: string;

  constructor(
    private readonly log: EventLog,
    readonly actor: Actor,
    now: Date,
  ) {
    this.createdAt = formatDateTime(now);
  }

  get enabled(): boolean {
    return this.actor.generateEvents;
  }

  /** Allocates the next event id and records the row; returns the id (0 when this actor logs no events). */
  add(eventType: string, attributeName: string | null, entity: StoredEntity | null, meta: Record<string, unknown>, description: string): number {
    if (!this.enabled) return 0;
    if (this.actor.actual) meta.sudo_actual_user = this.log.link(this.actor.actual);
    const values: Record<string, unknown> = {
      event_type: eventType,
      description,
      meta,
      user: this.actor.user,
      created_at: this.createdAt,
    };
    if (attributeName !== null) values.attribute_name = attributeName;
    if (entity) {
      values.entity = { type: entity.type, id: entity.id };
      const project = this.log.projectOf(entity);
      if (project) values.project = project;
    }
    if (this.actor.sessionUuid) values.session_uuid = this.actor.sessionUuid;
    return this.push(values);
  }

  /** A custom EventLogEntry created through the API: logged even for scripts with events off. */
  addCustom(values: Record<string, unknown>): StoredEntity {
    const v: Record<string, unknown> = { user: this.actor.user, created_at: this.createdAt, ...values };
    if (this.actor.sessionUuid && v.session_uuid === undefined) v.session_uuid = this.actor.sessionUuid;
    this.push(v);
    return this.rows[this.rows.length - 1];
  }

  private push(values: Record<string, unknown>): number {
    const id = this.log.store.allocateEventId();
    this.rows.push({ type: 'EventLogEntry', id, retired: false, values });
    return id;
  }
}

/**
 * Writes EventLogEntry rows. Ids are allocated in order as a write runs; rows become readable when the write
 * commits, or later: held on demand, or delayed at random (a long transaction committing after later ones).
 */
export class EventLog {
  private holdCount = 0;
  private held: StoredEntity[][] = [];
  private delay: EventDelay = { probability: 0, delayMs: 0 };
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly delayed = new Set<StoredEntity[]>();
  private readonly prng: Prng;

  constructor(
    readonly store: SiteStore,
    readonly schema: SiteSchema,
    seed: number,
  ) {
    this.prng = new Prng(seed ^ 0x5eed);
  }

  begin(actor: Actor, now: Date): EventBatch {
    return new EventBatch(this, actor, now);
  }

  /** Makes a committed write's rows visible now, or holds / delays them per the knobs. */
  commit(batch: EventBatch): void {
    const rows = batch.rows;
    if (rows.length === 0) return;
    if (this.holdCount > 0) {
      this.holdCount--;
      this.held.push(rows);
      return;
    }
    if (this.delay.probability > 0 && this.prng.chance(this.delay.probability)) {
      this.delayed.add(rows);
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.delayed.delete(rows);
        this.publish(rows);
      }, this.delay.delayMs);
      t.unref();
      this.timers.add(t);
      return;
    }
    this.publish(rows);
  }

  /** Holds the rows of the next `writes` writes (Infinity: until release) out of reads. */
  hold(writes = Number.POSITIVE_INFINITY): void {
    this.holdCount = writes;
  }

  /** Publishes every held row (and stops holding). Returns how many rows became visible. */
  release(): number {
    this.holdCount = 0;
    const all = this.held;
    this.held = [];
    let n = 0;
    for (const rows of all) {
      this.publish(rows);
      n += rows.length;
    }
    return n;
  }

  setDelay(d: EventDelay): void {
    this.delay = { probability: Math.max(0, Math.min(1, d.probability)), delayMs: Math.max(0, d.delayMs) };
  }
  get delaySettings(): EventDelay {
    return { ...this.delay };
  }
  get holding(): number {
    return this.holdCount;
  }

  /** Rows allocated and committed by their write but not yet readable. */
  pendingRows(): number {
    let n = 0;
    for (const rows of this.held) n += rows.length;
    for (const rows of this.delayed) n += rows.length;
    return n;
  }

  /** Every not-yet-visible row, for the snapshot (a restart publishes them). */
  pendingForSnapshot(): StoredEntity[] {
    return [...this.held.flat(), ...[...this.delayed].flat()];
  }

  /** Publishes everything pending and stops the delay timers (close). */
  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const rows of this.delayed) this.publish(rows);
    this.delayed.clear();
    this.release();
  }

  private publish(rows: StoredEntity[]): void {
    for (const r of rows) this.store.insert(r);
    this.store.touch();
  }

  // ---- row shapes -------------------------------------------------------------------------------------------

  link(l: Link): Record<string, unknown> {
    return wireLink(this.schema, l, this.store) as unknown as Record<string, unknown>;
  }

  projectOf(rec: StoredEntity): Link | undefined {
    if (rec.type === 'Project') return { type: 'Project', id: rec.id };
    const p = rec.values.project as Link | undefined;
    return p ? { type: p.type, id: p.id } : undefined;
  }

  /** A link as event meta `added` / `removed` lists show it: {type, id, name, status?, valid}. */
  metaListLink(l: Link): Record<string, unknown> {
    const out: Record<string, unknown> = { type: l.type, id: l.id, name: null };
    const t = this.store.get(l.type, l.id);
    if (t) {
      out.name = identifierValue(this.schema, t);
      if (typeof t.values.sg_status_list === 'string') out.status = t.values.sg_status_list;
    }
    out.valid = 'valid';
    return out;
  }

  /** A field value as event meta old_value / new_value show it. */
  metaValue(type: string, field: string, v: unknown): unknown {
    if (v === undefined || v === null) return null;
    const dt = this.schema.dataType(type, field);
    if (dt === 'entity') return this.link(v as Link);
    if (dt === 'password') return '*******'; // a password set through the API is never logged in clear
    if (dt === 'date_time' && typeof v === 'string') return metaDateTime(v);
    return structuredClone(v);
  }

  newEntity(b: EventBatch, rec: StoredEntity): number {
    return b.add(
      `Shotgun_${rec.type}_New`,
      null,
      rec,
      { type: 'new_entity', entity_type: rec.type, entity_id: rec.id },
      `${this.who(b)} created new ${this.label(rec)}`,
    );
  }

  /** A Change of a single-valued field (old_value / new_value). */
  change(b: EventBatch, rec: StoredEntity, field: string, oldV: unknown, newV: unknown, inCreate: boolean): number {
    const meta: Record<string, unknown> = {
      type: 'attribute_change',
      attribute_name: field,
      entity_type: rec.type,
      entity_id: rec.id,
      field_data_type: this.schema.dataType(rec.type, field),
      old_value: this.metaValue(rec.type, field, oldV),
      new_value: this.metaValue(rec.type, field, newV),
    };
    if (inCreate) meta.in_create = true;
    return b.add(
      `Shotgun_${rec.type}_Change`,
      field,
      rec,
      meta,
      `${this.who(b)} changed "${this.fieldName(rec.type, field)}" from "${this.text(meta.old_value)}" to "${this.text(meta.new_value)}" on ${this.label(rec)}`,
    );
  }

  /** A Change of a multi-entity field: `added` / `removed` lists, no old_value / new_value. */
  multiChange(b: EventBatch, rec: StoredEntity, field: string, added: Link[], removed: Link[], inCreate: boolean): number {
    const meta: Record<string, unknown> = {
      type: 'attribute_change',
      attribute_name: field,
      entity_type: rec.type,
      entity_id: rec.id,
      field_data_type: 'multi_entity',
      added: added.map((l) => this.metaListLink(l)),
      removed: removed.map((l) => this.metaListLink(l)),
    };
    if (inCreate) meta.in_create = true;
    return b.add(`Shotgun_${rec.type}_Change`, field, rec, meta, this.multiText(b, rec, field, added, removed));
  }

  /**
   * The Change logged on the other side of a connection. Its meta entity_type / entity_id / field_data_type
   * describe the side that was written (as real sites log it), plus actual_attribute_changed and
   * original_event_log_entry_id.
   */
  backRef(b: EventBatch, c: BackRefChange, originalId: number, inCreate: boolean): number {
    const meta: Record<string, unknown> = {
      type: 'attribute_change',
      attribute_name: c.field,
      entity_type: c.cause.rec.type,
      entity_id: c.cause.rec.id,
      field_data_type: this.schema.dataType(c.cause.rec.type, c.cause.field),
      actual_attribute_changed: `${c.cause.rec.type}.${c.cause.field}`,
      original_event_log_entry_id: originalId,
    };
    let description: string;
    if (c.added || c.removed) {
      meta.added = (c.added ?? []).map((l) => this.metaListLink(l));
      meta.removed = (c.removed ?? []).map((l) => this.metaListLink(l));
      description = this.multiText(b, c.target, c.field, c.added ?? [], c.removed ?? []);
    } else {
      meta.old_value = c.old ? this.link(c.old) : null;
      meta.new_value = c.new ? this.link(c.new) : null;
      description = `${this.who(b)} changed "${this.fieldName(c.target.type, c.field)}" from "${this.text(meta.old_value)}" to "${this.text(meta.new_value)}" on ${this.label(c.target)}`;
    }
    if (inCreate) meta.in_create = true;
    return b.add(`Shotgun_${c.target.type}_Change`, c.field, c.target, meta, description);
  }

  /** Retirement: a Change of retirement_date, then the Retirement row. */
  retirement(b: EventBatch, rec: StoredEntity, at: string): void {
    const when = metaDateTime(at);
    b.add(
      `Shotgun_${rec.type}_Change`,
      'retirement_date',
      rec,
      { type: 'attribute_change', attribute_name: 'retirement_date', entity_type: rec.type, entity_id: rec.id, old_value: null, new_value: when },
      `${this.who(b)} changed "Date Retired" from "" to "${when}" on ${this.label(rec)}`,
    );
    b.add(
      `Shotgun_${rec.type}_Retirement`,
      null,
      rec,
      {
        type: 'entity_retirement',
        class_name: rec.type,
        display_name: this.name(rec),
        entity_id: rec.id,
        entity_type: rec.type,
        id: rec.id,
        retirement_date: when,
      },
      `${this.who(b)} retired ${this.label(rec)}`,
    );
  }

  /** Revival: a Change of retirement_date back to null, then the Revival row (its meta has no `type`). */
  revival(b: EventBatch, rec: StoredEntity, retiredAt: string | undefined): void {
    const was = retiredAt ? metaDateTime(retiredAt) : null;
    b.add(
      `Shotgun_${rec.type}_Change`,
      'retirement_date',
      rec,
      { type: 'attribute_change', attribute_name: 'retirement_date', entity_type: rec.type, entity_id: rec.id, old_value: was, new_value: null },
      `${this.who(b)} changed "Date Retired" from "${was ?? ''}" to "" on ${this.label(rec)}`,
    );
    b.add(
      `Shotgun_${rec.type}_Revival`,
      null,
      rec,
      { class_name: rec.type, display_name: this.name(rec), entity_id: rec.id, entity_type: rec.type, id: rec.id },
      `${this.who(b)} revived ${this.label(rec)}`,
    );
  }

  private name(rec: StoredEntity): string {
    const v = identifierValue(this.schema, rec);
    return v === null || v === undefined ? `${rec.type} #${rec.id}` : String(v);
  }

  private label(rec: StoredEntity): string {
    return `${this.schema.type(rec.type)?.display_name ?? rec.type} ${this.name(rec)}`;
  }

  private who(b: EventBatch): string {
    const u = this.store.get(b.actor.user.type, b.actor.user.id);
    return u ? this.name(u) : `${b.actor.user.type} #${b.actor.user.id}`;
  }

  private fieldName(type: string, field: string): string {
    return this.schema.field(type, field)?.name ?? field;
  }

  private text(v: unknown): string {
    if (v === null || v === undefined) return '';
    if (typeof v === 'object' && v !== null && 'name' in v) return String((v as { name: unknown }).name ?? '');
    return typeof v === 'string' ? v : JSON.stringify(v);
  }

  private multiText(b: EventBatch, rec: StoredEntity, field: string, added: Link[], removed: Link[]): string {
    const names = (ls: Link[]) =>
      ls
        .map((l) => {
          const t = this.store.get(l.type, l.id);
          return t ? this.name(t) : `${l.type} #${l.id}`;
        })
        .join(', ');
    const parts: string[] = [];
    if (added.length) parts.push(`added ${names(added)}`);
    if (removed.length) parts.push(`removed ${names(removed)}`);
    return `${this.who(b)} ${parts.join(' and ') || 'changed'} "${this.fieldName(rec.type, field)}" on ${this.label(rec)}`;
  }
}
