// Edge items in the refs table (one per link no entities GSI covers): written under the entity's write counter, deleted with it, repaired when missing.
import { ConditionalCheckFailedException, DeleteItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { EntityReads } from './entity-reads.js';
import { pool } from './table-io.js';
import { addStats, ENTITY_SK, entityPk, type EntityState, type Item, type ReadStats } from './item-layout.js';
import { decodeEntity, edgeKeys, encodeEntity } from './item-codec.js';
import { bumpGenerations, countersOfChange, projectOf } from './change-counters.js';

/** An edge is put only over an older writer's (a stale writer never lowers an edge's ev), by the writer of entity counter `:w`. */
export const EDGE_PUT_CONDITION = 'attribute_not_exists(ev) OR ev < :w';
/** An edge is deleted only when no writer newer than counter `:w` put it since (a missing one is left missing). */
export const EDGE_DELETE_CONDITION = 'attribute_not_exists(pk) OR ev <= :w';

/** Edge maintenance on top of the entity reads (EntityStore adds the versioned writes). */
export class EdgeItems extends EntityReads {
  /** Bumps the change counters of a written entity (its type, its projects before and after): after the write, before the writer returns. */
  protected async changed(type: string, ...values: Array<Record<string, unknown> | undefined>): Promise<void> {
    await this.bump(countersOfChange(type, ...values.map(projectOf)));
  }

  /**
   * The stored states of entities, read consistently in batches (100 keys per call), by entity pk: `spilled` for an
   * item with spilled fields (its state needs its chunks: the caller reads it whole), absent when not stored.
   */
  protected async statesOf(entities: ReadonlyArray<{ type: string; id: number }>, stats: ReadStats): Promise<Map<string, EntityState | 'spilled'>> {
    const keys = entities.map((e): Item => ({ pk: { S: entityPk(e.type, e.id) }, sk: { S: ENTITY_SK } }));
    const read: ReadStats = { items: 0, rcu: 0, calls: 0 };
    const items = await this.batchGet(this.tables.entities, keys, { consistent: true, stats: read });
    addStats(stats, read);
    return new Map(items.map((it) => [it.pk.S!, it.x ? ('spilled' as const) : decodeEntity(this.schema, it)]));
  }

  /** Bumps a set of change counters once each (a bulk write collects its entities' counters and bumps them at its end). */
  protected async bump(counters: Iterable<string>): Promise<void> {
    await bumpGenerations(this.ddb, this.tables.state, counters);
  }

  /**
   * Deletes edge items (refs-table keys) no longer backed by the state written at counter `w`. An edge put since by a
   * writer that read a later state carries a higher ev and stays.
   */
  protected async deleteEdges(keys: Item[], w: number): Promise<void> {
    await pool(keys, this.concurrency, async (Key) => {
      try {
        await this.ddb.send(
          new DeleteItemCommand({
            TableName: this.tables.refs,
            Key,
            ConditionExpression: EDGE_DELETE_CONDITION,
            ExpressionAttributeValues: { ':w': { N: String(w) } },
          }),
        );
      } catch (e) {
        if (!(e instanceof ConditionalCheckFailedException)) throw e;
      }
    });
  }

  /**
   * Edge puts: one by one under `ev < :ev` (a stale writer never lowers an edge's ev), or in batches of 25 when the
   * entity is new or many are added at once (imports); see docs/design.md "Edges" for the window the batch path leaves.
   */
  protected async putEdges(edges: Item[], w: number, bulk = false): Promise<void> {
    if (bulk || edges.length > 25) return this.writeItems(this.tables.refs, edges);
    await pool(edges, this.concurrency, async (it) => {
      try {
        await this.ddb.send(
          new PutItemCommand({
            TableName: this.tables.refs,
            Item: it,
            ConditionExpression: EDGE_PUT_CONDITION,
            ExpressionAttributeValues: { ':w': { N: String(w) } },
          }),
        );
      } catch (e) {
        if (!(e instanceof ConditionalCheckFailedException)) throw e;
      }
    });
  }

  /**
   * Writes the edge items an entity's stored links need and that are missing (a bulk write's window, docs/design.md
   * "Edges under concurrency"). The reconciliation pass runs it for entities it touches. Orphan edges (no stored link
   * backs them) cannot be listed per source; propagateLinkFacts removes those it meets.
   */
  async repairEdges(type: string, id: number): Promise<{ added: number; removed: number }> {
    const cur = await this.readState(type, id);
    if (!cur) return { added: 0, removed: 0 };
    const want = [...encodeEntity(this.schema, cur.state, 'repair').edges.values()];
    const have = await this.presentKeys(
      this.tables.refs,
      want.map((it) => ({ pk: it.pk, sk: it.sk })),
    );
    const add = want.filter((it) => !have.has(`${it.pk.S}|${it.sk.S}`)).map((it) => ({ ...it, ev: { N: String(cur.state.w) } }));
    await this.putEdges(add, cur.state.w);
    if (add.length) await this.changed(type, cur.state.values);
    return { added: add.length, removed: 0 };
  }

  /**
   * Deletes an entity that vanished from the site (neither active nor retired there any more): its item, chunks and
   * edges. Links to it elsewhere keep their stored facts until their own entities are re-read.
   */
  async removeEntity(type: string, id: number): Promise<number> {
    const cur = await this.readState(type, id).catch(() => undefined);
    const { items } = await this.queryAll({
      TableName: this.tables.entities,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: entityPk(type, id) } },
      ProjectionExpression: 'pk, sk',
      ConsistentRead: true,
    });
    const entity = items.filter((it) => it.sk.S === ENTITY_SK);
    // The entity item first: once it is gone no reader reaches the rest.
    await this.deleteItems(
      this.tables.entities,
      entity.map((it) => ({ pk: it.pk, sk: it.sk })),
    );
    await this.deleteItems(
      this.tables.entities,
      items.filter((it) => it.sk.S !== ENTITY_SK).map((it) => ({ pk: it.pk, sk: it.sk })),
    );
    const edges = cur ? [...edgeKeys(this.schema, cur.state).values()] : [];
    await this.deleteEdges(edges, cur?.state.w ?? 0);
    if (items.length) await this.changed(type, cur?.state.values);
    return items.length + edges.length;
  }
}
