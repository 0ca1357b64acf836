// An event's value in read shape: which data types' Change meta carry their new value reliably, and how it is canonicalized.
/** "2015-07-13 21:54:01 UTC", the form event meta uses for date-times (protocol.md §6). */
const EVENT_DATE_TIME = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) UTC$/;
const CANONICAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const isLink = (v: unknown): v is { type: string; id: number; name?: unknown } => isObj(v) && typeof v.type === 'string' && typeof v.id === 'number';

/**
 * The event's value in canonical wire form when the meta carries it reliably for this data type, else undefined
 * (the caller re-fetches the field from the site). Event values of url, tag_list, serializable, footage, ... are
 * not trusted to have the read shape.
 */
export function eventValue(dataType: string, v: unknown): { value: unknown } | undefined {
  if (v === null) return { value: null };
  switch (dataType) {
    case 'text':
    case 'list':
    case 'status_list':
    case 'color':
    case 'uuid':
    case 'entity_type':
      return typeof v === 'string' ? { value: v } : undefined;
    case 'number':
    case 'duration':
    case 'timecode':
      return Number.isInteger(v) ? { value: v } : undefined;
    case 'float':
    case 'currency':
    case 'percent':
      return typeof v === 'number' && Number.isFinite(v) ? { value: v } : undefined;
    case 'checkbox':
      return typeof v === 'boolean' ? { value: v } : undefined;
    case 'date':
      return typeof v === 'string' && DATE.test(v) ? { value: v } : undefined;
    case 'date_time': {
      if (typeof v !== 'string') return undefined;
      const m = EVENT_DATE_TIME.exec(v);
      if (m) return { value: `${m[1]}T${m[2]}Z` };
      return CANONICAL_DATE_TIME.test(v) ? { value: v } : undefined;
    }
    case 'entity':
      return isLink(v) ? { value: { type: v.type, id: v.id, name: v.name ?? null } } : undefined;
    default:
      return undefined;
  }
}
