// Change counters: one per entity type and one per type and project, bumped after every write of a cached entity, read strongly consistently by the reply memo.
import { BatchGetItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** State-table partition of the counters (sk = a type, `<Type>@<projectId>`, or a pseudo-type such as `*schema`). */
export const GENERATION_PK = 'gen';
/** Pseudo-type bumped by schema changes (DisplayColumn events, by the poller and by the consumer once applied): every cached or memoized reply depends on it. */
export const SCHEMA_GENERATION = '*schema';
/** BatchGetItem takes at most 100 keys. */
export const MAX_COUNTER_KEYS = 100;

/** The counter of one type within one project. */
export const projectCounter = (type: string, project: number): string => `${type}@${project}`;

/** The project id of an entity's stored values (`project` link), if any. */
export function projectOf(values: Record<string, unknown> | undefined): number | undefined {
  const p = values?.project as { id?: unknown } | null | undefined;
  return p && typeof p === 'object' && typeof p.id === 'number' ? p.id : undefined;
}

/** The counters a write of `type` changes: the type's, and each project's the entity was or is in. */
export function countersOfChange(type: string, ...projects: Array<number | undefined>): string[] {
  const out = new Set<string>([type]);
  for (const p of projects) if (p !== undefined) out.add(projectCounter(type, p));
  return [...out];
}

/** Increments (UpdateItem ADD) each counter: the store after its writes, the poller, write-through. */
export async function bumpGenerations(ddb: DynamoDBClient, table: string, keys: Iterable<string>): Promise<void> {
  await Promise.all([...new Set(keys)].map((t) => ddb.send(new UpdateItemCommand({
    TableName: table, Key: { pk: { S: GENERATION_PK }, sk: { S: t } },
    UpdateExpression: 'ADD n :one', ExpressionAttributeValues: { ':one': { N: '1' } },
  }))));
}

/** The current value of each counter (0 when never bumped): one strongly consistent BatchGetItem; throws when DynamoDB leaves keys unprocessed. */
export async function readGenerations(ddb: DynamoDBClient, table: string, keys: readonly string[]): Promise<Record<string, number>> {
  const unique = [...new Set(keys)];
  if (unique.length > MAX_COUNTER_KEYS) throw new Error(`too many change counters (${unique.length})`);
  const out: Record<string, number> = Object.fromEntries(unique.map((k) => [k, 0]));
  if (!unique.length) return out;
  const r = await ddb.send(new BatchGetItemCommand({
    RequestItems: { [table]: { Keys: unique.map((k) => ({ pk: { S: GENERATION_PK }, sk: { S: k } })), ConsistentRead: true } },
  }));
  if (Object.keys(r.UnprocessedKeys ?? {}).length) throw new Error('change counters throttled (unprocessed keys)');
  for (const it of r.Responses?.[table] ?? []) if (it.sk?.S !== undefined) out[it.sk.S] = Number(it.n?.N ?? 0);
  return out;
}
