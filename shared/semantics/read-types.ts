// The entity types a read touches: its root type and every type its deep paths name (quarantine, response-cache and shadow keys), and the types whose changes can move its rows (freshness).
import type { SiteSchema } from '../schema/index.js';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every field path a read's params name (under `return_fields`, `path`, `field_name`, `field`) with its key, and every entity value ({type, id}) in them. */
function visitRead(params: Record<string, unknown>, onPath: (path: string, key: string) => void, onEntity: (type: string) => void = () => {}): void {
  const walk = (v: unknown, key?: string) => {
    if (Array.isArray(v)) for (const x of v) walk(x, key);
    else if (isObj(v)) {
      if (v !== params && typeof v.type === 'string' && typeof v.id === 'number') onEntity(v.type);
      for (const [k, x] of Object.entries(v)) walk(x, k);
    } else if (typeof v === 'string' && (key === 'return_fields' || key === 'path' || key === 'field_name' || key === 'field')) onPath(v, key);
  };
  walk(params);
}

/** The entity types a read's params name: the root type and every type named in a deep path (empty for non-objects). */
export function readTypes(params: unknown): string[] {
  if (!isObj(params) || typeof params.type !== 'string' || params.type === '') return [];
  const types = new Set<string>([params.type]);
  visitRead(params, (p) => {
    const parts = p.split('.');
    for (let i = 1; i < parts.length; i += 2) types.add(parts[i]);
  });
  return [...types];
}

/**
 * The types whose queued changes can change which rows a read answers, or their order: its own types (readTypes), the
 * targets of every link field it filters, sorts or groups on, and the type of every entity value in its filters. A Task
 * read filtered on `entity is Shot 7` answers from Shot 7's retirement too, though an empty answer holds no link to it.
 */
export function dependentTypes(schema: Pick<SiteSchema, 'field'>, params: unknown): string[] {
  const types = new Set(readTypes(params));
  if (!isObj(params) || typeof params.type !== 'string') return [...types];
  const root = params.type;
  visitRead(
    params,
    (p, key) => {
      if (key === 'return_fields') return;
      const parts = p.split('.');
      for (let i = 0, type = root; i < parts.length; type = parts[i + 1] ?? type, i += 2)
        for (const t of schema.field(type, parts[i])?.valid_types ?? []) types.add(t);
    },
    (t) => types.add(t),
  );
  return [...types];
}
