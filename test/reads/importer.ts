// Test importer: pages every cached type (active and retired rows, every cached field) from a site into the entity store.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CachedSchema } from '../../shared/schema/index.js';
import { EntityStore, ReadinessStore, type TableNames } from '../../shared/store/index.js';
import { initialCursor, ShotgunEventSource, PollerLease } from '../../shared/sync/index.js';
import type { ShotgunClient } from '../../shared/site/index.js';

/** Imports every cached type (or only `types`); returns the number of entities per type. The real sync pipeline replaces this. */
export async function importSite(
  client: ShotgunClient,
  store: EntityStore,
  schema: CachedSchema,
  version = 1,
  types: readonly string[] = schema.site.typeNames,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const type of types) {
    const fields = Object.keys(schema.site.type(type)!.fields).filter((f) => f !== 'id');
    let n = 0;
    for (const returnOnly of ['active', 'retired'] as const) {
      for await (const page of client.findPages({ type, fields, retiredOnly: returnOnly === 'retired' })) {
        await Promise.all(
          page.map((e) => {
            const { type: t, id, ...values } = e as { type: string; id: number } & Record<string, unknown>;
            return store.putEntity({ type: t, id, retired: returnOnly === 'retired', values }, version);
          }),
        );
        n += page.length;
      }
    }
    counts[type] = n;
  }
  return counts;
}

/**
 * The cache as a completed import leaves it (tests and benches that need a ready cache, not the importer itself):
 * the cursor first, at the site's latest event id, then every cached type imported stamped with that id (as the
 * real importer stamps its scan, shared/sync/importer.ts), then every type and field marked ready.
 */
export async function importReadyCache(
  client: ShotgunClient,
  ddb: DynamoDBClient,
  tables: TableNames,
  schema: CachedSchema,
): Promise<{ stamp: number; counts: Record<string, number> }> {
  const stamp = await new ShotgunEventSource(client).latestId();
  await new PollerLease(DynamoDBDocumentClient.from(ddb), tables.state, 30_000).initialize(initialCursor(stamp));
  const counts = await importSite(client, new EntityStore(ddb, tables, schema), schema, stamp);
  const readiness = new ReadinessStore(ddb, tables, schema);
  for (const type of schema.site.typeNames) await readiness.markTypeReady(type, Object.keys(schema.site.type(type)!.fields));
  return { stamp, counts };
}
