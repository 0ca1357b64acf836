// The entity types a read touches: its root type and every type its deep paths name (quarantine, response-cache and shadow keys).

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The entity types a read's params name: the root type and every type named in a deep path (empty for non-objects). */
export function readTypes(params: unknown): string[] {
  if (!isObj(params) || typeof params.type !== 'string' || params.type === '') return [];
  const types = new Set<string>([params.type]);
  const addPath = (p: unknown) => {
    if (typeof p !== 'string') return;
    const parts = p.split('.');
    for (let i = 1; i < parts.length; i += 2) types.add(parts[i]);
  };
  const walk = (v: unknown, key?: string) => {
    if (Array.isArray(v)) for (const x of v) walk(x, key);
    else if (isObj(v)) for (const [k, x] of Object.entries(v)) walk(x, k);
    else if (key === 'return_fields' || key === 'path' || key === 'field_name' || key === 'field') addPath(v);
  };
  walk(params);
  return [...types];
}
