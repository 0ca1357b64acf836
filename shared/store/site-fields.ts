// The site's own field names per type (the script's schema_field_read), kept with the schema generation they were read under: what tells a field the site lacks from one the cache does not cache.
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** sk prefix of one type's field names, in the readiness partition (so one readiness load brings them). */
export const SITE_FIELDS_PREFIX = 'sitefields#';

interface TypeFields {
  names: ReadonlySet<string>;
  generation: number;
}

/**
 * What the cache knows of the site's fields: per type, the names schema_field_read answered and the `*schema`
 * generation read before asking. Knowledge read under an older generation (a DisplayColumn event or the periodic
 * schema diff bumped it since) is stale: not known until read again.
 */
export class SiteFieldKnowledge {
  constructor(
    private readonly byType: ReadonlyMap<string, TypeFields>,
    private readonly schemaGeneration: number,
  ) {}

  static none(): SiteFieldKnowledge {
    return new SiteFieldKnowledge(new Map(), 0);
  }

  /** Parses the readiness partition's site-field items (others are ignored). */
  static fromItems(items: ReadonlyArray<Record<string, AttributeValue>>, schemaGeneration: number): SiteFieldKnowledge {
    const byType = new Map<string, TypeFields>();
    for (const it of items) {
      const sk = it.sk?.S;
      if (!sk?.startsWith(SITE_FIELDS_PREFIX) || !it.names?.SS || it.gen?.N === undefined) continue;
      byType.set(sk.slice(SITE_FIELDS_PREFIX.length), { names: new Set(it.names.SS), generation: Number(it.gen.N) });
    }
    return new SiteFieldKnowledge(byType, schemaGeneration);
  }

  /** The types whose names were ever recorded (current or stale). */
  get types(): string[] {
    return [...this.byType.keys()];
  }

  /** Whether the type's field names were read under the current schema generation. */
  knows(type: string): boolean {
    return this.byType.get(type)?.generation === this.schemaGeneration;
  }

  /** true: the site lacks `type.field` now; false: it has it; undefined: not known (never read, or stale). */
  lacks(type: string, field: string): boolean | undefined {
    const t = this.byType.get(type);
    if (!t || t.generation !== this.schemaGeneration) return undefined;
    return !t.names.has(field);
  }
}
