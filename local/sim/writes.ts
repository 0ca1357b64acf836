// The sim's writes: create / update / delete / revive / batch with value checks, audit stamping, multi-entity modes, connections and events.
import {
  formatDateTime,
  type Link,
  ErrorCode,
  ShotgunFault,
  type BatchItem,
  type CreateParams,
  type EntityRefParams,
  type UpdateParams,
} from '../../shared/site/index.js';
import type { EntityTypeDef, FieldDef, SiteSchema } from '../../shared/schema/index.js';
import { wireValue } from '../../shared/semantics/index.js';
import type { SiteStore, StoredEntity } from './store.js';
import type { Connections } from './site-schema.js';
import type { Actor } from './auth.js';
import type { BackRefChange, EventBatch, EventLog } from './event-log.js';
import { canonicalWriteValue, sameValue } from './field-values.js';
import type { SimWriteStamps } from './write-stamps.js';

/** Fields the site stamps itself; they log no Change events. */
const AUDIT_FIELDS = new Set(['created_at', 'created_by', 'updated_at', 'updated_by']);
/** Read-only fields the API may still set at creation (usage_tips "Audit Fields"). */
const CREATE_SETTABLE = new Set(['created_at', 'created_by']);
/** Fields a custom EventLogEntry may be created with. */
const EVENT_FIELDS = new Set(['event_type', 'attribute_name', 'description', 'entity', 'meta', 'project', 'user', 'session_uuid']);

export interface WriteDeps {
  schema: SiteSchema;
  store: SiteStore;
  connections: Connections;
  events: EventLog;
  now: () => Date;
  /** Projects return_fields that are deep paths (executeRead over the one new record). */
  projectDeep: (type: string, rec: StoredEntity, fields: string[]) => Record<string, unknown>;
  /** Whether back-references and revives move updated_at (local/sim/write-stamps.ts); neither when omitted. */
  stamps?: () => SimWriteStamps;
}

type Result = Record<string, unknown>;

function key(l: Link): string {
  return `${l.type}#${l.id}`;
}
function sameLink(v: unknown, l: Link): boolean {
  return typeof v === 'object' && v !== null && (v as Link).type === l.type && (v as Link).id === l.id;
}
function asLinks(v: unknown): Link[] {
  return Array.isArray(v) ? (v as Link[]) : [];
}
function minus(a: Link[], b: Link[]): Link[] {
  const k = new Set(b.map(key));
  return a.filter((l) => !k.has(key(l)));
}

export class SiteWrites {
  constructor(private readonly d: WriteDeps) {}

  create(actor: Actor, p: CreateParams, outer?: EventBatch): Result {
    const { schema, store, events } = this.d;
    const tdef = this.entityType('create', p.type);
    const batch = outer ?? events.begin(actor, this.d.now());
    if (p.type === 'EventLogEntry') {
      const row = store.transaction(() => this.createEvent(p, batch));
      if (!outer) events.commit(batch);
      return this.result(
        row,
        p.fields.map((f) => f.field_name),
        p.return_fields,
      );
    }
    const now = formatDateTime(this.d.now());
    const values: Record<string, unknown> = {};
    const sent: string[] = [];
    for (const f of p.fields) {
      const def = this.writableField('create', p.type, f.field_name);
      const v = canonicalWriteValue(schema, store, { method: 'create', type: p.type, field: f.field_name, def }, f.value);
      if (!sent.includes(f.field_name)) sent.push(f.field_name);
      if (v === undefined) delete values[f.field_name];
      else values[f.field_name] = v;
    }
    const defaulted: string[] = [];
    for (const [name, def] of Object.entries(tdef.fields)) {
      if (sent.includes(name) || AUDIT_FIELDS.has(name)) continue;
      const dv = def.default_value ?? (def.data_type === 'checkbox' ? false : undefined);
      if (dv !== undefined && dv !== null) {
        values[name] = structuredClone(dv);
        defaulted.push(name);
      }
    }
    values.created_at ??= now;
    values.created_by ??= actor.user;
    values.updated_at = now;
    values.updated_by = actor.user;
    this.checkUnique('create', p.type, tdef, values, undefined);

    const rec = store.transaction(() => {
      const r: StoredEntity = { type: p.type, id: store.allocateId(p.type), retired: false, values };
      store.insert(r);
      events.newEntity(batch, r);
      for (const name of [...sent, ...defaulted]) {
        if (AUDIT_FIELDS.has(name) || !Object.hasOwn(values, name)) continue;
        this.logChange(batch, r, name, undefined, values[name], true);
      }
      return r;
    });
    if (!outer) events.commit(batch);
    return this.result(rec, sent, p.return_fields);
  }

  update(actor: Actor, p: UpdateParams, outer?: EventBatch): Result {
    const { schema, store, events } = this.d;
    const tdef = this.entityType('update', p.type);
    if (p.type === 'EventLogEntry') throw new ShotgunFault('API update() EventLogEntry entities can not be updated.', ErrorCode.API);
    const rec = this.existing('update', p.type, p.id);
    if (rec.retired) {
      throw new ShotgunFault(`API update() CRUD ERROR #3: Entity of type [${p.type}] with id=${p.id} has been retired.`, ErrorCode.RECORD_NOT_FOUND);
    }
    // Validate everything first; then apply in one transaction.
    const planned: Array<{ name: string; value: unknown; mode: 'set' | 'add' | 'remove'; def: FieldDef }> = [];
    for (const f of p.fields) {
      const def = this.writableField('update', p.type, f.field_name);
      const value = canonicalWriteValue(schema, store, { method: 'update', type: p.type, field: f.field_name, def }, f.value);
      planned.push({ name: f.field_name, value, def, mode: f.multi_entity_update_mode ?? p.multi_entity_update_mode ?? 'set' });
    }
    const after: Record<string, unknown> = { ...rec.values };
    for (const c of planned) after[c.name] = this.merged(c.def, after[c.name], c.value, c.mode);
    this.checkUnique('update', p.type, tdef, after, rec.id);

    const batch = outer ?? events.begin(actor, this.d.now());
    store.transaction(() => {
      let changed = false;
      for (const c of planned) {
        const old = rec.values[c.name];
        const next = this.merged(c.def, old, c.value, c.mode);
        if (sameValue(old, next)) continue; // no-op: no Change event, no stamping
        // The site keeps no order in a multi-entity field: the same links in another order change nothing.
        if (c.def.data_type === 'multi_entity' && minus(asLinks(next), asLinks(old)).length === 0 && minus(asLinks(old), asLinks(next)).length === 0) continue;
        store.setField(rec, c.name, next);
        changed = true;
        this.logChange(batch, rec, c.name, old, next, false);
      }
      if (changed) this.stamp(rec, actor.user);
    });
    if (!outer) events.commit(batch);
    const out: Result = { type: rec.type, id: rec.id };
    for (const c of planned) out[c.name] = this.wireValue(rec, c.name);
    return out;
  }

  delete(actor: Actor, p: EntityRefParams, outer?: EventBatch): boolean {
    const { store, events } = this.d;
    this.entityType('delete', p.type);
    if (p.type === 'EventLogEntry') throw new ShotgunFault('API delete() EventLogEntry entities can not be deleted.', ErrorCode.API);
    const rec = this.existing('delete', p.type, p.id);
    if (rec.retired) return false;
    const batch = outer ?? events.begin(actor, this.d.now());
    const at = formatDateTime(this.d.now());
    store.transaction(() => {
      store.setRetired(rec, true, at);
      events.retirement(batch, rec, at);
    });
    if (!outer) events.commit(batch);
    return true;
  }

  revive(actor: Actor, p: EntityRefParams): boolean {
    const { store, events } = this.d;
    this.entityType('revive', p.type);
    const rec = this.existing('revive', p.type, p.id);
    if (!rec.retired) return false;
    const batch = events.begin(actor, this.d.now());
    const was = rec.retiredAt;
    store.transaction(() => {
      store.setRetired(rec, false);
      if (this.d.stamps?.().reviveBumpsUpdatedAt) this.stamp(rec, actor.user);
      events.revival(batch, rec, was);
    });
    events.commit(batch);
    return true;
  }

  /** All or nothing: a failing item rolls back every item before it, their events included. */
  batch(actor: Actor, items: BatchItem[]): unknown[] {
    const { store, events } = this.d;
    const batch = events.begin(actor, this.d.now());
    const results = store.transaction(() =>
      items.map((item, i) => {
        try {
          switch (item.request_type) {
            case 'create':
              return this.create(actor, item, batch);
            case 'update':
              return this.update(actor, item, batch);
            case 'delete':
              return this.delete(actor, item, batch);
          }
        } catch (e) {
          if (e instanceof ShotgunFault) {
            throw new ShotgunFault(`API batch() request with index ${i} failed.  All requests rolled back.\n${e.message}`, e.errorCode);
          }
          throw e;
        }
      }),
    );
    events.commit(batch);
    return results;
  }

  // ---- helpers ----------------------------------------------------------------------------------------------

  /** The audit stamp of a write that touched `rec` (updated_at to the second, updated_by the writer). */
  private stamp(rec: StoredEntity, user: unknown): void {
    this.d.store.setField(rec, 'updated_at', formatDateTime(this.d.now()));
    this.d.store.setField(rec, 'updated_by', user);
  }

  private entityType(method: string, type: string): EntityTypeDef {
    const t = this.d.schema.type(type);
    if (!t) throw new ShotgunFault(`API ${method}() CRUD ERROR #1: Entity type [${type}] does not exist.`, ErrorCode.API);
    return t;
  }

  private existing(method: string, type: string, id: number): StoredEntity {
    const rec = this.d.store.get(type, id);
    if (!rec) throw new ShotgunFault(`API ${method}() CRUD ERROR #3: Entity of type [${type}] with id=${id} does not exist.`, ErrorCode.RECORD_NOT_FOUND);
    return rec;
  }

  private writableField(method: 'create' | 'update', type: string, field: string): FieldDef {
    const def = this.d.schema.field(type, field);
    if (!def) throw new ShotgunFault(`API ${method}() ${type}.${field} doesn't exist`, ErrorCode.API);
    if (field === 'id' || (def.editable === false && !(method === 'create' && CREATE_SETTABLE.has(field)))) {
      throw new ShotgunFault(`API ${method}() ${type}.${field} is read only`, ErrorCode.API);
    }
    return def;
  }

  /** The stored value after applying `value` with a multi_entity_update_mode (ignored for other data types). */
  private merged(def: FieldDef, old: unknown, value: unknown, mode: 'set' | 'add' | 'remove'): unknown {
    if (def.data_type !== 'multi_entity' || mode === 'set') return value;
    const cur = asLinks(old);
    const given = asLinks(value);
    const next = mode === 'add' ? [...cur, ...minus(given, cur)] : minus(cur, given);
    return next.length === 0 ? undefined : next;
  }

  private checkUnique(method: 'create' | 'update', type: string, tdef: EntityTypeDef, values: Record<string, unknown>, selfId: number | undefined): void {
    for (const [name, def] of Object.entries(tdef.fields)) {
      if (!def.unique) continue;
      const v = values[name];
      if (v === undefined || v === null || v === '') continue;
      for (const other of this.d.store.all(type)) {
        if (other.id !== selfId && !other.retired && sameValue(other.values[name], v)) {
          const what = method === 'create' ? `Create failed for [${type}]` : `Update failed for [${type}.${name}]`;
          throw new ShotgunFault(
            `API ${method}() CRUD ERROR #61: ${what}. The value for the ${def.name ?? name} field is required to be unique. <br>`,
            ErrorCode.RECORD_NOT_FOUND,
          );
        }
      }
    }
  }

  /** Logs the Change for one field and mirrors link changes onto the other side of connections. */
  private logChange(batch: EventBatch, rec: StoredEntity, field: string, old: unknown, next: unknown, inCreate: boolean): void {
    const { events } = this.d;
    const dt = this.d.schema.dataType(rec.type, field);
    if (dt === 'multi_entity') {
      const added = minus(asLinks(next), asLinks(old));
      const removed = minus(asLinks(old), asLinks(next));
      const id = events.multiChange(batch, rec, field, added, removed, inCreate);
      this.mirrorAndLog(batch, rec, field, added, removed, id, inCreate);
    } else if (dt === 'entity') {
      const id = events.change(batch, rec, field, old, next, inCreate);
      const added = next ? [next as Link] : [];
      const removed = old ? [old as Link] : [];
      this.mirrorAndLog(batch, rec, field, added, removed, id, inCreate);
    } else {
      events.change(batch, rec, field, old, next, inCreate);
    }
  }

  private mirrorAndLog(batch: EventBatch, rec: StoredEntity, field: string, added: Link[], removed: Link[], originalId: number, inCreate: boolean): void {
    const out: Array<BackRefChange & { parent: number }> = [];
    this.mirror(rec, field, added, removed, out, -1);
    if (this.d.stamps?.().backRefBumpsUpdatedAt) for (const c of out) this.stamp(c.target, batch.actor.user);
    const ids: number[] = [];
    for (const c of out) ids.push(this.d.events.backRef(batch, c, c.parent < 0 ? originalId : ids[c.parent], inCreate));
  }

  /**
   * Applies a link change of `src.field` to the other side of its connection: adds/removes src in the
   * target's multi-entity field, or sets/clears the target's entity field (which in turn drops the target
   * from its previous owner). Back-reference changes are appended to `out` (with the index of their cause).
   */
  private mirror(src: StoredEntity, field: string, added: Link[], removed: Link[], out: Array<BackRefChange & { parent: number }>, parent: number): void {
    const { store, schema, connections } = this.d;
    const me: Link = { type: src.type, id: src.id };
    for (const l of removed) {
      const rf = connections.reverse(src.type, field, l.type);
      const t = rf && store.get(l.type, l.id);
      if (!rf || !t) continue;
      if (schema.dataType(t.type, rf) === 'multi_entity') {
        const cur = asLinks(t.values[rf]);
        if (!cur.some((x) => sameLink(x, me))) continue;
        const next = minus(cur, [me]);
        store.setField(t, rf, next.length ? next : undefined);
        out.push({ target: t, field: rf, cause: { rec: src, field }, added: [], removed: [me], parent });
      } else if (sameLink(t.values[rf], me)) {
        store.setField(t, rf, undefined);
        out.push({ target: t, field: rf, cause: { rec: src, field }, old: me, new: null, parent });
      }
    }
    for (const l of added) {
      const rf = connections.reverse(src.type, field, l.type);
      const t = rf && store.get(l.type, l.id);
      if (!rf || !t) continue;
      if (schema.dataType(t.type, rf) === 'multi_entity') {
        const cur = asLinks(t.values[rf]);
        if (cur.some((x) => sameLink(x, me))) continue;
        store.setField(t, rf, [...cur, me]);
        out.push({ target: t, field: rf, cause: { rec: src, field }, added: [me], removed: [], parent });
      } else {
        const prev = t.values[rf] as Link | undefined;
        if (sameLink(prev, me)) continue;
        store.setField(t, rf, me);
        out.push({ target: t, field: rf, cause: { rec: src, field }, old: prev ?? null, new: me, parent });
        // The target's entity field moved away from its previous owner: that owner's side drops the target.
        if (prev && parent < 0) this.mirror(t, rf, [], [prev], out, out.length - 1);
      }
    }
  }

  private createEvent(p: CreateParams, batch: EventBatch): StoredEntity {
    const { schema, store } = this.d;
    const values: Record<string, unknown> = {};
    for (const f of p.fields) {
      const def = schema.field('EventLogEntry', f.field_name);
      if (!def) throw new ShotgunFault(`API create() EventLogEntry.${f.field_name} doesn't exist`, ErrorCode.API);
      if (!EVENT_FIELDS.has(f.field_name)) throw new ShotgunFault(`API create() EventLogEntry.${f.field_name} is read only`, ErrorCode.API);
      const v = canonicalWriteValue(schema, store, { method: 'create', type: 'EventLogEntry', field: f.field_name, def }, f.value);
      if (v !== undefined) values[f.field_name] = v;
    }
    if (typeof values.event_type !== 'string' || values.event_type === '') {
      throw new ShotgunFault('API create() CRUD ERROR #6: Create failed for [EventLogEntry]: event_type is required', ErrorCode.API);
    }
    values.description ??= values.event_type;
    return batch.addCustom(values);
  }

  /** The create result: type, id, every field sent, plus return_fields (deep ones through the read projection). */
  private result(rec: StoredEntity, sent: string[], returnFields: string[]): Result {
    const out: Result = { type: rec.type, id: rec.id };
    for (const f of sent) out[f] = this.wireValue(rec, f);
    const deep: string[] = [];
    for (const f of returnFields) {
      if (Object.hasOwn(out, f)) continue;
      if (f.includes('.')) deep.push(f);
      else if (this.d.schema.field(rec.type, f)) out[f] = this.wireValue(rec, f);
    }
    if (deep.length) Object.assign(out, this.d.projectDeep(rec.type, rec, deep));
    return out;
  }

  /** A stored value as the site returns it (the semantics model's wireValue), passwords masked. */
  wireValue(rec: StoredEntity, field: string): unknown {
    const { schema, store } = this.d;
    const def = schema.field(rec.type, field);
    if (field === 'id') return rec.id;
    if (!def) return null;
    const v = rec.values[field];
    if (def.data_type === 'password') return v === undefined ? null : '*******';
    return wireValue(schema, store, def, v);
  }
}
