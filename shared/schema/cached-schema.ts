// The cached subset of the schema: loading and checking schema/*.yml, and each type's link-slot assignment (l1..l4).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { SchemaFileSchema, SiteSchema } from './schema-model.js';

/** Number of `lN` link-slot GSIs (shared/store/table-design.ts creates them): each cached type maps up to this many indexed entity fields to slots. */
export const LINK_SLOTS = 4;

/** The schema file used when `SCHEMA` is unset, relative to the repository root (the working directory). */
export const DEFAULT_SCHEMA_FILE = 'schema/default.yml';

/**
 * A type's indexed single-entity link fields mapped to GSI slots 1..LINK_SLOTS, in field-name order. The order is
 * deterministic whatever the file's layout; adding or removing an indexed field of a type can move its other
 * fields to other slots, so it needs that type re-imported (its readiness reset), see docs/design.md.
 */
export type LinkSlots = ReadonlyMap<string, number>;

/** The loaded cached schema: the SiteSchema the semantics model reads, plus the storage facts the store and planner need. */
export class CachedSchema {
  private readonly slots = new Map<string, LinkSlots>();

  constructor(
    readonly site: SiteSchema,
    readonly source: string,
  ) {
    for (const [typeName, t] of Object.entries(site.file.types)) {
      const indexed = Object.entries(t.fields)
        .filter(([, f]) => f.indexed === true && f.data_type === 'entity')
        .map(([name]) => name)
        .sort();
      this.slots.set(typeName, new Map(indexed.map((name, i) => [name, i + 1])));
    }
  }

  /** Indexed single-entity fields of `type` -> slot number 1..LINK_SLOTS (empty for unknown types). */
  linkSlots(type: string): LinkSlots {
    return this.slots.get(type) ?? EMPTY_SLOTS;
  }

  /** The slot of `type.field`, or undefined when the field has none. */
  linkSlot(type: string, field: string): number | undefined {
    return this.slots.get(type)?.get(field);
  }

  /** Whether `type.field` is a cached field (in `fields`, not under `skipped`). */
  isCached(type: string, field: string): boolean {
    return this.site.field(type, field) !== undefined;
  }

  /** The reason `type.field` is left out of the cache, when the file says so. */
  skipReason(type: string, field: string): string | undefined {
    const s = this.site.type(type)?.skipped;
    return s && Object.hasOwn(s, field) ? s[field] : undefined;
  }
}
const EMPTY_SLOTS: LinkSlots = new Map();

/** Line and column of a YAML path (or its nearest existing parent), for error messages. */
function locate(text: string, path: (string | number)[]): string {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  for (let n = path.length; n > 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) {
      const p = lc.linePos(node.range[0]);
      return ` (line ${p.line}, column ${p.col})`;
    }
  }
  return '';
}

/** Parses and checks a schema file's text. `where` names the file in errors ("schema/default.yml: invalid at ..."). */
export function parseCachedSchema(text: string, where: string): CachedSchema {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = e.linePos?.[0];
    throw new Error(`${where}: invalid YAML${pos ? ` (line ${pos.line}, column ${pos.col})` : ''}: ${e.message.split('\n')[0]}`);
  }
  const raw: unknown = doc.toJS();
  const r = SchemaFileSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    throw new Error(`${where}: invalid at ${path.join('.') || '(root)'}${locate(text, path)}: ${issue.message}`);
  }
  const fail = (path: (string | number)[], message: string): never => {
    throw new Error(`${where}: invalid at ${path.join('.')}${locate(text, path)}: ${message}`);
  };
  const file = r.data;
  for (const [typeName, t] of Object.entries(file.types)) {
    let indexedEntity = 0;
    for (const [fieldName, f] of Object.entries(t.fields)) {
      const at = ['types', typeName, 'fields', fieldName];
      if (f.data_type === 'entity' || f.data_type === 'multi_entity') {
        if (!f.valid_types || f.valid_types.length === 0) fail([...at, 'valid_types'], `a ${f.data_type} field needs valid_types`);
        for (const vt of f.valid_types ?? []) {
          if (!Object.hasOwn(file.types, vt) && !(file.link_targets && Object.hasOwn(file.link_targets, vt))) {
            fail(
              [...at, 'valid_types'],
              `link target type ${vt} is neither cached nor listed under link_targets (its identifier field is needed for link names)`,
            );
          }
        }
      } else if (f.indexed === true) {
        fail([...at, 'indexed'], `only entity and multi_entity fields can be indexed, not ${f.data_type}`);
      }
      if (f.data_type === 'entity' && f.indexed === true) indexedEntity++;
      if (t.skipped && Object.hasOwn(t.skipped, fieldName)) fail(['types', typeName, 'skipped', fieldName], 'a field cannot be both cached and skipped');
    }
    if (indexedEntity > LINK_SLOTS) {
      fail(['types', typeName, 'fields'], `${indexedEntity} indexed entity fields, at most ${LINK_SLOTS} (LINK_SLOTS in shared/schema/cached-schema.ts)`);
    }
  }
  return new CachedSchema(SiteSchema.parse(raw, where), where);
}

/** Loads a schema file from disk; errors name the file and the place. */
export function loadCachedSchema(file: string): CachedSchema {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read the schema file: ${(e as Error).message}`, { cause: e });
  }
  return parseCachedSchema(text, file);
}

/** The schema file the environment selects: `SCHEMA`, else schema/default.yml (relative to `cwd`). */
export function schemaFileFromEnv(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  return resolve(cwd, env.SCHEMA && env.SCHEMA.trim() !== '' ? env.SCHEMA : DEFAULT_SCHEMA_FILE);
}
