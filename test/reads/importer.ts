// Test importer: pages every cached type (active and retired rows, every cached field) from a site into the entity store.
import type { CachedSchema } from '../../shared/cached-schema.js';
import type { EntityStore } from '../../shared/entity-store.js';
import type { ShotgunClient } from '../../shared/shotgun-client.js';

/** Imports every cached type; returns the number of entities per type. The real sync pipeline replaces this. */
export async function importSite(client: ShotgunClient, store: EntityStore, schema: CachedSchema, version = 1): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const type of schema.site.typeNames) {
    const fields = Object.keys(schema.site.type(type)!.fields).filter((f) => f !== 'id');
    let n = 0;
    for (const returnOnly of ['active', 'retired'] as const) {
      for await (const page of client.findPages({ type, fields, retiredOnly: returnOnly === 'retired' })) {
        await Promise.all(page.map((e) => {
          const { type: t, id, ...values } = e as { type: string; id: number } & Record<string, unknown>;
          return store.putEntity({ type: t, id, retired: returnOnly === 'retired', values }, version);
        }));
        n += page.length;
      }
    }
    counts[type] = n;
  }
  return counts;
}
