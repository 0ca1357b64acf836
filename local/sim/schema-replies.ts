// The schema_read / schema_entity_read / schema_field_read replies: the site's nested {"value", "editable"} shape, generated from the sim's schema.
import type { FieldDef, SiteSchema } from '../../shared/schema/index.js';
import { ErrorCode, ShotgunFault } from '../../shared/site/index.js';

interface Prop<T = unknown> {
  value: T;
  editable: boolean;
}
const ro = <T>(value: T): Prop<T> => ({ value, editable: false });
const rw = <T>(value: T): Prop<T> => ({ value, editable: true });

function summaryDefault(def: FieldDef): string {
  if (def.data_type === 'status_list') return 'status_list';
  return 'none';
}

/** One field as schema_field_read / schema_read report it. */
export function fieldReply(
  schema: SiteSchema,
  type: string,
  field: string,
  hidden: HiddenFields = NO_HIDDEN,
  custom: CustomFields = NO_CUSTOM,
): Record<string, unknown> {
  const def = schema.field(type, field);
  if (!def) throw new ShotgunFault(`API schema_field_read() ${type}.${field} doesn't exist`, ErrorCode.API);
  const properties: Record<string, Prop> = {
    default_value: def.data_type === 'list' || def.data_type === 'status_list' ? rw(def.default_value ?? null) : ro(def.default_value ?? null),
    summary_default: rw(summaryDefault(def)),
  };
  if (def.data_type === 'entity' || def.data_type === 'multi_entity') properties.valid_types = rw(def.valid_types ?? []);
  if (def.data_type === 'list' || def.data_type === 'status_list') properties.valid_values = rw(def.valid_values ?? []);
  if (def.data_type === 'tag_list') properties.valid_types = rw(def.valid_types ?? ['Tag']);
  return {
    data_type: ro(def.data_type),
    description: rw(def.description ?? ''),
    editable: ro(def.editable ?? true),
    entity_type: ro(type),
    mandatory: ro(def.mandatory ?? false),
    name: rw(def.name ?? field),
    properties,
    unique: ro(def.unique ?? false),
    // Per-project visibility can be set for fields created through the API (schema_field_create), not built-in ones.
    visible: { value: !hidden(type).has(field), editable: custom(type, field) },
  };
}

/** The fields a caller's permission profile hides, per type (local/sim/permissions.ts): reported `visible: false`. */
export type HiddenFields = (type: string) => ReadonlySet<string>;
const NONE: ReadonlySet<string> = new Set();
const NO_HIDDEN: HiddenFields = () => NONE;
/** Whether a field was created through the API (a custom field): its visibility is editable per project. */
export type CustomFields = (type: string, field: string) => boolean;
const NO_CUSTOM: CustomFields = () => false;

function typeFields(schema: SiteSchema, type: string, hidden: HiddenFields, custom: CustomFields): Record<string, unknown> {
  const t = schema.type(type);
  if (!t) throw new ShotgunFault(`API schema_field_read() entity type ${type} doesn't exist`, ErrorCode.API);
  const out: Record<string, unknown> = {};
  for (const f of Object.keys(t.fields).sort()) out[f] = fieldReply(schema, type, f, hidden, custom);
  return out;
}

/** schema_read: every type's fields. */
export function schemaRead(schema: SiteSchema, hidden: HiddenFields = NO_HIDDEN, custom: CustomFields = NO_CUSTOM): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const t of [...schema.typeNames].sort()) out[t] = typeFields(schema, t, hidden, custom);
  return out;
}

/** schema_entity_read: every type's display name. */
export function schemaEntityRead(schema: SiteSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const t of [...schema.typeNames].sort()) {
    out[t] = { name: ro(schema.type(t)?.display_name ?? t), visible: ro(true) };
  }
  return out;
}

/** schema_field_read: one field ({field: ...}) or all of a type's fields. */
export function schemaFieldRead(
  schema: SiteSchema,
  type: unknown,
  field: unknown,
  hidden: HiddenFields = NO_HIDDEN,
  custom: CustomFields = NO_CUSTOM,
): Record<string, unknown> {
  if (typeof type !== 'string' || !schema.hasType(type)) {
    throw new ShotgunFault(`API schema_field_read() entity type ${String(type)} doesn't exist`, ErrorCode.API);
  }
  if (field === undefined || field === null) return typeFields(schema, type, hidden, custom);
  if (typeof field !== 'string') throw new ShotgunFault('API schema_field_read() field_name must be a string', ErrorCode.API);
  return { [field]: fieldReply(schema, type, field, hidden, custom) };
}
