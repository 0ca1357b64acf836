// Change counters: one per entity type and one per type and project, bumped after every write of a cached entity, read strongly consistently by the reply memo.
import { AsyncLocalStorage } from 'node:async_hooks';
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

/** Counters to bump, per table, gathered while bumps are deferred (see deferBumps). */
type Deferred = { ddb: DynamoDBClient; keys: Map<string, Set<string>> };
const deferred = new AsyncLocalStorage<Deferred>();

/**
 * Runs `fn` with every bump it makes (the store's and its caller's) gathered, then bumps each counter once: a batch
 * of writes pays one UpdateItem per counter, not one per write per counter (the consumer's batches). A bump only ever
 * comes after its write, as without deferral: a reply computed before the write is invalidated once the bump lands, and
 * one computed after it is already new. The bumps run even when `fn` fails (for the writes it did make), before the
 * error is passed on.
 */
export async function deferBumps<T>(ddb: DynamoDBClient, fn: () => Promise<T>): Promise<T> {
  const d: Deferred = { ddb, keys: new Map() };
  try {
    return await deferred.run(d, fn);
  } finally {
    await Promise.all([...d.keys].map(([table, keys]) => bumpGenerations(ddb, table, keys, { now: true })));
  }
}

/** Increments (UpdateItem ADD) each counter: the store after its writes, the poller, write-through; inside deferBumps, at its end. */
export async function bumpGenerations(ddb: DynamoDBClient, table: string, keys: Iterable<string>, opts: { now?: boolean } = {}): Promise<void> {
  const d = opts.now ? undefined : deferred.getStore();
  if (d?.ddb === ddb) {
    const set = d.keys.get(table) ?? new Set<string>();
    for (const k of keys) set.add(k);
    d.keys.set(table, set);
    return;
  }
  await Promise.all(
    [...new Set(keys)].map((t) =>
      ddb.send(
        new UpdateItemCommand({
          TableName: table,
          Key: { pk: { S: GENERATION_PK }, sk: { S: t } },
          UpdateExpression: 'ADD n :one',
          ExpressionAttributeValues: { ':one': { N: '1' } },
        }),
      ),
    ),
  );
}

/** The current value of each counter (0 when never bumped): one strongly consistent BatchGetItem; throws when DynamoDB leaves keys unprocessed. */
export async function readGenerations(ddb: DynamoDBClient, table: string, keys: readonly string[]): Promise<Record<string, number>> {
  const unique = [...new Set(keys)];
  if (unique.length > MAX_COUNTER_KEYS) throw new Error(`too many change counters (${unique.length})`);
  const out: Record<string, number> = Object.fromEntries(unique.map((k) => [k, 0]));
  if (!unique.length) return out;
  const r = await ddb.send(
    new BatchGetItemCommand({
      RequestItems: { [table]: { Keys: unique.map((k) => ({ pk: { S: GENERATION_PK }, sk: { S: k } })), ConsistentRead: true } },
    }),
  );
  if (Object.keys(r.UnprocessedKeys ?? {}).length) throw new Error('change counters throttled (unprocessed keys)');
  for (const it of r.Responses?.[table] ?? []) if (it.sk?.S !== undefined) out[it.sk.S] = Number(it.n?.N ?? 0);
  return out;
}
