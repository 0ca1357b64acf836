// Which cached types the trimmed-log rebuild may bring back with updated_at scans, and which need a full re-import: decided from the learned write-stamp facts and the site's schema.
//
// An updated_at scan finds what the gap changed only for changes that moved the entity's own updated_at. Within a
// type, the changes that may not (docs/operations.md "The event log was trimmed past the cursor"):
// - the other side of a connection (Shot.assets written: Asset.shots changes). The cache does not know the site's
//   connection pairs, so a cached link field T.F is taken to be one whenever some type U it may point to has, on the
//   site, a link field that may point back to T. Scannable only once back-references are proven to move updated_at.
// - a link to a type the cache does not store, whose target was revived in the gap: links to it were hidden while it
//   was retired and reappear without the referrer's updated_at moving, and nothing stored says which targets were
//   retired. Scannable only once revives are proven to move updated_at (the rebuild then finds revived targets by
//   their own updated_at). Revived *cached* targets need no proof: the id diff sees the retired flag flip.
// - retirements and revivals of the type's own entities: the id diff compares the retired flag, whatever updated_at did.
// Everything else (a field written directly) moves updated_at on every site: the scan covers it.
import type { CachedSchema } from '../schema/index.js';
import type { Readiness, StampFact, StampKind } from '../store/index.js';
import { fetchLiveFields, type LiveFields, type SchemaSource } from './schema-drift.js';

export type RebuildMode = 'scan' | 'full';
export interface TypePlan {
  mode: RebuildMode;
  /** Why a full re-import (the first field that cannot be proven by a scan), for the log and /status. */
  why?: string;
}

const isLink = (dt: unknown) => dt === 'entity' || dt === 'multi_entity';

/** The link targets a field may point to on the site (undefined: any type). */
function liveTargets(f: LiveFields[string]): string[] | undefined {
  const v = f.properties?.valid_types?.value;
  return Array.isArray(v) && v.length ? v.filter((t): t is string => typeof t === 'string') : undefined;
}

/** Whether `live` (the site's fields of a type; undefined: not readable) has a link field that may point to `type`. */
function pointsBack(live: LiveFields | null | undefined, type: string): boolean {
  if (!live) return true;
  return Object.values(live).some((f) => isLink(f.data_type.value) && (liveTargets(f)?.includes(type) ?? true));
}

/**
 * The plan per cached type. `since` undefined (the cursor never recorded its last event's time): every type full.
 * `site`: where the site's schema is read (one schema_field_read per link-target type; an unreadable one counts as
 * pointing back).
 */
export async function planRebuild(
  schema: CachedSchema,
  ready: Readiness,
  site: SchemaSource,
  facts: Record<StampKind, StampFact>,
  since: number | undefined,
): Promise<Record<string, TypePlan>> {
  const live = new Map<string, LiveFields | null>();
  const liveOf = async (t: string) => {
    if (!live.has(t)) live.set(t, (await fetchLiveFields(site, t).catch(() => undefined)) ?? null);
    return live.get(t);
  };
  const out: Record<string, TypePlan> = {};
  for (const type of schema.site.typeNames) {
    if (ready.isDrifted(type, '*')) continue;
    out[type] = await planType(schema, ready, type, facts, since, liveOf);
  }
  return out;
}

async function planType(
  schema: CachedSchema,
  ready: Readiness,
  type: string,
  facts: Record<StampKind, StampFact>,
  since: number | undefined,
  liveOf: (t: string) => Promise<LiveFields | null | undefined>,
): Promise<TypePlan> {
  if (since === undefined) return { mode: 'full', why: "the time of the cursor's last event is not known" };
  if (!schema.isCached(type, 'updated_at') || ready.isDrifted(type, 'updated_at')) return { mode: 'full', why: 'updated_at not cached' };
  for (const [field, def] of Object.entries(schema.site.type(type)!.fields)) {
    if (!isLink(def.data_type) || ready.isDrifted(type, field)) continue;
    const targets = def.valid_types?.length ? def.valid_types : undefined;
    if (!targets) return { mode: 'full', why: `${type}.${field} may link to any type` };
    if (facts.revive.fact !== 'bumps') {
      const uncached = targets.find((t) => !schema.site.hasType(t));
      if (uncached) return { mode: 'full', why: `${type}.${field} links to ${uncached} (not cached), and revives are not proven to move updated_at` };
    }
    if (facts.backRef.fact !== 'bumps') {
      for (const t of targets) {
        if (pointsBack(await liveOf(t), type)) {
          return {
            mode: 'full',
            why: `${type}.${field} may be the other side of a connection from ${t}, and back-references are not proven to move updated_at`,
          };
        }
      }
    }
  }
  return { mode: 'scan' };
}
