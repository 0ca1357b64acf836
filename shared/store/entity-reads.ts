// Reading cached entities: by id, per index (type, project, link slot, updated_at), reverse references, and spilled fields reassembled.
import { GetItemCommand, QueryCommand, type GetItemCommandOutput, type DynamoDBClient, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { gunzipSync } from 'node:zlib';
import type { CachedSchema } from '../schema/index.js';
import type { TableNames } from './table-design.js';
import {
  addStats,
  chunkPrefix,
  emptyStats,
  ENTITY_SK,
  entityPk,
  type EntityState,
  type Item,
  type ReadStats,
  type RefRow,
  type StoredEntity,
  type Target,
} from './item-layout.js';
import { capacity, pool, TableIo } from './table-io.js';
import { decodeEntity, spilledFields, toStoredEntity } from './item-codec.js';
import { takePrefetched, withPrefetchedStates } from './state-prefetch.js';

/** An id-ordered index a page can be read from: byType, byProject or a link slot (each sorted by id within its key). */
export type OrderedSource =
  { index: 'type'; type: string } | { index: 'project'; type: string; projectId: number } | { index: 'link'; type: string; field: string; target: Target };

/** One page of an ordered source: its entities in index order, the last id read, and whether the source is exhausted. */
export interface OrderedPage {
  entities: StoredEntity[];
  stats: ReadStats;
  lastId?: number;
  done: boolean;
}

/** The read side of the entity store (EntityStore adds the versioned writes). */
export class EntityReads extends TableIo {
  constructor(
    ddb: DynamoDBClient,
    readonly tables: TableNames,
    readonly schema: CachedSchema,
    opts: { concurrency?: number; queryPageSize?: number } = {},
  ) {
    super(ddb, opts);
  }

  /** Ids of a type's stored entities and which are retired (byType, two attributes per item): counts and sweeps. */
  async typeSummary(type: string): Promise<{ ids: number[]; retired: Set<number>; stats: ReadStats }> {
    const { items, stats } = await this.queryAll({
      TableName: this.tables.entities,
      IndexName: 'byType',
      KeyConditionExpression: '#t = :t',
      ExpressionAttributeNames: { '#t': 't', '#id': 'id', '#r': 'r' },
      ExpressionAttributeValues: { ':t': { S: type } },
      ProjectionExpression: '#id, #r',
    });
    const ids = items.map((it) => Number(it.id.N));
    return { ids, retired: new Set(items.filter((it) => it.r?.BOOL).map((it) => Number(it.id.N))), stats };
  }

  /** Runs `fn` (a batch of writes) with the stored items of `targets` read up front in one consistent BatchGetItem (shared/store/state-prefetch.ts). */
  withStates<T>(targets: readonly Target[], fn: () => Promise<T>): Promise<T> {
    return withPrefetchedStates(targets, (keys) => this.batchGet(this.tables.entities, keys, { consistent: true }), fn);
  }

  /**
   * Counts of a type's stored entities (active, retired) with ids after `after`, reading at most `max` of them in id
   * order (byType, two attributes per item): the window ends at the last id read (`upTo`), or is open (no `upTo`) when
   * the type ends within it.
   */
  async countWindow(type: string, after: number, max: number): Promise<{ upTo?: number; active: number; retired: number; stats: ReadStats }> {
    const stats = emptyStats();
    let active = 0;
    let retired = 0;
    let last = after;
    let start: Item | undefined;
    do {
      const left = max - active - retired;
      if (left <= 0) return { upTo: last, active, retired, stats };
      const r = await this.ddb.send(
        new QueryCommand({
          TableName: this.tables.entities,
          IndexName: 'byType',
          KeyConditionExpression: '#t = :t AND #id > :a',
          ExpressionAttributeNames: { '#t': 't', '#id': 'id', '#r': 'r' },
          ExpressionAttributeValues: { ':t': { S: type }, ':a': { N: String(after) } },
          ProjectionExpression: '#id, #r',
          ExclusiveStartKey: start,
          Limit: Number.isFinite(left) ? left : undefined,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      const items = r.Items ?? [];
      addStats(stats, { items: r.ScannedCount ?? items.length, rcu: capacity(r.ConsumedCapacity), calls: 1 });
      for (const it of items) {
        if (it.r?.BOOL) retired++;
        else active++;
        last = Number(it.id.N);
      }
      start = r.LastEvaluatedKey;
    } while (start);
    return { active, retired, stats };
  }

  /** One entity's full state, read consistently (the write path), with the keys of its current chunks. */
  protected async readState(type: string, id: number): Promise<{ state: EntityState; chunkKeys: Item[] } | undefined> {
    for (let attempt = 0; ; attempt++) {
      // The batch's prefetched item (shared/store/state-prefetch.ts) stands in for the first read.
      const pre = attempt === 0 ? takePrefetched(entityPk(type, id)) : undefined;
      const r =
        pre !== undefined
          ? { Item: pre ?? undefined }
          : await this.ddb.send(
              new GetItemCommand({
                TableName: this.tables.entities,
                Key: { pk: { S: entityPk(type, id) }, sk: { S: ENTITY_SK } },
                ConsistentRead: true,
              }),
            );
      if (!r.Item) return undefined;
      const loaded = await this.loadSpilled(r.Item, true);
      if (loaded) return { state: decodeEntity(this.schema, r.Item, loaded.values), chunkKeys: loaded.keys };
      if (attempt > 5) throw new Error(`${type} ${id}: spill chunks keep changing under the read`);
    }
  }

  /**
   * Values of an item's spilled fields; undefined when a chunk set is incomplete (a concurrent write replaced it:
   * the caller re-reads the entity item).
   */
  protected async loadSpilled(item: Item, consistent: boolean, stats?: ReadStats): Promise<{ values: Map<string, unknown>; keys: Item[] } | undefined> {
    const values = new Map<string, unknown>();
    const keys: Item[] = [];
    for (const [field, { gen, n }] of spilledFields(item)) {
      const { items, stats: s } = await this.queryAll({
        TableName: this.tables.entities,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :x)',
        ExpressionAttributeValues: { ':pk': item.pk, ':x': { S: chunkPrefix(field, gen) } },
        ConsistentRead: consistent,
      });
      if (stats) addStats(stats, s);
      if (items.length !== n) return undefined;
      const data = Buffer.concat(items.map((c) => Buffer.from(c.d.B!)));
      values.set(field, JSON.parse(gunzipSync(data).toString('utf8')));
      keys.push(...items.map((c) => ({ pk: c.pk, sk: c.sk })));
    }
    return { values, keys };
  }

  /** Decodes entity items from a read, loading spilled fields (re-reading items whose chunks moved). */
  protected async materialize(items: Item[], stats: ReadStats): Promise<StoredEntity[]> {
    const out: StoredEntity[] = [];
    for (const it of items) {
      let item: Item | undefined = it;
      for (let attempt = 0; item; attempt++) {
        if (!item.x) {
          out.push(toStoredEntity(this.schema, decodeEntity(this.schema, item)));
          break;
        }
        const loaded = await this.loadSpilled(item, false, stats);
        if (loaded) {
          out.push(toStoredEntity(this.schema, decodeEntity(this.schema, item, loaded.values)));
          break;
        }
        if (attempt > 5) throw new Error(`${item.pk.S}: spill chunks keep changing under the read`);
        const r: GetItemCommandOutput = await this.ddb.send(
          new GetItemCommand({
            TableName: this.tables.entities,
            Key: { pk: item.pk, sk: item.sk },
            ConsistentRead: true,
            ReturnConsumedCapacity: 'TOTAL',
          }),
        );
        addStats(stats, { items: r.Item ? 1 : 0, rcu: capacity(r.ConsumedCapacity), calls: 1 });
        item = r.Item;
      }
    }
    return out;
  }

  /** Entities by id (BatchGetItem, 100 keys per call, unprocessed keys retried with backoff), in `ids` order; missing ids are left out. */
  async getMany(type: string, ids: readonly number[], stats: ReadStats = emptyStats()): Promise<{ entities: StoredEntity[]; stats: ReadStats }> {
    const unique = [...new Set(ids)];
    const keys = unique.map((id): Item => ({ pk: { S: entityPk(type, id) }, sk: { S: ENTITY_SK } }));
    const found = new Map((await this.batchGet(this.tables.entities, keys, { stats })).map((it) => [Number(it.id.N), it]));
    const ordered = unique.filter((id) => found.has(id)).map((id) => found.get(id)!);
    return { entities: await this.materialize(ordered, stats), stats };
  }

  /** One entity, or undefined. */
  async get(type: string, id: number): Promise<StoredEntity | undefined> {
    return (await this.getMany(type, [id])).entities[0];
  }

  protected async queryEntities(input: QueryCommandInput, maxItems?: number): Promise<{ entities: StoredEntity[]; stats: ReadStats }> {
    const { items, stats } = await this.queryAll(input, emptyStats(), maxItems);
    return { entities: await this.materialize(items, stats), stats };
  }

  /** A type's entities in id order (byType), optionally within [from, to]; more than `maxItems`: ScanTooLarge. */
  byType(type: string, range: { from?: number; to?: number } = {}, maxItems?: number): Promise<{ entities: StoredEntity[]; stats: ReadStats }> {
    return this.queryEntities(
      {
        TableName: this.tables.entities,
        IndexName: 'byType',
        KeyConditionExpression: '#t = :t AND #id BETWEEN :a AND :b',
        ExpressionAttributeNames: { '#t': 't', '#id': 'id' },
        ExpressionAttributeValues: { ':t': { S: type }, ':a': { N: String(range.from ?? 0) }, ':b': { N: String(range.to ?? 2 ** 53 - 1) } },
      },
      maxItems,
    );
  }

  /** A type's entities whose `project` is Project `projectId` (byProject), in id order; more than `maxItems`: ScanTooLarge. */
  byProject(type: string, projectId: number, maxItems?: number): Promise<{ entities: StoredEntity[]; stats: ReadStats }> {
    return this.queryEntities(
      {
        TableName: this.tables.entities,
        IndexName: 'byProject',
        KeyConditionExpression: '#tp = :tp',
        ExpressionAttributeNames: { '#tp': 'tp' },
        ExpressionAttributeValues: { ':tp': { S: `${type}#${projectId}` } },
      },
      maxItems,
    );
  }

  /**
   * At most `limit` entities of an id-ordered source, ids after `after` (ascending) or before it (`desc`), in that
   * order: one Query, so a reader can stop as soon as it has what it needs (index-ordered paging).
   */
  async orderedPage(source: OrderedSource, opts: { desc: boolean; after?: number; limit: number }): Promise<OrderedPage> {
    const key =
      source.index === 'type'
        ? { name: 't', value: source.type, index: 'byType' }
        : source.index === 'project'
          ? { name: 'tp', value: `${source.type}#${source.projectId}`, index: 'byProject' }
          : this.slotKey(source.type, source.field, source.target);
    const range = opts.after === undefined ? '' : opts.desc ? ' AND #id < :after' : ' AND #id > :after';
    const r = await this.ddb.send(
      new QueryCommand({
        TableName: this.tables.entities,
        IndexName: key.index,
        KeyConditionExpression: `#k = :k${range}`,
        ExpressionAttributeNames: { '#k': key.name, ...(range ? { '#id': 'id' } : {}) },
        ExpressionAttributeValues: { ':k': { S: key.value }, ...(opts.after === undefined ? {} : { ':after': { N: String(opts.after) } }) },
        ScanIndexForward: !opts.desc,
        Limit: opts.limit,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    const items = r.Items ?? [];
    const stats = { items: r.ScannedCount ?? items.length, rcu: capacity(r.ConsumedCapacity), calls: 1 };
    const lastId = items.length ? Number(items[items.length - 1].id.N) : opts.after;
    return { entities: await this.materialize(items, stats), stats, ...(lastId === undefined ? {} : { lastId }), done: !r.LastEvaluatedKey };
  }

  private slotKey(type: string, field: string, target: Target): { name: string; value: string; index: string } {
    const slot = this.schema.linkSlot(type, field);
    if (slot === undefined) throw new Error(`${type}.${field} has no link slot (not an indexed entity field)`);
    return { name: `l${slot}`, value: `${type}.${field}#${target.type}#${target.id}`, index: `byLink${slot}` };
  }

  /** A type's entities whose indexed entity field `field` links to `target` (the field's byLink slot), in id order. */
  byLink(type: string, field: string, target: Target): Promise<{ entities: StoredEntity[]; stats: ReadStats }> {
    const slot = this.schema.linkSlot(type, field);
    if (slot === undefined) throw new Error(`${type}.${field} has no link slot (not an indexed entity field)`);
    return this.queryEntities({
      TableName: this.tables.entities,
      IndexName: `byLink${slot}`,
      KeyConditionExpression: '#l = :l',
      ExpressionAttributeNames: { '#l': `l${slot}` },
      ExpressionAttributeValues: { ':l': { S: `${type}.${field}#${target.type}#${target.id}` } },
    });
  }

  /**
   * Every stored link to `target`, optionally only from `type` / `type.field`, in (type, field, id) order: edge items
   * for the link fields that have them, plus byProject (`project`) and the link slots (indexed entity fields) for the
   * fields whose links have no edges (see needsEdges).
   */
  async refs(target: Target, from: { type?: string; field?: string } = {}): Promise<{ rows: RefRow[]; stats: ReadStats }> {
    const stats = emptyStats();
    const rows = await this.refRows(target, from, stats);
    return { rows: rows.map(({ type, field, id }) => ({ type, field, id })), stats };
  }

  /** refs, each row marked with whether it came from an edge item. */
  protected async refRows(target: Target, from: { type?: string; field?: string }, stats: ReadStats): Promise<Array<RefRow & { edge: boolean }>> {
    const parts: Array<Array<RefRow & { edge: boolean }>> = [];
    const edges = this.edgeRefs(target, from, stats).then((rows) => {
      parts.push(rows.map((r) => ({ ...r, edge: true })));
    });
    // One Query per covering index (a Project: one per type with `project`), a bounded number at a time.
    await pool(this.coveringIndexes(target, from), this.concurrency, async ({ type, field, input }) => {
      const { items } = await this.queryAll(input, stats);
      parts.push(items.map((it) => ({ type, field, id: Number(it.id.N), edge: false })));
    });
    await edges;
    // One row per (type, field, id); `edge` when an edge item exists for it (whatever else also found it).
    const byKey = new Map<string, RefRow & { edge: boolean }>();
    for (const r of parts.flat()) {
      const k = `${r.type}.${r.field}#${r.id}`;
      const had = byKey.get(k);
      if (!had) byKey.set(k, r);
      else had.edge ||= r.edge;
    }
    const rows = [...byKey.values()];
    const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
    rows.sort((a, b) => cmp(a.type, b.type) || cmp(a.field, b.field) || a.id - b.id);
    return rows;
  }

  /** Links to `target` recorded as edge items (refs table, read consistently). */
  protected async edgeRefs(target: Target, from: { type?: string; field?: string }, stats: ReadStats): Promise<RefRow[]> {
    const prefix = from.type === undefined ? undefined : from.field === undefined ? `${from.type}.` : `${from.type}.${from.field}#`;
    const { items } = await this.queryAll(
      {
        TableName: this.tables.refs,
        ConsistentRead: true,
        ProjectionExpression: 'sk',
        KeyConditionExpression: prefix ? 'pk = :r AND begins_with(sk, :p)' : 'pk = :r',
        ExpressionAttributeValues: { ':r': { S: `${target.type}#${target.id}` }, ...(prefix ? { ':p': { S: prefix } } : {}) },
      },
      stats,
    );
    return items.map((it) => {
      const src = it.sk.S!;
      const hash = src.lastIndexOf('#');
      const dot = src.indexOf('.');
      return { type: src.slice(0, dot), field: src.slice(dot + 1, hash), id: Number(src.slice(hash + 1)) };
    });
  }

  /** The index queries that find links to `target` from fields without edges: byProject and the link slots whose valid_types allow it. */
  protected coveringIndexes(target: Target, from: { type?: string; field?: string }): Array<{ type: string; field: string; input: QueryCommandInput }> {
    const out: Array<{ type: string; field: string; input: QueryCommandInput }> = [];
    for (const type of from.type === undefined ? this.schema.site.typeNames : [from.type]) {
      const wanted = (field: string) => from.field === undefined || from.field === field;
      if (target.type === 'Project' && wanted('project') && this.schema.site.dataType(type, 'project') === 'entity') {
        out.push({
          type,
          field: 'project',
          input: {
            TableName: this.tables.entities,
            IndexName: 'byProject',
            KeyConditionExpression: '#tp = :tp',
            ProjectionExpression: '#id',
            ExpressionAttributeNames: { '#tp': 'tp', '#id': 'id' },
            ExpressionAttributeValues: { ':tp': { S: `${type}#${target.id}` } },
          },
        });
      }
      for (const [field, slot] of this.schema.linkSlots(type)) {
        if (!wanted(field) || !(this.schema.site.field(type, field)?.valid_types ?? [target.type]).includes(target.type)) continue;
        out.push({
          type,
          field,
          input: {
            TableName: this.tables.entities,
            IndexName: `byLink${slot}`,
            KeyConditionExpression: '#l = :l',
            ProjectionExpression: '#id',
            ExpressionAttributeNames: { '#l': `l${slot}`, '#id': 'id' },
            ExpressionAttributeValues: { ':l': { S: `${type}.${field}#${target.type}#${target.id}` } },
          },
        });
      }
    }
    return out;
  }

  /** Entities of `type` whose link field `field` holds `target` (byRef, then BatchGet), in id order. */
  async members(type: string, field: string, target: Target): Promise<{ entities: StoredEntity[]; stats: ReadStats }> {
    const { rows, stats } = await this.refs(target, { type, field });
    return this.getMany(
      type,
      rows.map((r) => r.id),
      stats,
    );
  }

  /** Ids and updated_at of a type's entities with updated_at in [from, to] (byUpdated, KEYS_ONLY), oldest first. */
  async byUpdated(type: string, range: { from?: string; to?: string } = {}): Promise<{ rows: Array<{ id: number; updatedAt: string }>; stats: ReadStats }> {
    const { items, stats } = await this.queryAll({
      TableName: this.tables.entities,
      IndexName: 'byUpdated',
      KeyConditionExpression: '#t = :t AND #u BETWEEN :a AND :b',
      ExpressionAttributeNames: { '#t': 't', '#u': 'u' },
      ExpressionAttributeValues: { ':t': { S: type }, ':a': { S: range.from ?? '0' }, ':b': { S: `${range.to ?? '9999'}#~` } },
    });
    return {
      rows: items.map((it) => ({ id: Number(it.id?.N ?? it.pk.S!.slice(it.pk.S!.indexOf('#') + 1)), updatedAt: it.u.S!.slice(0, it.u.S!.lastIndexOf('#')) })),
      stats,
    };
  }
}
