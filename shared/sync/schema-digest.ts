// The periodic schema diff's whole-schema check: a digest of the script's schema_read and schema_entity_read replies in the state table; any change bumps the schema generation (the site logs no event for some changes, e.g. a deleted field), and the replies teach the site's field names.
import { GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CachedSchema } from '../schema/index.js';
import { canonicalDigest } from '../semantics/index.js';
import { bumpGenerations, SCHEMA_GENERATION, type ReadinessStore } from '../store/index.js';
import type { SchemaSource } from './schema-drift.js';

/** State-table item of the last digest (pk `reconcile`, as the reconciler's other bookkeeping). */
const KEY = { pk: { S: 'reconcile' }, sk: { S: 'schema-digest' } };

export interface SchemaDigestDeps {
  schema: CachedSchema;
  site: SchemaSource;
  ddb: DynamoDBClient;
  table: string;
  /** Where the site's field names per cached type are recorded (shared/store/site-fields.ts). */
  readiness: Pick<ReadinessStore, 'recordSiteFields' | 'schemaGeneration' | 'load'>;
  now?: () => Date;
}

export interface DigestCheck {
  /** The site's schema differs from the last digest (or none was kept): `*schema` was bumped. */
  changed: boolean;
  digest: string;
  /** Types whose field names were recorded again (those reads have needed: the API learns the others on a pass). */
  recorded: number;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class SchemaDigest {
  constructor(private readonly d: SchemaDigestDeps) {}

  /**
   * Reads the site's whole schema, compares its digest with the last one, bumps `*schema` when it changed, and records
   * again the field names of the types already recorded (kept current without a pass; readiness loads stay small).
   */
  async check(): Promise<DigestCheck> {
    const before = await this.d.readiness.schemaGeneration();
    const [read, types] = await Promise.all([this.d.site.call('schema_read'), this.d.site.call('schema_entity_read')]);
    const digest = canonicalDigest([read, types]);
    const kept = (await this.d.ddb.send(new GetItemCommand({ TableName: this.d.table, Key: KEY, ConsistentRead: true }))).Item?.digest?.S;
    const changed = kept !== digest;
    let generation = before;
    if (changed) {
      await bumpGenerations(this.d.ddb, this.d.table, [SCHEMA_GENERATION]);
      await this.d.ddb.send(
        new PutItemCommand({ TableName: this.d.table, Item: { ...KEY, digest: { S: digest }, at: { S: (this.d.now?.() ?? new Date()).toISOString() } } }),
      );
      const after = await this.d.readiness.schemaGeneration();
      // Only this bump since the read: the names read are current under the new generation; else they may be older than another change.
      generation = after === before + 1 ? after : -1;
    }
    let recorded = 0;
    if (generation >= 0) {
      const known = (await this.d.readiness.load()).siteFields.types;
      recorded = await recordSiteFieldNames(
        this.d.readiness,
        read,
        known.filter((t) => this.d.schema.site.hasType(t)),
        generation,
      );
    }
    return { changed, digest, recorded };
  }
}

/** Records the site's field names of `types` from a `schema_read` reply, read under schema generation `generation`; returns how many types were recorded. */
export async function recordSiteFieldNames(
  readiness: Pick<ReadinessStore, 'recordSiteFields'>,
  read: unknown,
  types: readonly string[],
  generation: number,
): Promise<number> {
  if (!isObj(read)) return 0;
  let recorded = 0;
  for (const type of types) {
    const fields = read[type];
    if (!isObj(fields)) continue;
    await readiness.recordSiteFields(type, Object.keys(fields), generation);
    recorded++;
  }
  return recorded;
}
