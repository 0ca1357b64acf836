// Changing the sim's schema at run time (the knob behind POST /__sim/control {"changeField"}): a field created, its data type or link targets changed, or the field deleted, with its stored values converted and the DisplayColumn event a site logs.
import { z } from 'zod';
import { DataTypeSchema, type DataType } from '../../shared/site/index.js';
import type { SiteSchema } from '../../shared/schema/index.js';
import type { Actor } from './auth.js';
import type { EventLog } from './event-log.js';
import type { SiteStore } from './store.js';

export const FieldChangeSchema = z
  .object({
    type: z.string().min(1),
    field: z.string().min(1),
    /** The new data type; stored values are converted where they can be (number <-> text, ...), else unset. */
    data_type: DataTypeSchema.optional(),
    /** The new link targets of an entity / multi_entity field; links to other types are dropped. */
    valid_types: z.array(z.string()).optional(),
    /** Deletes the field: values dropped, and no event logged (a deleted column logged "no change", peers.md §4). */
    remove: z.boolean().optional(),
    /** Creates the field (`data_type` required, default text), unset on every row, logging Shotgun_DisplayColumn_New as hosted sites do. */
    add: z.boolean().optional(),
  })
  .strict();
export type FieldChange = z.input<typeof FieldChangeSchema>;

const isLink = (v: unknown): v is { type: string; id: number } =>
  typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string' && typeof (v as { id?: unknown }).id === 'number';

/** A stored value carried over to `to`, or undefined (unset) when it has no meaning there. */
export function convertValue(v: unknown, to: DataType): unknown {
  if (v === null || v === undefined) return undefined;
  // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- a value converted to a data type not listed keeps a string and drops anything else
  switch (to) {
    case 'text':
      return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
    case 'number': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      return Number.isInteger(n) ? n : undefined;
    }
    case 'float': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      return Number.isFinite(n) ? n : undefined;
    }
    case 'checkbox':
      return typeof v === 'boolean' ? v : undefined;
    case 'entity':
      return isLink(v) ? v : Array.isArray(v) && isLink(v[0]) ? v[0] : undefined;
    case 'multi_entity':
      return isLink(v) ? [v] : Array.isArray(v) && v.every(isLink) ? v : undefined;
    default:
      return typeof v === 'string' ? v : undefined;
  }
}

/** Applies a field change to the sim's schema (its own mutable copy) and data; returns the event id logged (0: none). */
export function changeField(d: { schema: SiteSchema; store: SiteStore; events: EventLog; actor: Actor; now: Date }, input: FieldChange): number {
  const c = FieldChangeSchema.parse(input);
  const t = d.schema.type(c.type);
  const def = t && Object.hasOwn(t.fields, c.field) ? t.fields[c.field] : undefined;
  if (c.add) {
    if (!t) throw new Error(`no type ${c.type} on the site`);
    if (def) throw new Error(`${c.type}.${c.field} exists on the site`);
    return addField(d, c.type, c.field, c.data_type ?? 'text', c.valid_types);
  }
  if (!t || !def) throw new Error(`no field ${c.type}.${c.field} on the site`);
  if (c.field === 'id' || c.field === t.identifier) throw new Error(`${c.type}.${c.field} cannot be changed (id or identifier)`);
  const rows = d.store.all(c.type);
  if (c.remove) {
    delete t.fields[c.field];
    for (const r of rows) delete r.values[c.field];
    d.store.touch();
    return 0;
  }
  const before = { data_type: def.data_type, valid_types: def.valid_types ? [...def.valid_types] : undefined };
  const to = c.data_type ?? def.data_type;
  const linkType = to === 'entity' || to === 'multi_entity';
  def.data_type = to;
  if (linkType) def.valid_types = c.valid_types ?? def.valid_types ?? [];
  else delete def.valid_types;
  if (!(to === 'list' || to === 'status_list')) delete def.valid_values;
  delete def.default_value;
  const allowed = new Set(def.valid_types ?? []);
  for (const r of rows) {
    if (!Object.hasOwn(r.values, c.field)) continue;
    let v = before.data_type === to ? r.values[c.field] : convertValue(r.values[c.field], to);
    if (linkType && v !== undefined) {
      if (Array.isArray(v)) v = v.filter((l) => isLink(l) && allowed.has(l.type));
      else if (isLink(v) && !allowed.has(v.type)) v = undefined;
    }
    if (v === undefined) delete r.values[c.field];
    else r.values[c.field] = v;
  }
  d.store.touch();
  const typeChanged = before.data_type !== to;
  const batch = d.events.begin(d.actor, d.now);
  const column = columnId(c.type, c.field);
  const id = batch.add(
    'Shotgun_DisplayColumn_Change',
    typeChanged ? 'data_type' : 'properties',
    null,
    {
      type: 'attribute_change',
      attribute_name: typeChanged ? 'data_type' : 'properties',
      entity_type: 'DisplayColumn',
      entity_id: column,
      old_value: typeChanged ? before.data_type : { valid_types: before.valid_types ?? [] },
      new_value: typeChanged ? to : { valid_types: def.valid_types ?? [] },
    },
    `${def.name ?? c.field} column changed`,
  );
  d.events.commit(batch);
  return id;
}

/** A new column: unset on every row; the site logs Shotgun_DisplayColumn_New naming only the column. */
function addField(
  d: { schema: SiteSchema; store: SiteStore; events: EventLog; actor: Actor; now: Date },
  type: string,
  field: string,
  dataType: DataType,
  validTypes?: string[],
): number {
  const fields = d.schema.type(type)!.fields as Record<string, { data_type: DataType; valid_types?: string[] }>;
  fields[field] = { data_type: dataType, ...(dataType === 'entity' || dataType === 'multi_entity' ? { valid_types: validTypes ?? [] } : {}) };
  d.store.touch();
  const batch = d.events.begin(d.actor, d.now);
  const id = batch.add(
    'Shotgun_DisplayColumn_New',
    null,
    null,
    {
      type: 'new_entity',
      entity_type: 'DisplayColumn',
      entity_id: columnId(type, field),
    },
    `${field} column created`,
  );
  d.events.commit(batch);
  return id;
}

/** A stable DisplayColumn id per column. */
function columnId(type: string, field: string): number {
  let h = 0;
  for (const ch of `${type}.${field}`) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return 1000 + (h % 100_000);
}
