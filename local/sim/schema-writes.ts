// The schema write methods as shotgun_api3 sends them (schema_field_create / _update / _delete): fields created, renamed, described, hidden per project, or deleted, with the DisplayColumn events a site logs.
import { z } from 'zod';
import { DataTypeSchema, ErrorCode, ShotgunFault } from '../../shared/site/index.js';
import type { SiteSchema } from '../../shared/schema/index.js';
import type { Actor } from './auth.js';
import type { EventLog } from './event-log.js';
import { changeField } from './schema-changes.js';
import type { SiteStore } from './store.js';

const Property = z.object({ property_name: z.string().min(1), value: z.unknown() });
const ProjectRef = z.looseObject({ type: z.literal('Project'), id: z.number().int() });
const CreateSchema = z.looseObject({ type: z.string().min(1), data_type: DataTypeSchema, properties: z.array(Property) });
const UpdateSchema = z.looseObject({ type: z.string().min(1), field_name: z.string().min(1), properties: z.array(Property), project: ProjectRef.optional() });
const DeleteSchema = z.looseObject({ type: z.string().min(1), field_name: z.string().min(1) });

export interface SchemaWritesDeps {
  schema: SiteSchema;
  store: SiteStore;
  events: EventLog;
  now: () => Date;
}

const fault = (method: string, message: string) => new ShotgunFault(`API ${method}() ${message}`, ErrorCode.API);

function parse<S extends z.ZodType>(method: string, s: S, raw: unknown): z.infer<S> {
  const r = s.safeParse(raw);
  if (!r.success) throw fault(method, `invalid parameters: ${r.error.issues[0].path.join('.') || 'params'}: ${r.error.issues[0].message}`);
  return r.data;
}

export class SchemaWrites {
  /** Fields hidden per project (schema_field_update `visible: false` with a project): schema replies for that project report them not visible. */
  private readonly hiddenByProject = new Map<number, Map<string, Set<string>>>();
  /** `type.field` of the fields created through schema_field_create (custom fields). */
  private readonly created = new Set<string>();
  constructor(private readonly d: SchemaWritesDeps) {}

  /** Whether the field was created through the API (bound: handed to schema replies). */
  readonly isCustom = (type: string, field: string): boolean => this.created.has(`${type}.${field}`);

  /** The fields of `type` hidden in `project`. */
  hiddenIn(project: number | undefined, type: string): ReadonlySet<string> {
    return (project !== undefined && this.hiddenByProject.get(project)?.get(type)) || NONE;
  }

  /** Creates `sg_<display name>` (with `_1`, `_2` ... when taken), logging Shotgun_DisplayColumn_New; returns the field name. */
  create(actor: Actor, raw: unknown): string {
    const p = parse('schema_field_create', CreateSchema, raw);
    const t = this.d.schema.type(p.type);
    if (!t) throw fault('schema_field_create', `entity type ${p.type} doesn't exist`);
    const name = p.properties.find((x) => x.property_name === 'name')?.value;
    if (typeof name !== 'string' || name.trim() === '') throw fault('schema_field_create', 'a name property is required');
    const base = `sg_${name
      .trim()
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_|_$/g, '')}`;
    let field = base;
    for (let i = 1; Object.hasOwn(t.fields, field); i++) field = `${base}_${i}`;
    changeField({ ...this.d, actor, now: this.d.now() }, { type: p.type, field, add: true, data_type: p.data_type });
    this.created.add(`${p.type}.${field}`);
    this.describe(p.type, field, p.properties);
    return field;
  }

  /** Sets `name`, `description`, or `visible` (with a project only); logs Shotgun_DisplayColumn_Change. */
  update(actor: Actor, raw: unknown): boolean {
    const p = parse('schema_field_update', UpdateSchema, raw);
    const def = this.d.schema.field(p.type, p.field_name);
    if (!def) throw fault('schema_field_update', `${p.type}.${p.field_name} doesn't exist`);
    for (const x of p.properties) {
      if (x.property_name !== 'visible') continue;
      if (!p.project) throw fault('schema_field_update', 'the visible property can only be set for a project (project_entity)');
      const byType = this.hiddenByProject.get(p.project.id) ?? new Map<string, Set<string>>();
      this.hiddenByProject.set(p.project.id, byType);
      const set = byType.get(p.type) ?? new Set<string>();
      byType.set(p.type, set);
      if (x.value === false) set.add(p.field_name);
      else set.delete(p.field_name);
    }
    this.describe(p.type, p.field_name, p.properties);
    const batch = this.d.events.begin(actor, this.d.now());
    batch.add(
      'Shotgun_DisplayColumn_Change',
      'properties',
      null,
      { type: 'attribute_change', attribute_name: 'properties', entity_type: 'DisplayColumn' },
      `${def.name ?? p.field_name} column changed`,
    );
    this.d.events.commit(batch);
    return true;
  }

  /** Deletes the field (values dropped; no event, as changeField's remove). */
  delete(actor: Actor, raw: unknown): boolean {
    const p = parse('schema_field_delete', DeleteSchema, raw);
    if (!this.d.schema.field(p.type, p.field_name)) throw fault('schema_field_delete', `${p.type}.${p.field_name} doesn't exist`);
    changeField({ ...this.d, actor, now: this.d.now() }, { type: p.type, field: p.field_name, remove: true });
    return true;
  }

  private describe(type: string, field: string, properties: ReadonlyArray<z.infer<typeof Property>>): void {
    const def = this.d.schema.field(type, field) as { name?: string; description?: string } | undefined;
    if (!def) return;
    for (const x of properties) {
      if (x.property_name === 'name' && typeof x.value === 'string') def.name = x.value;
      if (x.property_name === 'description' && typeof x.value === 'string') def.description = x.value;
    }
  }
}
const NONE: ReadonlySet<string> = new Set();
