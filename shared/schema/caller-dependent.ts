// Fields whose value the site computes for the caller and changes without an event (a project starred or opened in the web UI): no cached or kept reply may carry them.

/** Known per-caller fields by type (a real site's schema has them: reference/schema-sample.json; toolkit-calls.md: tk-desktop reads them). */
const KNOWN: Readonly<Record<string, readonly string[]>> = {
  Project: ['current_user_favorite', 'last_accessed_by_current_user'],
};

/** Hosted sites name such fields after the current user; a field so named on any type is treated the same way. */
const NAMED = /(^|_)current_user(_|$)/;

/** Why the schema dump leaves such a field out (`skipped`). */
export const PER_CALLER_REASON = 'per-user value (current_user): the site answers it for the caller, and it changes without an event';

/** Whether `type.field` is answered by the site for the current user. */
export function isCallerDependent(type: string, field: string): boolean {
  return (KNOWN[type]?.includes(field) ?? false) || NAMED.test(field);
}

/**
 * `caller-dependent:<Type>.<field>` for the first hop or leaf of `path` (from `root`, deep paths `f.Type.g`) that
 * is per caller, else undefined. Such reads pass through and are never kept (the response cache keeps only
 * replies that are a function of the data and the caller's identity, and these move without an event).
 */
export function callerDependentReason(root: string, path: string): string | undefined {
  const parts = path.split('.');
  let type = root;
  for (let i = 0; i < parts.length; i += 2) {
    if (isCallerDependent(type, parts[i])) return `caller-dependent:${type}.${parts[i]}`;
    if (i + 1 < parts.length) type = parts[i + 1];
  }
  return undefined;
}
