// Canonical JSON: one text per value whatever its object key order, for request keys and answer digests.
import { createHash } from 'node:crypto';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deterministic JSON with object keys sorted (arrays keep their order: it is meaningful). */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isObj(v))
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

/** SHA-256 (base64url) of a value's canonical JSON. */
export function canonicalDigest(v: unknown): string {
  return createHash('sha256').update(canonical(v)).digest('base64url');
}
