// Volatile values in cached answers: served only while every signed URL stays valid for the margin, never with the "thumbnail pending" placeholder; the entities they came from.
import { DEFAULT_SIGNED_URL_MARGIN_S, isSignedUrl, volatileVerdict, type ReadResult } from '../site/index.js';

/** The clock and margin signed URLs are judged by (SIGNED_URL_MARGIN_S). */
export interface VolatilePolicy {
  marginMs: number;
  now: () => number;
}

export const DEFAULT_VOLATILE_POLICY: VolatilePolicy = { marginMs: DEFAULT_SIGNED_URL_MARGIN_S * 1000, now: Date.now };

/** An entity whose stored volatile values an answer carried (what the reconciler refreshes before they expire). */
export interface VolatileRef { type: string; id: number }

/** Why an answer cannot be served now (`thumbnail-pending`, `signed-url-expiring`), or undefined. */
export function volatileReason(result: unknown, policy: VolatilePolicy): string | undefined {
  return volatileVerdict(result, policy.now(), policy.marginMs);
}

const isLink = (v: unknown): v is VolatileRef => typeof v === 'object' && v !== null && typeof (v as VolatileRef).type === 'string' && typeof (v as VolatileRef).id === 'number';

const carriesSigned = (v: unknown): boolean => (typeof v === 'string' ? isSignedUrl(v)
  : typeof v === 'object' && v !== null ? Object.values(v).some(carriesSigned) : false);

/**
 * The entities whose signed values an answer carries: each returned entity with one in a field of its own, and for a
 * deep path `a.T.f` the entity its link `a` names (looked up in the candidates' records). Bounded by `max`.
 */
export function volatileSources(result: ReadResult, rootType: string, linkOf: (id: number, field: string) => unknown, max = 100): VolatileRef[] {
  const out = new Map<string, VolatileRef>();
  const add = (r: VolatileRef) => { if (out.size < max) out.set(`${r.type}#${r.id}`, { type: r.type, id: r.id }); };
  for (const e of result.entities) {
    const id = (e as { id?: unknown }).id;
    if (typeof id !== 'number') continue;
    for (const [k, v] of Object.entries(e)) {
      if (!carriesSigned(v)) continue;
      const parts = k.split('.');
      if (parts.length === 1) add({ type: rootType, id });
      else if (parts.length === 3) {
        const link = linkOf(id, parts[0]);
        if (isLink(link) && link.type === parts[1]) add(link);
      }
    }
  }
  return [...out.values()];
}
