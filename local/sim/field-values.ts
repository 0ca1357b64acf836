// Write-value validation for the sim: checks a create/update value against its field's data type and returns the canonical stored form.
import { DATE_RE, DATE_TIME_RE, formatDateTime, type Link, ErrorCode, ShotgunFault } from '../../shared/site/index.js';
import type { FieldDef, SiteSchema } from '../../shared/schema/index.js';
import type { SiteStore } from './store.js';

export type WriteMethod = 'create' | 'update';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RGB_RE = /^(\d{1,3}),(\d{1,3}),(\d{1,3})$/;
const LEGACY_COLORS = new Set(['pipeline_step', 'Blue', 'Orange', 'Pink', 'Red', 'Green', 'Purple', 'Grey', 'Black', 'Yellow', 'White']);
const INT32_MAX = 2147483647;

/** Where a value is being written, for fault messages in the site's words. */
export interface WriteTarget {
  method: WriteMethod;
  type: string;
  field: string;
  def: FieldDef;
}

function failed(t: WriteTarget, why: string): ShotgunFault {
  const what = t.method === 'create' ? `Create failed for [${t.type}.${t.field}]` : `Update failed for [${t.type}.${t.field}]`;
  return new ShotgunFault(`API ${t.method}() CRUD ERROR #5: ${what}: ${why}`, ErrorCode.API);
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function isValidDate(s: string): boolean {
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/**
 * Validates `raw` for the field and returns its canonical stored form: `undefined` means unset (null, or an
 * empty multi-entity / tag list). Links are checked against valid_types and must name an existing, active entity.
 */
export function canonicalWriteValue(schema: SiteSchema, store: SiteStore, t: WriteTarget, raw: unknown): unknown {
  const dt = t.def.data_type;
  // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check -- the data types not listed (summary, calculated, pivot_column, ...) are not writable through the API; the default raises the site's fault
  switch (dt) {
    case 'text':
      if (raw === null) return undefined;
      if (typeof raw !== 'string') throw failed(t, `value ${show(raw)} is not a string`);
      return raw;
    case 'number':
    case 'duration':
    case 'timecode':
      if (raw === null) return undefined;
      if (typeof raw !== 'number' || !Number.isInteger(raw)) throw failed(t, `value ${show(raw)} is not an integer`);
      if (Math.abs(raw) > INT32_MAX) throw failed(t, `PG::NumericValueOutOfRange: ERROR:  value "${raw}" is out of range for type integer`);
      return raw;
    case 'float':
    case 'percent':
    case 'currency':
      if (raw === null) return undefined;
      if (typeof raw !== 'number' || !Number.isFinite(raw)) throw failed(t, `value ${show(raw)} is not a number`);
      return raw;
    case 'checkbox':
      // A checkbox is never null on the site: None stores false.
      if (raw === null) return false;
      if (typeof raw !== 'boolean') throw failed(t, `value ${show(raw)} is not a boolean`);
      return raw;
    case 'date':
      if (raw === null) return undefined;
      if (typeof raw !== 'string' || !DATE_RE.test(raw) || !isValidDate(raw)) throw failed(t, `value ${show(raw)} is not a date (YYYY-MM-DD)`);
      return raw;
    case 'date_time': {
      if (raw === null) return undefined;
      if (typeof raw !== 'string') throw failed(t, `value ${show(raw)} is not a date-time`);
      if (DATE_TIME_RE.test(raw) && !Number.isNaN(Date.parse(raw))) return raw;
      const ms = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(raw) ? Date.parse(raw) : NaN;
      if (Number.isNaN(ms)) throw failed(t, `value ${show(raw)} is not a date-time (YYYY-MM-DDTHH:MM:SSZ)`);
      return formatDateTime(new Date(ms));
    }
    case 'list':
    case 'status_list': {
      if (raw === null) return undefined;
      if (typeof raw !== 'string') throw failed(t, `value ${show(raw)} is not a string`);
      const vv = t.def.valid_values;
      if (vv && vv.length > 0 && !vv.includes(raw)) {
        throw failed(t, `value '${raw}' is not a valid value for this field (valid values: ${vv.join(', ')})`);
      }
      return raw;
    }
    case 'color': {
      if (raw === null) return undefined;
      if (typeof raw !== 'string') throw failed(t, `value ${show(raw)} is not a color`);
      const m = RGB_RE.exec(raw);
      if (m ? [m[1], m[2], m[3]].some((c) => Number(c) > 255) : !LEGACY_COLORS.has(raw)) {
        throw failed(t, `value '${raw}' is not a color ("r,g,b" or a named color)`);
      }
      return raw;
    }
    case 'uuid':
      if (raw === null) return undefined;
      if (typeof raw !== 'string' || !UUID_RE.test(raw)) throw failed(t, `value ${show(raw)} is not a UUID`);
      return raw.toLowerCase();
    case 'entity_type':
      if (raw === null) return undefined;
      if (typeof raw !== 'string' || !schema.hasType(raw)) throw failed(t, `value ${show(raw)} is not an entity type`);
      return raw;
    case 'serializable':
      if (raw === null) return undefined;
      return structuredClone(raw);
    case 'password':
      // Stored as given (the sim keeps no hashes); every read and event shows it masked (writes.ts, event-log.ts).
      if (raw === null) return undefined;
      if (typeof raw !== 'string') throw failed(t, `value ${show(raw)} is not a string`);
      return raw;
    case 'image':
      if (raw === null) return undefined;
      if (typeof raw !== 'string') throw failed(t, `value ${show(raw)} is not an image URL or path`);
      return raw;
    case 'url': {
      if (raw === null) return undefined;
      if (typeof raw !== 'object' || Array.isArray(raw)) throw failed(t, `value ${show(raw)} is not a url dict ({"url": ..., "name": ...})`);
      const u = raw as Record<string, unknown>;
      const local = ['local_path', 'local_path_linux', 'local_path_mac', 'local_path_windows'].some((k) => typeof u[k] === 'string');
      if (typeof u.url !== 'string' && !local) throw failed(t, 'a url dict needs "url" or "local_path"');
      const out: Record<string, unknown> = { ...u };
      out.link_type ??= typeof u.url === 'string' ? 'web' : 'local';
      out.name ??= typeof u.url === 'string' ? u.url : (u.local_path ?? null);
      return out;
    }
    case 'tag_list': {
      if (raw === null) return undefined;
      if (!Array.isArray(raw) || raw.some((x) => typeof x !== 'string')) throw failed(t, `value ${show(raw)} is not a list of tag names`);
      const tags = [...new Set(raw as string[])];
      return tags.length === 0 ? undefined : tags;
    }
    case 'entity':
      if (raw === null) return undefined;
      return checkLink(schema, store, t, raw);
    case 'multi_entity': {
      if (raw === null) return undefined;
      if (!Array.isArray(raw)) throw failed(t, `value ${show(raw)} is not a list of entities`);
      const seen = new Set<string>();
      const out: Link[] = [];
      for (const item of raw) {
        const l = checkLink(schema, store, t, item);
        const k = `${l.type}#${l.id}`;
        if (!seen.has(k)) {
          seen.add(k);
          out.push(l);
        }
      }
      return out.length === 0 ? undefined : out;
    }
    default:
      throw failed(t, `fields of data type ${dt} can't be written through the API`);
  }
}

/** A link value: {type, id, ...} naming an existing active entity of a valid type; returns {type, id}. */
export function checkLink(schema: SiteSchema, store: SiteStore, t: WriteTarget, raw: unknown): Link {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw failed(t, `value ${show(raw)} is not an entity hash ({"type": ..., "id": ...})`);
  const { type, id } = raw as { type?: unknown; id?: unknown };
  if (typeof type !== 'string' || typeof id !== 'number' || !Number.isInteger(id)) {
    throw failed(t, `value ${show(raw)} is not an entity hash ({"type": ..., "id": ...})`);
  }
  const valid = t.def.valid_types ?? [];
  if (!valid.includes(type)) throw failed(t, `${type} is not a valid entity type for this field (valid types: ${valid.join(', ')})`);
  if (!schema.hasType(type)) throw failed(t, `entity type ${type} does not exist`);
  const target = store.get(type, id);
  if (!target) throw failed(t, `Entity of type [${type}] with id=${id} does not exist.`);
  if (target.retired) throw failed(t, `Entity of type [${type}] with id=${id} has been retired.`);
  return { type, id };
}

/** Canonical-value equality (stored forms only: primitives, links, arrays, plain objects). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
