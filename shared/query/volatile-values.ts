// Volatile values in cached answers: served only while every signed URL stays valid for the margin, never with the "thumbnail pending" placeholder; the entities they came from.
import { DEFAULT_SIGNED_URL_MARGIN_S, volatility, volatileVerdict, type ReadResult } from '../site/index.js';
import type { RecentVolatile } from '../store/index.js';

/** The clock and margin signed URLs are judged by (SIGNED_URL_MARGIN_S). */
export interface VolatilePolicy {
  marginMs: number;
  now: () => number;
}

export const DEFAULT_VOLATILE_POLICY: VolatilePolicy = { marginMs: DEFAULT_SIGNED_URL_MARGIN_S * 1000, now: Date.now };

/** An entity whose stored signed values an answer carried, with their earliest expiry (what the reconciler renews before they expire). */
export type VolatileRef = RecentVolatile;

/** Why an answer cannot be served now (`thumbnail-pending`, `signed-url-expiring`), or undefined. */
export function volatileReason(result: unknown, policy: VolatilePolicy): string | undefined {
  return volatileVerdict(result, policy.now(), policy.marginMs);
}

const isLink = (v: unknown): v is { type: string; id: number } =>
  typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string' && typeof (v as { id?: unknown }).id === 'number';

/**
 * The stored entity and field a returned row's key `k` holds the value of: the row's own (`f`), or for a deep path
 * `a.T.f` the entity the row's link `a` names (`linkOf(a)`, when it is a T); undefined otherwise.
 */
export function fieldOwner(
  rowType: string,
  rowId: number,
  k: string,
  linkOf: (field: string) => unknown,
): { type: string; id: number; field: string } | undefined {
  const parts = k.split('.');
  if (parts.length === 1) return { type: rowType, id: rowId, field: k };
  if (parts.length !== 3) return undefined;
  const link = linkOf(parts[0]);
  return isLink(link) && link.type === parts[1] ? { type: link.type, id: link.id, field: parts[2] } : undefined;
}

/**
 * The entities whose signed values (or placeholders) an answer carries: each returned entity with one in a field of its own, and for a
 * deep path `a.T.f` the entity its link `a` names (looked up in the candidates' records). At most `max`.
 */
export function volatileSources(result: ReadResult, rootType: string, linkOf: (id: number, field: string) => unknown, max = 500): VolatileRef[] {
  const out = new Map<string, VolatileRef>();
  const add = (type: string, id: number, expiresMs: number) => {
    const k = `${type}#${id}`;
    const had = out.get(k);
    if (had) had.expiresMs = Math.min(had.expiresMs, expiresMs);
    else if (out.size < max) out.set(k, { type, id, expiresMs });
  };
  for (const e of result.entities) {
    const id = (e as { id?: unknown }).id;
    if (typeof id !== 'number') continue;
    for (const [k, v] of Object.entries(e)) {
      if (v === null || typeof v === 'number' || typeof v === 'boolean') continue;
      const x = volatility(v);
      if (x.signed === 0 && !x.placeholder) continue;
      // A placeholder is due at once: the reconciler re-reads it (the processed thumbnail may come without an event).
      const expiresMs = x.placeholder ? 0 : x.earliestMs;
      const owner = fieldOwner(rootType, id, k, (field) => linkOf(id, field));
      if (owner) add(owner.type, owner.id, expiresMs);
    }
  }
  return [...out.values()];
}
