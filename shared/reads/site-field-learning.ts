// Learning the site's field names on a pass: a read naming a field the cache does not cache, of a type whose names are not known under the current schema generation, has the script read the type's fields so later reads can tell a field the site lacks.
import type { CachedSchema } from '../schema/index.js';
import { answersMissing } from '../query/index.js';
import { readTypes } from '../semantics/index.js';
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
  /** Called once names were recorded (the API reloads its readiness snapshot). */
  onLearned?: () => void;
  log?: (message: string, details?: Record<string, unknown>) => void;
}

const UNCACHED_FIELD = /^uncached-field:([A-Za-z0-9_]+)\.(.+)$/;
/** Types asked after one pass, at most. */
const MAX_TYPES = 4;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export class SiteFieldLearner {
  private readonly asked = new Map<string, number>();
  readonly stats = { learned: 0 };
  constructor(private readonly d: SiteFieldLearnerDeps) {}

  /**
   * After a read passed with `reason` (an uncached field): learns the field names of the types its params name (the
   * reason's first), when they could make such reads servable (cached types, the site's rule for missing return
   * fields measured as omit or null, names not known now). At most MAX_TYPES types. Never throws.
   */
  async afterPass(reason: string, params?: unknown): Promise<void> {
    const m = UNCACHED_FIELD.exec(reason);
    if (!m || !this.d.schema.site.hasType(m[1])) return;
    const now = (this.d.now ?? Date.now)();
    try {
      const ready = await this.d.readiness();
      if (!answersMissing(ready)) return;
      const named = isObj(params) && typeof params.type === 'string' ? readTypes(params) : [];
      const types = [...new Set([m[1], ...named])]
        .filter(
          (t) => this.d.schema.site.hasType(t) && !ready.siteFields.knows(t) && now - (this.asked.get(t) ?? -Infinity) >= (this.d.minIntervalMs ?? 10_000),
        )
        .slice(0, MAX_TYPES);
      if (!types.length) return;
      for (const t of types) this.asked.set(t, now);
      const generation = await this.d.store.schemaGeneration();
      await Promise.all(types.map((t) => this.learn(t, generation)));
      this.d.onLearned?.();
    } catch (e) {
      this.d.log?.('site field names not learnt', { reason, error: (e as Error).message });
    }
  }

  private async learn(type: string, generation: number): Promise<void> {
    const reply = await this.d.fieldsOf(type);
    if (!isObj(reply)) return;
    await this.d.store.recordSiteFields(type, Object.keys(reply), generation);
    this.stats.learned++;
  }
}
