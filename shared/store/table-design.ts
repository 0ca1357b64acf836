// The DynamoDB tables and GSIs, defined once: the local stack creates them from here and the CDK stack mirrors them.
import { CreateTableCommand, DescribeTableCommand, ResourceInUseException, type DynamoDBClient, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { LINK_SLOTS } from '../schema/index.js';

export interface KeyAttr {
  name: string;
  type: 'S' | 'N';
}
export interface IndexSpec {
  name: string;
  partitionKey: KeyAttr;
  sortKey: KeyAttr;
  projection: 'ALL' | 'KEYS_ONLY' | { include: string[] };
}
export interface TableSpec {
  /** Logical name; the physical name is `${prefix}${logical}`. */
  logical: 'entities' | 'state' | 'refs';
  partitionKey: KeyAttr;
  sortKey: KeyAttr;
  indexes: IndexSpec[];
  /** TTL attribute (epoch seconds), if items in this table expire. */
  ttlAttribute?: string;
}

/**
 * entities: every cached entity item (pk "<Type>#<id>", sk "E") plus its spill chunks (sk "X#<field>#<gen>#<n>"). See
 * docs/design.md for the access patterns.
 */
export const ENTITIES_TABLE: TableSpec = {
  logical: 'entities',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  indexes: [
    // A type's entities in id order: find(Type, []) and id ranges.
    { name: 'byType', partitionKey: { name: 't', type: 'S' }, sortKey: { name: 'id', type: 'N' }, projection: 'ALL' },
    // A type's entities in one project: "<Type>#<projectId>".
    { name: 'byProject', partitionKey: { name: 'tp', type: 'S' }, sortKey: { name: 'id', type: 'N' }, projection: 'ALL' },
    // A type's entities by updated_at: reconciliation and validation ("<updated_at>#<id>").
    { name: 'byUpdated', partitionKey: { name: 't', type: 'S' }, sortKey: { name: 'u', type: 'S' }, projection: 'KEYS_ONLY' },
    // Indexed entity links, one slot per indexed field of a type: "<Type>.<field>#<LinkType>#<linkId>".
    ...Array.from({ length: LINK_SLOTS }, (_, i): IndexSpec => ({
      name: `byLink${i + 1}`,
      partitionKey: { name: `l${i + 1}`, type: 'S' },
      sortKey: { name: 'id', type: 'N' },
      projection: 'ALL',
    })),
  ],
};

/**
 * refs: one edge item per link value no entities GSI covers (pk "<TargetType>#<targetId>", sk "<Type>.<field>#<id
 * zero-padded to 10>", `ev` the source's write counter): multi-entity membership (task_assignees is HumanUser 42) and
 * "who links to X" for rename and retirement propagation, read with Query on the base table (consistent reads). No GSIs,
 * so an edge costs one write unit.
 */
export const REFS_TABLE: TableSpec = {
  logical: 'refs',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  indexes: [],
};

/** state: poller cursor and lease, skipped-id backlog, per-type readiness and import checkpoints, cached auth verdicts (TTL), response-cache replies (pk "resp", TTL), per-type generations (pk "gen"), the entity creation journal (pk "born#<Type>", TTL) and the kept event log (pk "evlog#<project>#<event_type>", sk the zero-padded event id, TTL: shared/store/kept-events.ts). */
export const STATE_TABLE: TableSpec = {
  logical: 'state',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  indexes: [],
  ttlAttribute: 'ttl',
};

export const TABLE_SPECS: readonly TableSpec[] = [ENTITIES_TABLE, STATE_TABLE, REFS_TABLE];

export interface TableNames {
  entities: string;
  state: string;
  refs: string;
}
export function tableNames(prefix: string): TableNames {
  return { entities: `${prefix}entities`, state: `${prefix}state`, refs: `${prefix}refs` };
}

export function createTableInput(spec: TableSpec, tableName: string): CreateTableCommandInput {
  const attrs = new Map<string, KeyAttr>();
  for (const k of [spec.partitionKey, spec.sortKey, ...spec.indexes.flatMap((i) => [i.partitionKey, i.sortKey])]) attrs.set(k.name, k);
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attrs.values()].map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
    KeySchema: [
      { AttributeName: spec.partitionKey.name, KeyType: 'HASH' },
      { AttributeName: spec.sortKey.name, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: spec.indexes.length
      ? spec.indexes.map((i) => ({
          IndexName: i.name,
          KeySchema: [
            { AttributeName: i.partitionKey.name, KeyType: 'HASH' as const },
            { AttributeName: i.sortKey.name, KeyType: 'RANGE' as const },
          ],
          Projection:
            i.projection === 'ALL'
              ? { ProjectionType: 'ALL' as const }
              : i.projection === 'KEYS_ONLY'
                ? { ProjectionType: 'KEYS_ONLY' as const }
                : { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: i.projection.include },
        }))
      : undefined,
  };
}

/** Creates any missing table (idempotent); used by the local stack and tests. In AWS the CDK stack owns them. */
export async function ensureTables(ddb: DynamoDBClient, names: TableNames): Promise<void> {
  for (const spec of TABLE_SPECS) {
    const name = names[spec.logical];
    try {
      await ddb.send(new DescribeTableCommand({ TableName: name }));
      continue;
    } catch (e) {
      if ((e as Error).name !== 'ResourceNotFoundException') throw e;
    }
    try {
      await ddb.send(new CreateTableCommand(createTableInput(spec, name)));
    } catch (e) {
      if (!(e instanceof ResourceInUseException)) throw e;
    }
  }
}
