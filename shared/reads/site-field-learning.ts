// Learning the site's field names on a pass: a read naming a field the cache does not cache, of a type whose names are not known under the current schema generation, has the script read the type's fields so later reads can tell a field the site lacks.
import type { CachedSchema } from '../schema/index.js';
import { answersMissing } from '../query/index.js';
import type { Readiness, ReadinessStore } from '../store/index.js';

export interface SiteFieldLearnerDeps {
  schema: CachedSchema;
  readiness: () => Promise<Readiness>;
  /** Where the names are kept (and the schema generation read before asking). */
  store: Pick<ReadinessStore, 'recordSiteFields' | 'schemaGeneration'>;
  /** schema_field_read as the cache's script: the script's view is the site's list of fields. */
  fieldsOf: (type: string) => Promise<unknown>;
  /** A type is asked at most this often per container (default 10 s: the readiness snapshot shows the names meanwhile). */
  minIntervalMs?: number;
  now?: () => number;
  log?: (message: string, details?: Record<string, unknown>) => void;
}

const UNCACHED_FIELD = /^uncached-field:([A-Za-z0-9_]+)\.(.+)$/;

export class SiteFieldLearner {
  private readonly asked = new Map<string, number>();
  readonly stats = { learned: 0 };
  constructor(private readonly d: SiteFieldLearnerDeps) {}

  /**
   * After a read passed with `reason`: learns the type's field names when they could make such reads servable (a
   * cached type, the site's rule for missing return fields measured as omit or null, names not known now). Never throws.
   */
  async afterPass(reason: string): Promise<void> {
    const m = UNCACHED_FIELD.exec(reason);
    if (!m || !this.d.schema.site.hasType(m[1])) return;
    const type = m[1];
    const now = (this.d.now ?? Date.now)();
    if (now - (this.asked.get(type) ?? -Infinity) < (this.d.minIntervalMs ?? 10_000)) return;
    try {
      const ready = await this.d.readiness();
      if (!answersMissing(ready) || ready.siteFields.knows(type)) return;
      this.asked.set(type, now);
      const generation = await this.d.store.schemaGeneration();
      const reply = await this.d.fieldsOf(type);
      if (typeof reply !== 'object' || reply === null || Array.isArray(reply)) return;
      await this.d.store.recordSiteFields(type, Object.keys(reply), generation);
      this.d.log?.('site field names learnt', { type, fields: Object.keys(reply).length, generation });
      this.stats.learned++;
    } catch (e) {
      this.d.log?.('site field names not learnt', { type, error: (e as Error).message });
    }
  }
}
