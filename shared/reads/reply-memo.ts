// The reply memo: built replies of plannable reads kept in this container's memory, per request and caller view, served only while every change counter they depend on is unchanged (and their signed URLs stay valid for the margin).
import { gzipSync } from 'node:zlib';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { canonicalDigest, readTypes } from '../semantics/index.js';
import { DEFAULT_VOLATILE_POLICY, type VolatilePolicy } from '../query/index.js';
import { servableUntil } from '../site/index.js';
import { MAX_COUNTER_KEYS, projectCounter, readGenerations, SCHEMA_GENERATION } from '../store/index.js';

/** Default share of the function's memory (AWS_LAMBDA_FUNCTION_MEMORY_SIZE, MB) the memo may hold. */
export const DEFAULT_MEMO_SHARE = 0.25;
/** Without AWS_LAMBDA_FUNCTION_MEMORY_SIZE (local runs): the function memory assumed, MB. */
const DEFAULT_FUNCTION_MB = 1024;
/** Counter value recorded for a type first seen in a built reply (not read before the build): never servable. */
const UNKNOWN = -1;
/** Per-entry overhead counted besides the body bytes (map entry, counters, key). */
const ENTRY_OVERHEAD = 512;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The memo's byte budget: `share` of the function's configured memory. */
export function memoBudgetBytes(env: Record<string, string | undefined> = process.env, share = DEFAULT_MEMO_SHARE): number {
  const mb = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  return Math.floor((Number.isFinite(mb) && mb > 0 ? mb : DEFAULT_FUNCTION_MB) * 2 ** 20 * share);
}

/** The project a read's top-level filters pin (`project is {Project, id}` under `and`), if any. */
export function pinnedProject(params: Record<string, unknown>): number | undefined {
  const f = params.filters;
  const list = Array.isArray(f) ? f : isObj(f) && (f.logical_operator ?? 'and') === 'and' && Array.isArray(f.conditions) ? f.conditions : undefined;
  if (isObj(f) && f.logical_operator === 'or') return undefined;
  for (const c of list ?? []) {
    const cond = Array.isArray(c) ? { path: c[0], relation: c[1], values: [c[2]] } : c;
    if (!isObj(cond) || cond.path !== 'project' || cond.relation !== 'is') continue;
    const v = Array.isArray(cond.values) ? cond.values[0] : undefined;
    if (isObj(v) && v.type === 'Project' && typeof v.id === 'number') return v.id;
  }
  return undefined;
}

/**
 * The entity types a built result links to (link values anywhere in its fields, summary groups included), whose names
 * and retirement it shows; the records' own `type` is not a link (the read's root counter covers them).
 */
export function linkTypesOf(result: unknown): string[] {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) for (const x of v) walk(x);
    else if (isObj(v)) {
      if (typeof v.type === 'string') out.add(v.type);
      for (const x of Object.values(v)) walk(x);
    }
  };
  const entities = isObj(result) && Array.isArray(result.entities) ? result.entities : undefined;
  if (!entities) walk(result);
  else for (const e of entities) if (isObj(e)) for (const [k, x] of Object.entries(e)) if (k !== 'type') walk(x);
  return [...out];
}

export type CounterGranularity = 'type' | 'type+project';

/**
 * The counters a read depends on before it is built: its root type (per project when its filters pin one and the
 * granularity allows), every type its deep paths name, and the schema. Types of link targets are learnt from the reply.
 */
export function memoCounters(params: unknown, granularity: CounterGranularity = 'type+project'): string[] {
  if (!isObj(params) || typeof params.type !== 'string') return [SCHEMA_GENERATION];
  const root = params.type;
  const project = granularity === 'type+project' ? pinnedProject(params) : undefined;
  const out = new Set<string>([project === undefined ? root : projectCounter(root, project), SCHEMA_GENERATION]);
  for (const t of readTypes(params)) if (t !== root) out.add(t);
  return [...out];
}

/** `gz`: the body gzip+base64, made on the first gzip hit and counted in `size` from then on. */
interface Entry {
  body: Buffer;
  counters: Record<string, number>;
  size: number;
  access: string;
  gz?: string;
  until: number;
}

export type MemoLookup =
  | { kind: 'hit'; body: Buffer; access: string; gzipped: () => string }
  /** Not servable: the counters read before the reply is built (keep() records them with it). */
  | { kind: 'miss'; key: string; counters: Record<string, number> };

export interface ReplyMemoOptions {
  ddb: DynamoDBClient;
  table: string;
  maxBytes?: number;
  granularity?: CounterGranularity;
  onEvict?: (n: number) => void;
  /** Signed URLs in a kept reply must stay valid for the margin (shared/query/volatile-values.ts). */
  volatile?: VolatilePolicy;
}

export class ReplyMemo {
  readonly stats = { hits: 0, misses: 0, kept: 0, evictions: 0, bytes: 0 };
  readonly maxBytes: number;
  /** Insertion order = recency (a hit re-inserts): the first entry is the least recently used. */
  private readonly entries = new Map<string, Entry>();

  private readonly volatile: VolatilePolicy;

  constructor(private readonly o: ReplyMemoOptions) {
    this.maxBytes = o.maxBytes ?? memoBudgetBytes();
    this.volatile = o.volatile ?? DEFAULT_VOLATILE_POLICY;
  }

  /** The memo key: the method, the canonical params and the caller's view key. */
  key(method: string, params: unknown, view: string): string {
    return canonicalDigest(['memo', method, params, view]);
  }

  /** The entry under `key` when every counter it depends on still has the value it was built under: one consistent BatchGetItem. Throws when the counters cannot be read. */
  async lookup(key: string, params: unknown): Promise<MemoLookup> {
    const entry = this.entries.get(key);
    const keys = new Set(memoCounters(params, this.o.granularity));
    for (const k of Object.keys(entry?.counters ?? {})) keys.add(k);
    const counters = await readGenerations(this.o.ddb, this.o.table, [...keys]);
    if (
      entry &&
      entry.until > this.volatile.now() &&
      Object.entries(entry.counters).every(([k, n]) => counters[k] === n) &&
      [...keys].every((k) => k in entry.counters)
    ) {
      this.entries.delete(key);
      this.entries.set(key, entry);
      this.stats.hits++;
      return { kind: 'hit', body: entry.body, access: entry.access, gzipped: () => this.gzipped(key, entry) };
    }
    if (entry) this.drop(key, entry);
    this.stats.misses++;
    return { kind: 'miss', key, counters };
  }

  /**
   * Keeps `body`, built from `result` after `miss`'s counters were read. Link types of the result whose counters were
   * not read make it unservable until rebuilt (the next lookup reads them before building).
   */
  keep(miss: Extract<MemoLookup, { kind: 'miss' }>, body: Buffer, result: unknown, access: string): void {
    const counters = { ...miss.counters };
    for (const t of linkTypesOf(result)) if (!(t in counters)) counters[t] = UNKNOWN;
    if (Object.keys(counters).length > MAX_COUNTER_KEYS) return;
    const size = body.length + ENTRY_OVERHEAD;
    if (size > this.maxBytes) return;
    // A reply with signed URLs is servable until the first is inside the margin; one with a placeholder never.
    const until = servableUntil(result, this.volatile.marginMs);
    if (until <= this.volatile.now()) return;
    const old = this.entries.get(miss.key);
    if (old) this.drop(miss.key, old);
    this.entries.set(miss.key, { body, counters, size, access, until });
    this.stats.bytes += size;
    this.stats.kept++;
    this.evict();
  }

  private evict(): void {
    let evicted = 0;
    for (const [k, e] of this.entries) {
      if (this.stats.bytes <= this.maxBytes) break;
      this.drop(k, e);
      evicted++;
    }
    if (evicted) {
      this.stats.evictions += evicted;
      this.o.onEvict?.(evicted);
    }
  }

  /** The entry's body gzip+base64, made once (the memory it takes counts against the bound). */
  private gzipped(key: string, e: Entry): string {
    if (e.gz === undefined) {
      e.gz = gzipSync(e.body).toString('base64');
      if (this.entries.get(key) === e) {
        e.size += e.gz.length;
        this.stats.bytes += e.gz.length;
        this.evict();
      }
    }
    return e.gz;
  }

  get size(): number {
    return this.entries.size;
  }

  private drop(key: string, e: Entry): void {
    this.entries.delete(key);
    this.stats.bytes -= e.size;
  }
}
