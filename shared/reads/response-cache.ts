// The response cache: the site's own reply to a read the engine cannot plan, per caller, invalidated by per-type generation counters and by its signed URLs nearing expiry (docs/design.md "Response cache").
import { gunzipSync, gzipSync } from 'node:zlib';
import { BatchGetItemCommand, PutItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { canonicalDigest, readTypes } from '../semantics/index.js';
import { CLOCK_OPERATORS, DEFAULT_VOLATILE_POLICY } from '../query/index.js';
import { mayBeVolatile, servableUntil } from '../site/index.js';
import { bumpGenerations, GENERATION_PK, SCHEMA_GENERATION } from '../store/index.js';

export { bumpGenerations, SCHEMA_GENERATION };

/** State-table partition of cached replies (sk = the request key); generation counters are the store's change counters. */
export const RESPONSE_PK = 'resp';
export const DEFAULT_RESPONSE_CACHE_TTL_S = 600;
/** Replies larger than this after gzip are not kept (DynamoDB items are at most 400 KB). */
export const MAX_STORED_BYTES = 350 * 1024;
/** Bodies at least this large are stored gzip+base64. */
const GZIP_FROM_BYTES = 4 * 1024;
/** BatchGetItem takes at most 100 keys: the reply item plus at most 99 generations. */
const MAX_TYPES = 99;
/** Generation recorded for a type first seen in the reply (not read before the site was asked): never servable. */
const UNKNOWN_GENERATION = -1;

/** Types whose rows change without an entity event: their reads are never kept. */
const NO_EVENT_TYPES: ReadonlySet<string> = new Set(['EventLogEntry']);

/**
 * Pass reasons after which the site's reply is a pure function of the data and the caller: uncached fields and types,
 * readiness, reads too large to gather from the cache, and operators the engine does not answer — except clock operators, whose results move with time.
 */
export function isCacheableReason(reason: string): boolean {
  const i = reason.indexOf(':');
  if (i < 0) return false;
  const cls = reason.slice(0, i);
  if (cls === 'operator') return !CLOCK_OPERATORS.has(reason.slice(i + 1));
  return cls === 'uncached-field' || cls === 'uncached-type' || cls === 'field-not-ready' || cls === 'type-not-ready' || cls === 'scan-too-large';
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The request key: SHA-256 of the method, the normalised params[1] and the caller's keyed identity hash. */
export function responseKey(method: string, params: unknown, identity: string): string {
  return canonicalDigest([method, params, identity]);
}

/** Whether any filter anywhere in params uses a clock operator (a second guard besides the pass reason). */
function usesClock(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(usesClock);
  if (!isObj(v)) return false;
  if (typeof v.relation === 'string' && CLOCK_OPERATORS.has(v.relation)) return true;
  return Object.values(v).some(usesClock);
}

/**
 * The entity types a read depends on, from its params: the root type, every type named in a deep path (return
 * fields, filters, sorts, summaries, grouping), and the schema pseudo-type. Undefined: not cacheable.
 */
export function requestTypes(params: unknown): string[] | undefined {
  if (!isObj(params) || typeof params.type !== 'string' || params.type === '' || NO_EVENT_TYPES.has(params.type)) return undefined;
  if (usesClock(params.filters)) return undefined;
  const types = readTypes(params);
  if (types.some((t) => NO_EVENT_TYPES.has(t))) return undefined;
  return [...types, SCHEMA_GENERATION];
}

/** Entity types named in a JSON text (`"type":"X"`: link values, entity records): over-inclusive on purpose. */
export function typesNamedIn(json: string): string[] {
  const out = new Set<string>();
  for (const m of json.matchAll(/"type"\s*:\s*"([A-Za-z0-9_]+)"/g)) out.add(m[1]);
  return [...out];
}

/** Entity types of a batch of forwarded events: `Shotgun_<Type>_<Op>`; DisplayColumn events bump the schema generation. */
export function eventTypes(events: ReadonlyArray<{ event_type: string }>): string[] {
  const out = new Set<string>();
  for (const ev of events) {
    if (ev.event_type.startsWith('Shotgun_DisplayColumn_')) out.add(SCHEMA_GENERATION);
    const m = /^Shotgun_(.+)_(New|Change|Retirement|Revival)$/.exec(ev.event_type);
    if (m) out.add(m[1]);
  }
  return [...out];
}

/** The poller's hook (shared/sync/poller.ts onEvents): bumps the generation of every type in a batch of events. */
export function generationBumper(ddb: DynamoDBClient, table: string): (events: ReadonlyArray<{ event_type: string }>) => Promise<void> {
  return (events) => bumpGenerations(ddb, table, eventTypes(events));
}

export type Generations = Record<string, number>;

export type Lookup =
  /** The stored reply, exactly as the site sent it. */
  | { kind: 'hit'; body: Buffer }
  /** Not servable: the generations read before asking the site (store() records them with the reply). */
  | { kind: 'miss'; key: string; generations: Generations };

export interface ResponseCacheOptions {
  ddb: DynamoDBClient;
  table: string;
  ttlS?: number;
  maxStoredBytes?: number;
  now?: () => number;
  /** A stored reply's signed URLs must stay valid this long (default SIGNED_URL_MARGIN_S's default). */
  marginMs?: number;
}

export class ResponseCache {
  readonly stats = { hits: 0, misses: 0, stored: 0, tooLarge: 0 };
  private readonly now: () => number;
  constructor(private readonly o: ResponseCacheOptions) {
    this.now = o.now ?? Date.now;
  }

  /** The stored item and the generations of `types` (plus those the item lists): one BatchGetItem, a second only for types the request does not name. */
  async lookup(key: string, types: string[]): Promise<Lookup> {
    const first = await this.batchGet([key], types);
    const item = first.item;
    const generations = first.generations;
    const storedGens = item?.g?.M;
    const extra = storedGens ? Object.keys(storedGens).filter((t) => !(t in generations)) : [];
    if (extra.length) Object.assign(generations, (await this.batchGet([], extra)).generations);
    const miss: Lookup = { kind: 'miss', key, generations };
    if (!item || !storedGens) return this.missed(miss);
    if (Number(item.ttl?.N ?? 0) <= Math.floor(this.now() / 1000)) return this.missed(miss);
    if (item.vu?.N !== undefined && Number(item.vu.N) <= this.now()) return this.missed(miss);
    for (const t of types) if (!(t in storedGens)) return this.missed(miss);
    for (const [t, v] of Object.entries(storedGens)) {
      if (Number(v.N) !== generations[t]) return this.missed(miss);
    }
    const body = item.z?.S !== undefined ? gunzipSync(Buffer.from(item.z.S, 'base64')) : Buffer.from(item.b?.S ?? '', 'utf8');
    this.stats.hits++;
    return { kind: 'hit', body };
  }

  /**
   * Keeps the site's reply under the miss's key with the generations read before the site was asked. Types first
   * seen in the reply (link targets) get an unservable generation: the next lookup reads theirs before the site call.
   * Returns false when the reply is too large to keep. `linkTypes: false`: no types are read from the reply.
   */
  async store(miss: Extract<Lookup, { kind: 'miss' }>, body: Buffer, opts: { linkTypes?: boolean } = {}): Promise<boolean> {
    const text = body.toString('utf8');
    // Signed URLs: servable until the first is inside the margin (`vu`); a placeholder (thumbnail pending): never kept.
    const until = mayBeVolatile(text) ? servableUntil(JSON.parse(text), this.o.marginMs ?? DEFAULT_VOLATILE_POLICY.marginMs) : Infinity;
    if (until <= this.now()) return false;
    const gens: Record<string, AttributeValue> = {};
    for (const [t, n] of Object.entries(miss.generations)) gens[t] = { N: String(n) };
    // Schema replies name no entities (`linkTypes: false`): they depend on the generations looked up only.
    if (opts.linkTypes !== false) for (const t of typesNamedIn(text)) if (!(t in gens)) gens[t] = { N: String(UNKNOWN_GENERATION) };
    if (Object.keys(gens).length > MAX_TYPES) return false;
    const stored: Record<string, AttributeValue> = body.length >= GZIP_FROM_BYTES ? { z: { S: gzipSync(body).toString('base64') } } : { b: { S: text } };
    if ((stored.z ?? stored.b).S!.length > (this.o.maxStoredBytes ?? MAX_STORED_BYTES)) {
      this.stats.tooLarge++;
      return false;
    }
    await this.o.ddb.send(
      new PutItemCommand({
        TableName: this.o.table,
        Item: {
          pk: { S: RESPONSE_PK },
          sk: { S: miss.key },
          ...stored,
          g: { M: gens },
          ...(Number.isFinite(until) ? { vu: { N: String(Math.floor(until)) } } : {}),
          types: { SS: Object.keys(gens) },
          ttl: { N: String(Math.floor(this.now() / 1000) + (this.o.ttlS ?? DEFAULT_RESPONSE_CACHE_TTL_S)) },
        },
      }),
    );
    this.stats.stored++;
    return true;
  }

  private missed(m: Lookup): Lookup {
    this.stats.misses++;
    return m;
  }

  private async batchGet(keys: string[], types: string[]): Promise<{ item?: Record<string, AttributeValue>; generations: Generations }> {
    const req = [...keys.map((k) => ({ pk: { S: RESPONSE_PK }, sk: { S: k } })), ...types.map((t) => ({ pk: { S: GENERATION_PK }, sk: { S: t } }))];
    const generations: Generations = Object.fromEntries(types.map((t) => [t, 0]));
    const out = await this.o.ddb.send(new BatchGetItemCommand({ RequestItems: { [this.o.table]: { Keys: req, ConsistentRead: true } } }));
    if (Object.keys(out.UnprocessedKeys ?? {}).length) throw new Error('response cache lookup throttled (unprocessed keys)');
    let item: Record<string, AttributeValue> | undefined;
    for (const it of out.Responses?.[this.o.table] ?? []) {
      if (it.pk?.S === RESPONSE_PK) item = it;
      else if (it.pk?.S === GENERATION_PK && it.sk?.S !== undefined) generations[it.sk.S] = Number(it.n?.N ?? 0);
    }
    return { item, generations };
  }
}
