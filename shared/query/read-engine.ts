// The cache's read path: plan a `read`, fetch its candidates and linked entities from the entity store, and let the semantics model answer.
import type { CachedSchema } from '../schema/index.js';
import { ShotgunFault, SummaryParamsSchema, type ReadResult } from '../site/index.js';
import { ScanTooLarge, addStats, emptyStats, type EntityStore, type OrderedSource, type ReadStats, type StoredEntity, type Readiness } from '../store/index.js';
import { MAX_FANOUT, planRead, type Access, type ReadPlan } from './planner.js';
import { indexOrder, readOrdered, type IndexOrder } from './ordered-read.js';
import { DEFAULT_VOLATILE_POLICY, volatileReason, volatileSources, type VolatilePolicy, type VolatileRef } from './volatile-values.js';
import {
  executeRead,
  executeSummarize,
  readMatcher,
  validateSummarize,
  type SummarizeResult,
  type EntityLookup,
  type EntityRecord,
} from '../semantics/index.js';

export type ReadOutcome =
  | { served: true; result: ReadResult; access: Access['kind']; stats: ReadStats; candidates: number; volatile?: VolatileRef[] }
  /** `volatile`: the entities whose stored signed URLs (or placeholders) made the read pass: due for renewal. */
  | { served: false; reason: string; volatile?: VolatileRef[] };

export type SummarizeOutcome =
  { served: true; result: SummarizeResult; access: Access['kind']; stats: ReadStats; candidates: number } | { served: false; reason: string };

/** Keys of `summarize` params the site knows (protocol.md §2.1). */
const SUMMARIZE_KEYS: readonly string[] = ['type', 'summaries', 'filters', 'grouping', 'include_archived_projects'];

/** The `read` a `summarize` amounts to for planning: same type and filters, returning its summary and grouping fields. */
export function summarizeAsRead(sp: {
  type: string;
  filters?: unknown;
  summaries: Array<{ field: string }>;
  grouping?: Array<{ field: string }>;
}): Record<string, unknown> {
  const fields = [...new Set([...sp.summaries.map((x) => x.field), ...(sp.grouping ?? []).map((g) => g.field)])];
  return { type: sp.type, filters: sp.filters ?? { logical_operator: 'and', conditions: [] }, return_fields: fields };
}

export interface ReadEngineOptions {
  /** Readiness snapshot source (called per read; cache it in the caller as needed). */
  readiness: () => Readiness | Promise<Readiness>;
  /** The clock handed to the semantics model. */
  now?: () => Date;
  /**
   * Most entities a whole-type or whole-project read may gather (default MAX_SCAN_ENTITIES); a larger one passes
   * through with reason `scan-too-large:<Type>`, remembered for SCAN_VERDICT_MS so the next such read does not scan again.
   */
  maxScanEntities?: number;
  /**
   * Signed URLs in an answer must stay valid this long by this clock (default: SIGNED_URL_MARGIN_S's default, the real
   * clock); `false`: stored values as they are (the validator compares them with the site's by object).
   */
  volatile?: VolatilePolicy | false;
}

/**
 * Above this many candidates, reading a whole type or project from DynamoDB (about 1 KB each, 1 MB per Query page)
 * is no faster than the site and costs the function's memory: the read goes to the site instead.
 */
export const MAX_SCAN_ENTITIES = 5_000;
/** How long a scan found too large is remembered (per engine, i.e. per container). */
const SCAN_VERDICT_MS = 5 * 60_000;

/**
 * Linked entities for the semantics model: whole records fetched for deep paths, else a stub per link target
 * built from the denormalized link facts (identifier value = stored name, retired = stored flag).
 */
export class StoreLookup implements EntityLookup {
  private readonly full = new Map<string, EntityRecord>();
  private readonly stubs = new Map<string, EntityRecord>();

  constructor(private readonly schema: CachedSchema) {}

  addFacts(e: StoredEntity): void {
    for (const l of e.links) {
      const k = `${l.type}#${l.id}`;
      if (this.stubs.has(k)) continue;
      const idf = this.schema.site.identifier(l.type);
      const values: Record<string, unknown> = idf && idf !== 'id' ? { [idf]: l.name } : {};
      this.stubs.set(k, { type: l.type, id: l.id, retired: l.retired, values });
    }
  }

  addRecord(r: EntityRecord): void {
    this.full.set(`${r.type}#${r.id}`, r);
  }

  get(type: string, id: number): EntityRecord | undefined {
    const k = `${type}#${id}`;
    return this.full.get(k) ?? this.stubs.get(k);
  }
}

/** What the semantics model answers from: the candidates, the lookup of linked entities, the cost, and the clock their matching used. */
interface Gathered {
  candidates: StoredEntity[];
  lookup: StoreLookup;
  stats: ReadStats;
  now?: Date;
}

export class ReadEngine {
  /** "type" or "type#project" -> when a scan of it was found too large. */
  private readonly tooLarge = new Map<string, number>();

  constructor(
    private readonly store: EntityStore,
    private readonly schema: CachedSchema,
    private readonly opts: ReadEngineOptions,
  ) {}

  private now(): Date {
    return (this.opts.now ?? (() => new Date()))();
  }

  private get maxScan(): number {
    return this.opts.maxScanEntities ?? MAX_SCAN_ENTITIES;
  }

  /** A whole-type or whole-project query, capped; throws ScanTooLarge (remembered) past the cap. */
  private async scan(
    key: string,
    query: (max: number) => Promise<{ entities: StoredEntity[]; stats: ReadStats }>,
  ): Promise<{ entities: StoredEntity[]; stats: ReadStats }> {
    const at = this.tooLarge.get(key);
    if (at !== undefined && Date.now() - at < SCAN_VERDICT_MS) throw new ScanTooLarge(this.maxScan);
    try {
      return await query(this.maxScan);
    } catch (e) {
      if (e instanceof ScanTooLarge) this.tooLarge.set(key, Date.now());
      throw e;
    }
  }

  /** Answers a `read` from the cache when it can do so exactly; otherwise says why it must pass through. */
  async read(rawParams: unknown): Promise<ReadOutcome> {
    const planned = planRead(this.schema, await this.opts.readiness(), rawParams);
    if (!planned.ok) return { served: false, reason: planned.reason };
    const plan = planned.plan;
    const gathered = await this.gatherCapped(plan, true);
    if ('reason' in gathered) return { served: false, reason: gathered.reason };
    const { candidates, lookup, stats } = gathered;
    let result: ReadResult;
    try {
      result = executeRead(
        { schema: this.schema.site, lookup, now: gathered.now ?? this.now(), rules: plan.rules },
        plan.params,
        candidates.map((c) => c.record),
      );
    } catch (e) {
      // A fault only the data reveals: the site's own reply is the answer.
      if (e instanceof ShotgunFault) return { served: false, reason: 'invalid-request' };
      throw e;
    }
    // Signed URLs are served while valid for the margin; a placeholder (thumbnail pending) never (docs/semantics.md "Volatile values").
    const byId = new Map(candidates.map((c) => [c.record.id, c.record]));
    const sources = volatileSources(result, plan.params.type, (id, field) => byId.get(id)?.values[field]);
    const volatile = sources.length && this.opts.volatile !== false ? volatileReason(result, this.opts.volatile ?? DEFAULT_VOLATILE_POLICY) : undefined;
    if (volatile) return { served: false, reason: volatile, volatile: sources };
    return { served: true, result, access: plan.access.kind, stats, candidates: candidates.length, ...(sources.length ? { volatile: sources } : {}) };
  }

  /**
   * Answers `summarize` from the cache when exact: planned as a `read` of the same type and filters returning the
   * summary and grouping fields (so the same readiness, field and operator checks apply), then summarized by the
   * semantics model over the candidates.
   */
  async summarize(rawParams: unknown): Promise<SummarizeOutcome> {
    if (typeof rawParams !== 'object' || rawParams === null || Array.isArray(rawParams)) return { served: false, reason: 'malformed-params' };
    for (const k of Object.keys(rawParams)) if (!SUMMARIZE_KEYS.includes(k)) return { served: false, reason: `unknown-key:${k}` };
    const parsed = SummaryParamsSchema.safeParse(rawParams);
    if (!parsed.success) return { served: false, reason: 'malformed-params' };
    const sp = parsed.data;
    const ready = await this.opts.readiness();
    const planned = planRead(
      this.schema,
      ready,
      { ...summarizeAsRead(sp), ...(sp.include_archived_projects === false ? { include_archived_projects: false } : {}) },
      { missingReturnFields: false },
    );
    if (!planned.ok) return { served: false, reason: planned.reason };
    // Groups are ordered like sorts by the default semantics only (shared/summaries.ts).
    if (sp.grouping?.length && !ready.siteRules.defaultOrder) return { served: false, reason: 'site-rule:group-order' };
    try {
      validateSummarize(this.schema.site, sp);
    } catch {
      return { served: false, reason: 'invalid-request' };
    }
    const plan = planned.plan;
    const gathered = await this.gatherCapped(plan);
    if ('reason' in gathered) return { served: false, reason: gathered.reason };
    const { candidates, lookup, stats } = gathered;
    try {
      const result = executeSummarize(
        { schema: this.schema.site, lookup, now: this.now(), rules: plan.rules },
        sp,
        candidates.map((c) => c.record),
      );
      return { served: true, result, access: plan.access.kind, stats, candidates: candidates.length };
    } catch (e) {
      if (e instanceof ShotgunFault) return { served: false, reason: 'invalid-request' };
      throw e;
    }
  }

  /** gather, or the pass reason when a whole-type or whole-project read is over the cap. */
  private async gatherCapped(plan: ReadPlan, ordered = false): Promise<Gathered | { reason: string }> {
    try {
      const order = ordered ? indexOrder(this.schema, plan) : undefined;
      return (order && (await this.gatherOrdered(plan, order))) || (await this.gather(plan));
    } catch (e) {
      if (e instanceof ScanTooLarge) return { reason: `scan-too-large:${plan.params.type}` };
      throw e;
    }
  }

  /** Everything the semantics model needs for a plan: the candidates and a lookup holding every linked entity it reaches. */
  private async gather(plan: ReadPlan): Promise<Gathered> {
    const stats = emptyStats();
    const known = new Map<string, StoredEntity>();
    const candidates = await this.candidates(plan, stats, known);
    const lookup = new StoreLookup(this.schema);
    for (const c of candidates) lookup.addFacts(c);
    await this.prefetchDeep(plan, candidates, lookup, stats, this.seedKnown(plan, known, lookup));
    return { candidates, lookup, stats };
  }

  /**
   * gather for a read ordered by id (ordered-read.ts): its id-ordered sources read page by page, each page's link facts
   * and deep records added before its rows are matched, until every source holds the reply's rows. Undefined when the
   * semantics model faults on the request (the normal path returns the site's fault).
   */
  private async gatherOrdered(plan: ReadPlan, order: IndexOrder): Promise<Gathered | undefined> {
    const stats = emptyStats();
    const known = new Map<string, StoredEntity>();
    const type = plan.params.type;
    const from = await this.orderedSources(type, plan.access, stats, known);
    const lookup = new StoreLookup(this.schema);
    const fetched = this.seedKnown(plan, known, lookup);
    const admit = async (entities: StoredEntity[]) => {
      for (const c of entities) lookup.addFacts(c);
      await this.prefetchDeep(plan, entities, lookup, stats, fetched);
    };
    if ('entities' in from) {
      await admit(from.entities);
      return { candidates: from.entities, lookup, stats };
    }
    const now = this.now();
    let matches: (rec: EntityRecord) => boolean;
    try {
      matches = readMatcher({ schema: this.schema.site, lookup, now, rules: plan.rules }, plan.params);
    } catch (e) {
      if (e instanceof ShotgunFault) return undefined;
      throw e;
    }
    const candidates = await readOrdered(this.store, from.sources, order, { maxScan: this.maxScan, stats, admit, matches });
    return { candidates, lookup, stats, now };
  }

  /** The id-ordered sources of an access; a semi-join reads its inner side first (its fallback when too many match), a fallback no index orders reads whole. */
  private async orderedSources(
    type: string,
    a: Access,
    stats: ReadStats,
    known: Map<string, StoredEntity>,
  ): Promise<{ sources: OrderedSource[] } | { entities: StoredEntity[] }> {
    switch (a.kind) {
      case 'type':
        return { sources: [{ index: 'type', type }] };
      case 'project':
        return { sources: a.projectIds.map((projectId) => ({ index: 'project', type, projectId })) };
      case 'link':
        return { sources: a.targets.map((target) => ({ index: 'link', type, field: a.field, target })) };
      case 'semi': {
        const inner = await this.read_(a.targetType, a.inner, stats, known);
        if (inner.length > MAX_FANOUT) return this.orderedSources(type, a.fallback, stats, known);
        for (const t of inner) known.set(`${t.record.type}#${t.record.id}`, t);
        return { sources: inner.map((t) => ({ index: 'link', type, field: a.field, target: { type: t.record.type, id: t.record.id } })) };
      }
      case 'ids':
      case 'ref':
        return { entities: await this.read_(type, a, stats, known) };
    }
  }

  /** The map of entities fetched whole for deep paths, seeded with those read on the way (a semi-join's targets). */
  private seedKnown(plan: ReadPlan, known: Map<string, StoredEntity>, lookup: StoreLookup): Map<string, StoredEntity> {
    const fetched = new Map<string, StoredEntity>();
    if (!plan.deep.length) return fetched;
    for (const [k, e] of known) {
      fetched.set(k, e);
      lookup.addRecord(e.record);
      lookup.addFacts(e);
    }
    return fetched;
  }

  /** The root candidates; `known` collects entities read on the way (a semi-join's targets) so deep hops reuse them. */
  private async candidates(plan: ReadPlan, stats: ReadStats, known: Map<string, StoredEntity>): Promise<StoredEntity[]> {
    return this.read_(plan.params.type, plan.access, stats, known);
  }

  private async read_(type: string, a: Access, stats: ReadStats, known: Map<string, StoredEntity>): Promise<StoredEntity[]> {
    const collect = async (reads: Array<Promise<{ entities: StoredEntity[]; stats: ReadStats }>>): Promise<StoredEntity[]> => {
      const seen = new Set<number>();
      const out: StoredEntity[] = [];
      for (const r of await Promise.all(reads)) {
        addStats(stats, r.stats);
        for (const e of r.entities)
          if (!seen.has(e.record.id)) {
            seen.add(e.record.id);
            out.push(e);
          }
      }
      return out;
    };
    switch (a.kind) {
      case 'ids':
        return collect([this.store.getMany(type, a.ids)]);
      case 'link':
        return collect(a.targets.map((t) => this.store.byLink(type, a.field, t)));
      case 'ref': {
        const refs = await Promise.all(a.targets.map((t) => this.store.refs(t, { type, field: a.field })));
        const ids = new Set<number>();
        for (const r of refs) {
          addStats(stats, r.stats);
          for (const row of r.rows) ids.add(row.id);
        }
        return collect([this.store.getMany(type, [...ids])]);
      }
      case 'project':
        return collect(a.projectIds.map((p) => this.scan(`${type}#${p}`, (max) => this.store.byProject(type, p, max))));
      case 'type':
        return collect([this.scan(type, (max) => this.store.byType(type, {}, max))]);
      case 'semi': {
        const inner = await this.read_(a.targetType, a.inner, stats, known);
        if (inner.length > MAX_FANOUT) return this.read_(type, a.fallback, stats, known);
        for (const t of inner) known.set(`${t.record.type}#${t.record.id}`, t);
        return collect(inner.map((t) => this.store.byLink(type, a.field, { type: t.record.type, id: t.record.id })));
      }
    }
  }

  /**
   * Fetches the entities every deep path reaches, hop by hop (BatchGet per hop and type), so the semantics model
   * sees whole records (their own retired state and fields) at every hop.
   */
  private async prefetchDeep(plan: ReadPlan, roots: StoredEntity[], lookup: StoreLookup, stats: ReadStats, fetched: Map<string, StoredEntity>): Promise<void> {
    for (const path of plan.deep) {
      let level: EntityRecord[] = roots.map((r) => r.record);
      for (const hop of path.hops) {
        const ids = new Set<number>();
        for (const rec of level) {
          const v = rec.values[hop.field];
          for (const l of Array.isArray(v) ? v : v ? [v] : []) {
            const t = l as { type: string; id: number };
            if (t.type === hop.targetType && !fetched.has(`${t.type}#${t.id}`)) ids.add(t.id);
          }
        }
        if (ids.size) {
          const r = await this.store.getMany(hop.targetType, [...ids]);
          addStats(stats, r.stats);
          for (const e of r.entities) {
            fetched.set(`${e.record.type}#${e.record.id}`, e);
            lookup.addRecord(e.record);
            lookup.addFacts(e);
          }
        }
        const next: EntityRecord[] = [];
        for (const rec of level) {
          const v = rec.values[hop.field];
          for (const l of Array.isArray(v) ? v : v ? [v] : []) {
            const t = l as { type: string; id: number };
            const e = fetched.get(`${t.type}#${t.id}`);
            if (e && t.type === hop.targetType) next.push(e.record);
          }
        }
        level = next;
      }
    }
  }
}
