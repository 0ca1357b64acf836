// Schema drift: the deployed cached schema compared with the site's live field definitions (schema_field_read), and the drift recorded in readiness.
//
// A field whose definition changed on the site (data type, link targets) or that the site no longer has cannot be
// served from values imported under the deployed definition, nor can new values be stored under it. Such a field is
// "drifted": recorded per field in the readiness item (state table), out of service (reads touching it pass through),
// skipped by the consumer, counted by the SchemaDrift metric, and logged for the operator, who runs
// `fpt-cache schema dump` and deploys. Once the deployed schema matches the site again the next check clears the
// record, and the field (no longer in the ready set, its fingerprint changed) is backfilled before it is served.
import { z } from 'zod';
import type { CachedSchema } from '../schema/index.js';
import { ShotgunFault } from '../site/index.js';
import { WHOLE_TYPE, type DriftRecord, type Readiness, type ReadinessStore } from '../store/index.js';
import type { SyncMetrics } from './sync-metrics.js';

export type DriftKind = DriftRecord['kind'];

/** One difference between the deployed definition of a cached field and the site's. `field` is WHOLE_TYPE for type-removed. */
export interface FieldDrift {
  type: string;
  field: string;
  kind: DriftKind;
  /** The deployed definition: data type, plus sorted link targets for entity fields. */
  cached: string;
  /** The site's definition, absent when the field (or type) is gone. */
  site?: string;
}

const Prop = z.looseObject({ value: z.unknown() });
/** One field of a schema_field_read reply: {data_type: {value}, properties: {valid_types: {value}, ...}}. */
const LiveFieldSchema = z.looseObject({ data_type: Prop, properties: z.record(z.string(), Prop).optional() });
/** schema_field_read(type) results: every field of the type. */
export const LiveFieldsSchema = z.record(z.string(), LiveFieldSchema);
export type LiveFields = z.infer<typeof LiveFieldsSchema>;

const isLinkType = (dt: string) => dt === 'entity' || dt === 'multi_entity';
const describe = (dataType: string, validTypes: readonly string[] | undefined) =>
  isLinkType(dataType) ? `${dataType}[${[...(validTypes ?? [])].sort().join(',')}]` : dataType;

/**
 * The drift of one cached type: its deployed fields against the site's (`live`, undefined when the site has no such
 * type). Fields only the site has are not drift (the cache does not serve them). Pure.
 */
export function compareType(schema: CachedSchema, type: string, live: LiveFields | undefined): FieldDrift[] {
  const t = schema.site.type(type);
  if (!t) return [];
  if (!live) return [{ type, field: WHOLE_TYPE, kind: 'type-removed', cached: type }];
  const out: FieldDrift[] = [];
  for (const [field, def] of Object.entries(t.fields)) {
    const cached = describe(def.data_type, def.valid_types);
    const l = Object.hasOwn(live, field) ? live[field] : undefined;
    if (!l) {
      out.push({ type, field, kind: 'removed', cached });
      continue;
    }
    const dt = String(l.data_type.value);
    const vt = l.properties?.valid_types?.value;
    const site = describe(dt, Array.isArray(vt) ? vt.filter((x): x is string => typeof x === 'string') : []);
    if (dt !== def.data_type) out.push({ type, field, kind: 'type-changed', cached, site });
    else if (isLinkType(dt) && site !== cached) out.push({ type, field, kind: 'targets-changed', cached, site });
  }
  return out;
}

/** The site's side: schema_field_read for a type, schema_entity_read to tell "no such type" from other faults. */
export interface SchemaSource {
  call<T = unknown>(method: string, params?: unknown): Promise<T>;
}

/** The live field definitions of `type`, or undefined when the site has no such type. */
export async function fetchLiveFields(site: SchemaSource, type: string): Promise<LiveFields | undefined> {
  try {
    return LiveFieldsSchema.parse(await site.call('schema_field_read', { type }));
  } catch (e) {
    if (!(e instanceof ShotgunFault)) throw e;
    const types = await site.call<Record<string, unknown>>('schema_entity_read', {});
    if (types && typeof types === 'object' && !Object.hasOwn(types, type)) return undefined;
    throw e;
  }
}

/** Fetches and compares (no recording): the drift of `types` (default: every cached type). */
export async function diffSchema(schema: CachedSchema, site: SchemaSource, types?: readonly string[], concurrency = 4): Promise<FieldDrift[]> {
  const queue = [...(types ?? schema.site.typeNames)].filter((t) => schema.site.hasType(t));
  const out: FieldDrift[] = [];
  await Promise.all(
    Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
      for (let t = queue.shift(); t !== undefined; t = queue.shift()) out.push(...compareType(schema, t, await fetchLiveFields(site, t)));
    }),
  );
  return out.sort((a, b) => a.type.localeCompare(b.type) || a.field.localeCompare(b.field));
}

/**
 * The entity type a `Shotgun_DisplayColumn_*` event is about, when its meta says so. Real captures name only the
 * column (entity {"type": "DisplayColumn", "name": field}, peers.md §4: "does not mention CustomEntity02"), so
 * this is usually undefined and the caller checks every cached type.
 */
export function displayColumnEntityType(meta: unknown): string | undefined {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(meta)) return undefined;
  for (const v of [
    meta.entity_type,
    isObj(meta.new_value) ? meta.new_value.entity_type : undefined,
    isObj(meta.old_value) ? meta.old_value.entity_type : undefined,
  ]) {
    if (typeof v === 'string' && v !== '' && v !== 'DisplayColumn') return v;
  }
  return undefined;
}

export interface SchemaDriftDeps {
  schema: CachedSchema;
  site: SchemaSource;
  /** Must be built with the same deployed schema (fingerprints). */
  readiness: ReadinessStore;
  metrics?: SyncMetrics;
  log?: (message: string, details?: Record<string, unknown>) => void;
  now?: () => Date;
  /** How long `view()` reuses one readiness load (default 10 s). */
  viewMaxAgeMs?: number;
}

export interface DriftCheck {
  /** The types compared. */
  types: string[];
  /** Drift found now in those types. */
  drifted: FieldDrift[];
  /** Of those, the ones not recorded before. */
  detected: FieldDrift[];
  /** Recorded drift that the site no longer shows (the deployed schema matches again). */
  cleared: Array<{ type: string; field: string }>;
  /** Drifted fields recorded across every type after the check (the SchemaDrift metric). */
  total: number;
}

/** Compares, records and clears drift; the consumer (DisplayColumn events) and the reconciler (periodically) call it. */
export class SchemaDrift {
  private viewAt = -Infinity;
  private current: Promise<Readiness> | undefined;

  constructor(private readonly d: SchemaDriftDeps) {}

  /** Readiness as recently loaded (at most viewMaxAgeMs old, fresh after a check): which fields are drifted now. */
  view(): Promise<Readiness> {
    const now = Date.now();
    if (!this.current || now - this.viewAt > (this.d.viewMaxAgeMs ?? 10_000)) {
      this.viewAt = now;
      const p = this.d.readiness.load();
      p.catch(() => {
        if (this.current === p) this.current = undefined;
      });
      this.current = p;
    }
    return this.current;
  }

  /** Diffs `types` (default: every cached type) against the site and brings the recorded drift in line with it. */
  async check(types?: readonly string[], trigger = 'check'): Promise<DriftCheck> {
    const scope = [...(types ?? this.d.schema.site.typeNames)].filter((t) => this.d.schema.site.hasType(t));
    const drifted = await diffSchema(this.d.schema, this.d.site, scope);
    const before = await this.d.readiness.load();
    const at = (this.d.now?.() ?? new Date()).toISOString();
    const detected: FieldDrift[] = [];
    const cleared: DriftCheck['cleared'] = [];
    for (const type of scope) {
      const recorded = before.driftOf(type);
      const now = drifted.filter((x) => x.type === type);
      const fresh = now.filter((x) => {
        const r = recorded.get(x.field);
        return !r || r.kind !== x.kind || r.site !== x.site || r.cached !== x.cached;
      });
      const gone = [...recorded.keys()].filter((f) => !now.some((x) => x.field === f));
      if (fresh.length) {
        await this.d.readiness.recordDrift(
          type,
          fresh.map((x) => ({ field: x.field, record: { kind: x.kind, cached: x.cached, site: x.site, at: recorded.get(x.field)?.at ?? at } })),
        );
        detected.push(...fresh);
      }
      if (gone.length) {
        await this.d.readiness.clearDrift(type, gone);
        cleared.push(...gone.map((field) => ({ type, field })));
      }
    }
    if (!types) {
      // Types the deployed schema no longer caches: their drift is moot.
      const dropped = new Map<string, string[]>();
      for (const x of before.drifted()) if (!this.d.schema.site.hasType(x.type)) dropped.set(x.type, [...(dropped.get(x.type) ?? []), x.field]);
      for (const [type, fields] of dropped) {
        await this.d.readiness.clearDrift(type, fields);
        cleared.push(...fields.map((field) => ({ type, field })));
      }
    }
    this.current = undefined;
    const after = await this.view();
    const total = after.drifted().length;
    this.d.metrics?.add('SchemaDrift', total);
    for (const x of detected) {
      this.d.log?.(
        'schema drift: the site changed a cached field; it is not served and not updated until the schema file matches the site: run `fpt-cache schema dump` and deploy',
        {
          schemaDrift: true,
          trigger,
          type: x.type,
          field: x.field,
          kind: x.kind,
          deployed: x.cached,
          site: x.site ?? null,
        },
      );
    }
    for (const c of cleared) {
      this.d.log?.('schema drift cleared: the deployed schema matches the site again; the field is rebuilt (backfilled) before it is served', {
        schemaDrift: false,
        trigger,
        type: c.type,
        field: c.field,
      });
    }
    return { types: scope, drifted, detected, cleared, total };
  }
}
