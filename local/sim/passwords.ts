// Password fields in the sim's read replies: never the stored value; "*******" when one is set, null otherwise (as writes return them).
import type { SiteSchema } from '../../shared/schema/index.js';

export const PASSWORD_MASK = '*******';

/** Whether a return field (plain, or a deep path ending `.Type.field`) is a password field. */
function isPassword(schema: SiteSchema, type: string, path: string): boolean {
  const parts = path.split('.');
  if (parts.length === 1) return schema.dataType(type, path) === 'password';
  return parts.length >= 3 && schema.dataType(parts[parts.length - 2], parts[parts.length - 1]) === 'password';
}

/** Masks the password fields of a read's entities in place (the result is the read's own copy). */
export function maskPasswords(schema: SiteSchema, type: string, returnFields: readonly string[], result: unknown): unknown {
  const masked = returnFields.filter((f) => isPassword(schema, type, f));
  const entities = (result as { entities?: unknown } | undefined)?.entities;
  if (masked.length === 0 || !Array.isArray(entities)) return result;
  for (const e of entities as Array<Record<string, unknown>>) {
    for (const f of masked) if (Object.hasOwn(e, f)) e[f] = e[f] === null || e[f] === undefined ? null : PASSWORD_MASK;
  }
  return result;
}
