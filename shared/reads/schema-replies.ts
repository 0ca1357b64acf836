// Schema method replies (schema_read, schema_entity_read, schema_field_read) kept in the response cache: the site's own body per caller, per params (project) and deployed cached schema, while the schema generation stands.
import type { CachedSchema } from '../schema/index.js';
import { canonicalDigest } from '../semantics/index.js';
import { SCHEMA_GENERATION } from '../store/index.js';
import type { CallerCredential } from './caller-auth.js';
import { responseKey, type Lookup, type ResponseCache } from './response-cache.js';

/** The schema methods whose replies are kept (schema_field_create / _update / _delete are writes: they pass). */
export const SCHEMA_METHODS: ReadonlySet<string> = new Set(['schema_read', 'schema_entity_read', 'schema_field_read']);

/** Schema writes: passed through, then the schema generation bumped (read-your-writes for the caller's next schema read). */
export const SCHEMA_WRITE_METHODS: ReadonlySet<string> = new Set(['schema_field_create', 'schema_field_update', 'schema_field_delete']);

/** A digest of the deployed cached schema: a new deploy keys every schema reply anew. */
export function cachedSchemaFingerprint(schema: CachedSchema): string {
  return canonicalDigest(schema.site.file);
}

export interface SchemaRepliesDeps {
  responses: ResponseCache;
  /** The caller's keyed identity hash (shared/reads/caller-auth.ts): the site varies schema replies per caller's permissions. */
  identity: (cred: CallerCredential) => Promise<string>;
  schema: CachedSchema;
}

export class SchemaReplies {
  private readonly fingerprint: string;
  constructor(private readonly d: SchemaRepliesDeps) {
    this.fingerprint = cachedSchemaFingerprint(d.schema);
  }

  /**
   * The stored reply to `method` with `params` (params[1], absent when shotgun_api3 sends none) for this caller, or
   * the miss to keep the site's reply under. Depends on the schema generation only (DisplayColumn events, the periodic schema diff).
   */
  async lookup(method: string, params: unknown, cred: CallerCredential): Promise<Lookup> {
    const key = responseKey(method, [params ?? null, this.fingerprint], await this.d.identity(cred));
    return this.d.responses.lookup(key, [SCHEMA_GENERATION]);
  }

  /** Keeps the site's reply; false when too large to keep (DynamoDB's item limit, after gzip). */
  keep(miss: Extract<Lookup, { kind: 'miss' }>, body: Buffer): Promise<boolean> {
    return this.d.responses.store(miss, body, { linkTypes: false });
  }
}
