// Shotgun field data types as schema_read reports them, and the shape each one's value takes on the wire.
import { z } from 'zod';

export const DATA_TYPES = [
  'text',
  'number',
  'float',
  'checkbox',
  'date',
  'date_time',
  'duration',
  'percent',
  'currency',
  'timecode',
  'footage',
  'list',
  'status_list',
  'entity',
  'multi_entity',
  'entity_type',
  'url',
  'color',
  'tag_list',
  'image',
  'serializable',
  'uuid',
  'password',
  'pivot_column',
  'summary',
  'calculated',
  'addressing',
  'url_template',
] as const;
export const DataTypeSchema = z.enum(DATA_TYPES);
export type DataType = z.infer<typeof DataTypeSchema>;

/** A link as stored: type and id only. The wire form adds `name` from the target's identifier field. */
export const LinkSchema = z.object({ type: z.string().min(1), id: z.number().int() });
export type Link = z.infer<typeof LinkSchema>;
/** A link as the site emits it in `read` results. */
export interface WireLink {
  type: string;
  id: number;
  name: string | null;
}

export const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
/** The only date_time form the site emits, and the only one shotgun_api3 turns back into a datetime. */
export const DATE_TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** Data types whose values are integers on the wire. */
export const INTEGER_TYPES: ReadonlySet<DataType> = new Set(['number', 'duration', 'timecode', 'footage']);
/** Data types whose values are any JSON number. */
export const NUMERIC_TYPES: ReadonlySet<DataType> = new Set(['number', 'float', 'duration', 'percent', 'currency', 'timecode', 'footage']);
/** Data types whose values are strings compared case-insensitively (see docs/semantics.md). */
export const STRING_TYPES: ReadonlySet<DataType> = new Set(['text', 'list', 'status_list', 'color', 'entity_type', 'uuid']);
/** Data types that hold links. */
export const LINK_TYPES: ReadonlySet<DataType> = new Set(['entity', 'multi_entity']);

/** The empty value of a field of this type, as `read` returns it for an unset field. */
export function emptyValue(dataType: DataType): null | [] {
  return dataType === 'multi_entity' || dataType === 'tag_list' ? [] : null;
}

/** Formats a Date the way the site emits date_time values: YYYY-MM-DDTHH:MM:SSZ in UTC, no milliseconds. */
export function formatDateTime(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
