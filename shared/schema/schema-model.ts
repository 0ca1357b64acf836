// The schema model: entity types, their fields and data types, identifier fields; one shape for the site and the cached subset.
import { z } from 'zod';
import { DataTypeSchema, type DataType } from '../site/index.js';

export const FieldSchema = z
  .object({
    data_type: DataTypeSchema,
    /** Display name, as schema_field_read reports it. */
    name: z.string().optional(),
    /** Link target types, for entity and multi_entity fields. */
    valid_types: z.array(z.string()).optional(),
    /** Allowed values, for list and status_list fields. */
    valid_values: z.array(z.string()).optional(),
    default_value: z.unknown().optional(),
    editable: z.boolean().optional(),
    mandatory: z.boolean().optional(),
    unique: z.boolean().optional(),
    description: z.string().optional(),
    /** Cache only: this link field has a GSI-backed index (entity) or membership items (multi_entity). */
    indexed: z.boolean().optional(),
  })
  .strict();
export type FieldDef = z.infer<typeof FieldSchema>;

export const EntityTypeSchema = z
  .object({
    /** Display name, as schema_entity_read reports it. */
    display_name: z.string().optional(),
    /** The field whose value is a link's `name` (code, content, subject, name, title, ...). */
    identifier: z.string(),
    fields: z.record(z.string(), FieldSchema),
    /** Cache only: fields of the site left out of the cache, with the reason. Reads touching them pass through. */
    skipped: z.record(z.string(), z.string()).optional(),
  })
  .strict();
export type EntityTypeDef = z.infer<typeof EntityTypeSchema>;

export const SchemaFileSchema = z
  .object({
    /** Free text saying where the file came from. */
    source: z.string().optional(),
    types: z.record(z.string(), EntityTypeSchema),
    /**
     * Cache only: identifier fields of link-target types that are not cached themselves (e.g. CustomEntity05: code),
     * so link names to them can be kept current from rename events.
     */
    link_targets: z.record(z.string(), z.string()).optional(),
  })
  .strict();
export type SchemaFile = z.infer<typeof SchemaFileSchema>;

/** A loaded schema with fast lookups. Immutable. */
export class SiteSchema {
  constructor(readonly file: SchemaFile) {}

  static parse(raw: unknown, where = 'schema'): SiteSchema {
    const r = SchemaFileSchema.safeParse(raw);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new Error(`${where}: invalid at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    for (const [typeName, t] of Object.entries(r.data.types)) {
      if (!t.fields.id) throw new Error(`${where}: invalid at types.${typeName}.fields: every type needs an id field`);
      if (!t.fields[t.identifier] && t.identifier !== 'id') {
        throw new Error(`${where}: invalid at types.${typeName}.identifier: field '${t.identifier}' is not in fields`);
      }
    }
    return new SiteSchema(r.data);
  }

  get typeNames(): string[] {
    return Object.keys(this.file.types);
  }
  hasType(type: string): boolean {
    return Object.hasOwn(this.file.types, type);
  }
  type(type: string): EntityTypeDef | undefined {
    return this.hasType(type) ? this.file.types[type] : undefined;
  }
  field(type: string, field: string): FieldDef | undefined {
    const t = this.type(type);
    return t && Object.hasOwn(t.fields, field) ? t.fields[field] : undefined;
  }
  dataType(type: string, field: string): DataType | undefined {
    return this.field(type, field)?.data_type;
  }
  /** The identifier field (a link's `name` source) of a type: cached types first, then link_targets. */
  identifier(type: string): string | undefined {
    return this.type(type)?.identifier ?? (this.file.link_targets && Object.hasOwn(this.file.link_targets, type) ? this.file.link_targets[type] : undefined);
  }
}
