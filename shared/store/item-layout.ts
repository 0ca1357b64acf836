// The entity item layout (docs/design.md "Items"): keys and sort-key shapes, size limits, and the stored shapes of entities, links and writes.
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { EntityRecord } from '../semantics/index.js';

export type Item = Record<string, AttributeValue>;

/** Entity item sort key. */
export const ENTITY_SK = 'E';
/** Ids in sort keys are zero-padded to this width so that string order is id order (Shotgun ids are int32). */
export const ID_WIDTH = 10;
/** Entity items are kept under this many bytes (DynamoDB's limit is 400 KB); larger fields spill into chunk items. */
export const INLINE_LIMIT = 300_000;
/** Bytes of compressed field data per chunk item. */
export const CHUNK_BYTES = 350_000;
/** The fv key that versions the entity's retired state. */
export const RETIRED_KEY = '@retired';

export const padId = (id: number): string => String(id).padStart(ID_WIDTH, '0');
export const entityPk = (type: string, id: number): string => `${type}#${id}`;
/** An edge's identity within its source entity (the key of EncodedEntity.edges). */
export const edgeId = (field: string, target: { type: string; id: number }): string => `${field}#${target.type}#${target.id}`;
/** The refs-table key of the edge `type.field` of entity `id` -> `target`. */
export function edgeKey(type: string, id: number, field: string, target: { type: string; id: number }): Item {
  return { pk: { S: `${target.type}#${target.id}` }, sk: { S: `${type}.${field}#${padId(id)}` } };
}
/** The pk of a creation-journal item (state table; sk the zero-padded id). */
export const journalPk = (type: string): string => `born#${type}`;
/** How long creation-journal items live (they matter only while an import runs). */
export const JOURNAL_TTL_S = 86_400;
/**
 * Version of the item layout (docs/design.md §3). 2: edge items in the refs table, none for covered fields, `eg` on
 * entity items. Recorded in the state table once no served entity predates it; an older or missing record next to
 * ready types means a full re-import is due (shared/sync/importer.ts).
 */
export const ITEM_LAYOUT = 2;
export const LAYOUT_KEY = { pk: { S: 'layout' }, sk: { S: 'items' } };
export const chunkPrefix = (field: string, gen: string): string => `X#${field}#${gen}#`;

/** A link as stored: the site's {type, id, name}, plus `retired` when the target is known to be retired. */
export interface LinkValue {
  type: string;
  id: number;
  name: unknown;
  retired?: boolean;
}

/** What the store keeps per entity. Link fields hold LinkValue (entity) or LinkValue[] (multi_entity). */
export interface EntityState {
  type: string;
  id: number;
  retired: boolean;
  values: Record<string, unknown>;
  /** Highest version applied to the entity. */
  v: number;
  /** Version of the last whole-entity write (putEntity). */
  b: number;
  /** Versions of fields (and RETIRED_KEY) changed after `b`. */
  fv: Record<string, number>;
  /** Write counter: the optimistic lock. */
  w: number;
  /**
   * Link fields whose values had edge items when the stored item was written (stored as `eg`; encodeEntity recomputes
   * it). Which fields need edges depends on the schema's link slots, so the stored set, not today's schema, says which
   * edges exist.
   */
  eg?: string[];
}

/** Denormalized facts about one link target, as one entity stores them. */
export interface LinkInfo {
  type: string;
  id: number;
  name: unknown;
  retired: boolean;
}

/** An entity read back: the record in the semantics model's form (links {type, id}) and its links' stored names. */
export interface StoredEntity {
  record: EntityRecord;
  version: number;
  links: LinkInfo[];
}

/** What a read cost, for tests and benchmarks. `items` counts every item DynamoDB read (entity, chunk, edge). */
export interface ReadStats {
  items: number;
  rcu: number;
  calls: number;
}
export const emptyStats = (): ReadStats => ({ items: 0, rcu: 0, calls: 0 });
export function addStats(a: ReadStats, b: ReadStats): ReadStats {
  a.items += b.items;
  a.rcu += b.rcu;
  a.calls += b.calls;
  return a;
}

export type WriteStatus = 'applied' | 'stale' | 'missing' | 'unchanged';

export interface PutOptions {
  /**
   * A re-read that reflects no newer event than `version` but may reflect writes that logged no event (scripts with
   * events off): it replaces a whole-entity state of the same version too (only a newer one makes it stale).
   */
  refresh?: boolean;
}
export interface ImportWriteOptions extends PutOptions {
  /** Create absent entities by unconditional BatchWriteItem and report journaled creators as suspects (importEntities). */
  blind?: boolean;
}
export interface WriteResult {
  status: WriteStatus;
  /** Set when an applied write changed the entity's identifier value or retired state: links to it elsewhere need updating. */
  propagate?: { name?: unknown; retired?: boolean };
}

/** A link target for edge and slot queries. */
export interface Target {
  type: string;
  id: number;
}

/** A reverse reference: `type.field` of entity `id` links to the queried target. */
export interface RefRow {
  type: string;
  field: string;
  id: number;
}
