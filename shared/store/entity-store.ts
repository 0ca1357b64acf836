// The entity store: versioned read-merge-write of cached entities (optimistic lock on `w`), bulk import writes, link facts propagated to referrers, edge repair, signature renewals.
//
// Layout (docs/design.md "Items"): one entity item per entity (pk "<Type>#<id>", sk "E") and spill chunks for fields too
// large to keep inline (sk "X#<field>#<gen>#<n>") in the entities table; one edge item per link value no entities GSI
// covers in the refs table (pk "<TargetType>#<targetId>", sk "<Type>.<field>#<id padded>"). Every write is read-merge-write under an optimistic lock on the write counter `w`;
// versions (event ids or fetch stamps) decide per field whether a change is newer than what is stored. With write
// grouping on, a read-merge-write's final writes go as one transaction with other entities' (grouped-writes.ts).
import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CachedSchema } from '../schema/index.js';
import { renews } from '../site/index.js';
import type { EntityRecord } from '../semantics/index.js';
import type { TableNames } from './table-design.js';
import { StoreJournal } from './store-journal.js';
import { countersOfChange, projectOf } from './change-counters.js';
import { cloneState, edgeKeys, type EncodedEntity, encodeEntity, isLinkType, isObj, linkMap, toLink } from './item-codec.js';
import { patchLinkFacts, type Referrer } from './link-patch.js';
import { backoff, pool } from './table-io.js';
import { entityWriteSet, GroupedWrites } from './grouped-writes.js';
import { edgeId, edgeKey, emptyStats, ENTITY_SK, entityPk, type EntityState, type ImportWriteOptions, type Item, type LinkValue, padId, type PutOptions, type ReadStats, RETIRED_KEY, type Target, type WriteResult, type WriteStatus } from './item-layout.js';

export interface EntityStoreOptions {
  /** Max attempts of the read-merge-write loop under contention. */
  maxWriteAttempts?: number;
  /** Parallel requests for edge and chunk writes and per-entity propagation. */
  concurrency?: number;
  /** Limit per Query call (default: DynamoDB's 1 MB pages); tests set it to exercise pagination. */
  queryPageSize?: number;
  /** Tests: runs inside importEntities between the existence check and the blind write, with the ids about to be written blind. */
  onImportChecked?: (fresh: Target[]) => Promise<void>;
  /**
   * Each read-merge-write's final writes sent as one transaction, grouped with other entities' ready in the same turn
   * (shared/store/grouped-writes.ts; STORE_WRITE_GROUPING). Off: the writes go step by step.
   */
  groupWrites?: boolean;
}

export class EntityStore extends StoreJournal {
  private readonly maxWriteAttempts: number;
  private readonly onImportChecked: EntityStoreOptions['onImportChecked'];
  /** The write grouping, when on (its stats tell tests and benchmarks how writes were sent). */
  readonly grouped: GroupedWrites | undefined;

  constructor(ddb: DynamoDBClient, tables: TableNames, schema: CachedSchema, opts: EntityStoreOptions = {}) {
    super(ddb, tables, schema, opts);
    this.maxWriteAttempts = opts.maxWriteAttempts ?? 50;
    this.onImportChecked = opts.onImportChecked;
    this.grouped = opts.groupWrites ? new GroupedWrites(ddb) : undefined;
  }

  /**
   * Whole-entity write (an import or a re-fetch) stamped `version` (the event id the fetched state reflects).
   * Stale when the stored whole-entity version is >= `version`; fields changed by newer field-level events
   * (fv > version) keep their stored value. Links without `name` keep the stored name.
   */
  putEntity(record: EntityRecord, version: number, opts: PutOptions = {}): Promise<WriteResult> {
    return this.put(record, version, opts);
  }

  /** putEntity; with `bumps`, the entity's change counters are collected there for the caller to bump once (bulk writes). */
  private put(record: EntityRecord, version: number, opts: PutOptions, bumps?: Set<string>): Promise<WriteResult> {
    return this.mutate(record.type, record.id, (cur) => {
      if (cur && (opts.refresh ? cur.b > version : cur.b >= version)) return 'stale';
      const prevLinks = cur ? linkMap(this.schema, cur) : new Map<string, LinkValue>();
      const values: Record<string, unknown> = {};
      const fv: Record<string, number> = {};
      for (const [name, v] of Object.entries(record.values)) {
        if (name === 'id' || !this.schema.isCached(record.type, name)) continue;
        values[name] = this.normalize(record.type, name, v, prevLinks);
      }
      let retired = record.retired;
      if (cur) {
        for (const [k, n] of Object.entries(cur.fv)) {
          if (n <= version) continue;
          fv[k] = n;
          if (k === RETIRED_KEY) retired = cur.retired;
          else if (Object.hasOwn(cur.values, k)) values[k] = cur.values[k];
          else delete values[k];
        }
      }
      return { type: record.type, id: record.id, retired, values, v: Math.max(cur?.v ?? 0, version), b: version, fv, w: (cur?.w ?? 0) + 1 };
    }, bumps);
  }

  /**
   * Bulk whole-entity writes (docs/design.md W1), stamped `version`. Entities already stored go through putEntity's
   * read-merge-write. Entities not stored yet get their spill chunks and edges by BatchWriteItem, then:
   *
   * - by default, the entity item under `attribute_not_exists(pk)`, so an entity a concurrent writer created meanwhile
   *   is never overwritten (it goes through putEntity instead);
   * - with `blind` (the import), the entity items by BatchWriteItem too, no condition (3x the rate). A creator that
   *   raced the blind write (the consumer or write-through created the entity between the existence check and the
   *   write) is found in the creation journal, queried after the write for every id of `records`: those ids come back
   *   as `suspects`, whose stored state may be the import's older one, and the caller must re-fetch them from the site
   *   and write them at a fresh stamp. A creator that comes later finds the blind write's item and merges on top of it.
   */
  async importEntities(records: readonly EntityRecord[], version: number, opts: ImportWriteOptions = {}): Promise<{ created: number; merged: number; stale: number; suspects: Target[] }> {
    const out = { created: 0, merged: 0, stale: 0, suspects: [] as Target[] };
    const stored = await this.existing(records);
    const fresh: Array<{ record: EntityRecord; enc: EncodedEntity }> = [];
    const merge: EntityRecord[] = [];
    for (const record of records) {
      if (stored.has(entityPk(record.type, record.id))) { merge.push(record); continue; }
      const values: Record<string, unknown> = {};
      for (const [name, v] of Object.entries(record.values)) {
        if (name === 'id' || !this.schema.isCached(record.type, name)) continue;
        values[name] = this.normalize(record.type, name, v, new Map());
      }
      const state: EntityState = { type: record.type, id: record.id, retired: record.retired, values, v: version, b: version, fv: {}, w: 1 };
      fresh.push({ record, enc: encodeEntity(this.schema, state, `${padId(1)}-${randomUUID().slice(0, 8)}`) });
    }
    await this.onImportChecked?.(fresh.map((f) => ({ type: f.record.type, id: f.record.id })));
    // Spill chunks before the entity items that point to them (as in mutate).
    await this.writeItems(this.tables.entities, fresh.flatMap((f) => f.enc.chunks));
    const edges = fresh.flatMap((f) => [...f.enc.edges.values()]);
    if (opts.blind) {
      // Edges and entity items at once: the import's types are not served until it completes (docs/design.md §6),
      // so no reader depends on edges landing first.
      await Promise.all([this.writeItems(this.tables.refs, edges), this.writeItems(this.tables.entities, fresh.map((f) => f.enc.item))]);
      out.created = fresh.length;
      // Every id of the page, stored or not: a page redone after a crash between its blind write and this query finds
      // its entities stored, and a creation that raced the first attempt must still be caught.
      const byType = new Map<string, number[]>();
      for (const r of records) byType.set(r.type, [...(byType.get(r.type) ?? []), r.id]);
      await Promise.all([...byType].map(async ([type, ids]) => {
        const born = await this.journaled(type, Math.min(...ids), Math.max(...ids));
        for (const id of ids) if (born.has(id)) out.suspects.push({ type, id });
      }));
    } else {
      await this.writeItems(this.tables.refs, edges);
      await pool(fresh, this.concurrency, async ({ record, enc }) => {
        try {
          await this.ddb.send(new PutItemCommand({ TableName: this.tables.entities, Item: enc.item, ConditionExpression: 'attribute_not_exists(pk)' }));
          out.created++;
        } catch (e) {
          if (!(e instanceof ConditionalCheckFailedException)) throw e;
          if (enc.chunks.length) await this.deleteItems(this.tables.entities, enc.chunks.map((c) => ({ pk: c.pk, sk: c.sk })));
          merge.push(record);
        }
      });
    }
    // Every counter the import's writes change, bumped once each at the end (before it returns), not once per entity.
    const bumps = new Set<string>();
    for (const f of fresh) for (const c of countersOfChange(f.record.type, projectOf(f.record.values))) bumps.add(c);
    await pool(merge, this.concurrency, async (record) => {
      const r = await this.put(record, version, opts, bumps);
      if (r.status === 'applied') out.merged++; else out.stale++;
    });
    await this.bump(bumps);
    return out;
  }

  /** Which of these entities have an entity item (consistent BatchGetItem of the keys only), as entity pks. */
  private async existing(records: readonly { type: string; id: number }[]): Promise<Set<string>> {
    const keys = [...new Set(records.map((r) => entityPk(r.type, r.id)))].map((pk): Item => ({ pk: { S: pk }, sk: { S: ENTITY_SK } }));
    const items = await this.batchGet(this.tables.entities, keys, { projection: 'pk', consistent: true });
    return new Set(items.map((it) => it.pk.S!));
  }

  /**
   * Field-level change (an attribute_change event) with `version` = its event id. Applies each field only when
   * `version` is newer than both the whole-entity version and that field's version. Undefined value = unset.
   */
  applyChange(type: string, id: number, changes: Record<string, unknown>, version: number, opts: PutOptions = {}): Promise<WriteResult> {
    const newer = (stored: number) => (opts.refresh ? stored > version : stored >= version);
    return this.mutate(type, id, (cur) => {
      if (!cur) return 'missing';
      if (newer(cur.b)) return 'stale';
      const prevLinks = linkMap(this.schema, cur);
      const next = cloneState(cur);
      let changed = false;
      for (const [name, v] of Object.entries(changes)) {
        if (name === 'id' || !this.schema.isCached(type, name)) continue;
        if (newer(cur.fv[name] ?? 0)) continue;
        if (v === undefined) delete next.values[name];
        else next.values[name] = this.normalize(type, name, v, prevLinks);
        next.fv[name] = version;
        changed = true;
      }
      if (!changed) return 'stale';
      next.v = Math.max(cur.v, version);
      next.w = cur.w + 1;
      return next;
    });
  }

  /**
   * Newer signatures for one entity's stored signed URLs, from a reply of the site: a field changes only when `renews(stored, incoming)`
   * (same objects, valid longer; docs/semantics.md "Volatile values"); versions and change counters stay. Returns the fields renewed.
   */
  async renewSignatures(type: string, id: number, incoming: Record<string, unknown>): Promise<number> {
    let renewed = 0;
    const res = await this.mutate(type, id, (cur) => {
      if (!cur) return 'missing';
      const next = cloneState(cur);
      renewed = 0; // (a retry after a lost race counts again)
      for (const [name, v] of Object.entries(incoming)) {
        if (!this.schema.isCached(type, name) || !Object.hasOwn(cur.values, name) || !renews(cur.values[name], v)) continue;
        next.values[name] = v;
        renewed++;
      }
      return renewed ? { ...next, w: cur.w + 1 } : 'unchanged';
    }, new Set());
    return res.status === 'applied' ? renewed : 0;
  }

  /**
   * Multi-entity delta (a Change event's added/removed) with `version` = its event id; same rule as applyChange.
   * Added links go to the end, in order, unless present; removed ones are dropped.
   */
  applyLinkDelta(type: string, id: number, field: string, delta: { added?: unknown[]; removed?: unknown[] }, version: number): Promise<WriteResult> {
    return this.mutate(type, id, (cur) => {
      if (!cur) return 'missing';
      if (cur.b >= version || (cur.fv[field] ?? 0) >= version) return 'stale';
      if (this.schema.site.dataType(type, field) !== 'multi_entity') throw new Error(`${type}.${field} is not a cached multi_entity field`);
      const prevLinks = linkMap(this.schema, cur);
      const next = cloneState(cur);
      const list = [...((cur.values[field] as LinkValue[] | undefined) ?? [])];
      const key = (l: { type: string; id: number }) => `${l.type}#${l.id}`;
      const removed = new Set((delta.removed ?? []).map((l) => toLink(l, prevLinks)).filter((l): l is LinkValue => l !== null).map(key));
      const out = list.filter((l) => !removed.has(key(l)));
      for (const a of delta.added ?? []) {
        const l = toLink(a, prevLinks);
        if (l && !out.some((x) => key(x) === key(l))) out.push(l);
      }
      next.values[field] = out;
      next.fv[field] = version;
      next.v = Math.max(cur.v, version);
      next.w = cur.w + 1;
      return next;
    });
  }

  /** Retirement (retired = true) or revival, versioned like a field. */
  setRetired(type: string, id: number, retired: boolean, version: number): Promise<WriteResult> {
    return this.mutate(type, id, (cur) => {
      if (!cur) return 'missing';
      if (cur.b >= version || (cur.fv[RETIRED_KEY] ?? 0) >= version) return 'stale';
      const next = cloneState(cur);
      next.retired = retired;
      next.fv[RETIRED_KEY] = version;
      next.v = Math.max(cur.v, version);
      next.w = cur.w + 1;
      return next;
    });
  }

  /**
   * Updates the denormalized facts (name, retired flag) of every stored link to `target`, found through byRef.
   * Versions are untouched: these are derived facts, re-derived on every reconciliation pass (docs/design.md).
   */
  async propagateLinkFacts(target: Target, facts: { name?: unknown; retired?: boolean }): Promise<{ entities: number; stats: ReadStats }> {
    const stats = emptyStats();
    const rows = await this.refRows(target, {}, stats);
    const byEntity = new Map<string, Referrer>();
    for (const r of rows) {
      const k = entityPk(r.type, r.id);
      const e = byEntity.get(k) ?? { type: r.type, id: r.id, fields: new Set<string>(), edgeFields: new Set<string>() };
      e.fields.add(r.field);
      if (r.edge) e.edgeFields.add(r.field);
      byEntity.set(k, e);
    }
    // Read the referrers in batches first (consistently, as the write loop reads): only those whose links lack the facts
    // or that have orphan edges go through the read-merge-write, the others would come back unchanged from it.
    const states = await this.statesOf([...byEntity.values()], stats);
    const due = [...byEntity.values()].filter((e) => {
      const cur = states.get(entityPk(e.type, e.id));
      if (cur === 'spilled') return true;
      if (!cur) return false;
      const p = patchLinkFacts(this.schema, cur, e, target, facts);
      return p.next !== undefined || p.orphans.length > 0;
    });
    let entities = 0;
    // The referrers' counters, bumped once each when the propagation is done (a renamed Project touches thousands).
    const bumps = new Set<string>();
    await pool(due, this.concurrency, async (e) => {
      /** Edge items found for links the entity does not hold (orphans), with the write counter of the state that shows it. */
      let orphans: { keys: Item[]; w: number } = { keys: [], w: 0 };
      const res = await this.mutate(e.type, e.id, (cur) => {
        if (!cur) return 'missing';
        const p = patchLinkFacts(this.schema, cur, e, target, facts);
        orphans = { keys: p.orphans, w: cur.w };
        return p.next ?? 'unchanged';
      }, bumps);
      if (res.status === 'applied') entities++;
      if (orphans.keys.length) await this.deleteEdges(orphans.keys, orphans.w);
    });
    await this.bump(bumps);
    return { entities, stats };
  }

  private normalize(type: string, field: string, v: unknown, prevLinks: Map<string, LinkValue>): unknown {
    const dt = this.schema.site.dataType(type, field);
    if (dt === 'entity') return toLink(v, prevLinks);
    if (dt === 'multi_entity') {
      const out: LinkValue[] = [];
      const seen = new Set<string>();
      for (const x of Array.isArray(v) ? v : []) {
        const l = toLink(x, prevLinks);
        if (l && !seen.has(`${l.type}#${l.id}`)) { seen.add(`${l.type}#${l.id}`); out.push(l); }
      }
      return out;
    }
    return v === undefined ? null : v;
  }

  /**
   * The read-merge-write loop: reads the entity (consistently), lets `fn` compute the next state (or say why there
   * is nothing to write), then writes new chunks and added edges, the entity item under the lock
   * (`w` unchanged), and finally removes dropped edges and old chunks. Retries on a lost race. Before it creates an
   * entity (no stored state) it records the creation in the journal, which the import's blind writes consult
   * (importEntities).
   */
  private async mutate(type: string, id: number, fn: (cur: EntityState | undefined) => EntityState | Exclude<WriteStatus, 'applied'>, bumps?: Set<string>): Promise<WriteResult> {
    /** Edges this call put in attempts that lost the race: removed again unless some state still needs them. */
    const leftovers = new Map<string, Item>();
    let journaled = false;
    for (let attempt = 0; attempt < this.maxWriteAttempts; attempt++) {
      const cur = await this.readState(type, id);
      const next = fn(cur?.state);
      const oldEdges = cur ? edgeKeys(this.schema, cur.state) : new Map<string, Item>();
      const enc = typeof next === 'string' ? undefined : encodeEntity(this.schema, next, `${padId(next.w)}-${randomUUID().slice(0, 8)}`);
      if (cur && leftovers.size) {
        const orphans = [...leftovers].filter(([k]) => !oldEdges.has(k) && !enc?.edges.has(k));
        await this.deleteEdges(orphans.map(([, key]) => key), cur.state.w);
        for (const [k] of orphans) leftovers.delete(k);
      }
      if (typeof next === 'string') return { status: next };
      if (!cur && !journaled) {
        await this.journalCreation(type, id);
        journaled = true;
      }
      const added = [...enc!.edges.entries()].filter(([k]) => !oldEdges.has(k));
      const removed = [...oldEdges].filter(([k]) => !enc!.edges.has(k)).map(([, key]) => key);
      const entityPut = {
        TableName: this.tables.entities,
        Item: enc!.item,
        ConditionExpression: cur ? 'w = :w' : 'attribute_not_exists(pk)',
        ExpressionAttributeValues: cur ? { ':w': { N: String(cur.state.w) } } : undefined,
      };
      const grouped =
        this.grouped &&
        (await this.grouped.commit(
          entityWriteSet(this.tables, { entityPut, chunks: enc!.chunks, added: added.map(([, it]) => it), removed, oldChunks: cur?.chunkKeys ?? [], w: next.w }),
        ));
      if (grouped === 'lost') {
        await backoff(Math.min(attempt, 6));
        continue;
      }
      if (grouped === 'written') return this.written(type, cur?.state, next, bumps);
      await this.writeItems(this.tables.entities, enc!.chunks);
      await this.putEdges(added.map(([, it]) => it), next.w, cur === undefined);
      try {
        await this.ddb.send(new PutItemCommand(entityPut));
      } catch (e) {
        if (!(e instanceof ConditionalCheckFailedException)) throw e;
        await this.deleteItems(this.tables.entities, enc!.chunks.map((c) => ({ pk: c.pk, sk: c.sk })));
        for (const [k, it] of added) leftovers.set(k, { pk: it.pk, sk: it.sk });
        await backoff(Math.min(attempt, 6));
        continue;
      }
      await this.deleteEdges(removed, next.w);
      if (cur) await this.deleteItems(this.tables.entities, cur.chunkKeys);
      return this.written(type, cur?.state, next, bumps);
    }
    throw new Error(`${type} ${id}: gave up after ${this.maxWriteAttempts} write attempts under contention`);
  }

  /** After an entity's writes: its change counters bumped (or collected in `bumps`), and which facts its links must get. */
  private async written(type: string, cur: EntityState | undefined, next: EntityState, bumps?: Set<string>): Promise<WriteResult> {
    const counters = countersOfChange(type, projectOf(cur?.values), projectOf(next.values));
    if (bumps) for (const c of counters) bumps.add(c);
    else await this.bump(counters);
    return { status: 'applied', propagate: this.factsChanged(cur, next) };
  }

  private factsChanged(cur: EntityState | undefined, next: EntityState): WriteResult['propagate'] {
    if (!cur) return undefined;
    const out: { name?: unknown; retired?: boolean } = {};
    const idf = this.schema.site.identifier(next.type);
    if (idf && idf !== 'id' && (cur.values[idf] ?? null) !== (next.values[idf] ?? null)) out.name = next.values[idf] ?? null;
    if (cur.retired !== next.retired) out.retired = next.retired;
    return Object.keys(out).length ? out : undefined;
  }

}
