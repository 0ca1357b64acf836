// The shadow checks' record in the state table: outcome counts for /status, mismatches per type, and which types are quarantined (served from the site).
import { QueryCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { periodicSnapshot } from '../store/index.js';
import type { ShadowOutcome } from './shadow-check.js';

/** State-table partition: sk "counts" (outcome totals) and sk "type#<Type>" (mismatches, quarantine). */
export const SHADOW_PK = 'shadow';
const COUNTS_SK = 'counts';
const typeSk = (type: string) => `type#${type}`;

export const SHADOW_OUTCOMES: readonly ShadowOutcome[] = ['matched', 'converged', 'mismatch', 'unsettled', 'skipped'];

export interface ShadowCounts {
  checked: number;
  matched: number;
  /** Differed at first, agreed once the sync caught up (counted as matched too). */
  converged: number;
  mismatched: number;
  unsettled: number;
  skipped: number;
}

export interface QuarantinedType { type: string; reason: 'shadow-mismatch'; since: string; mismatches: number; shape?: string; suspects: number[] }

export interface ShadowReport { counts: ShadowCounts; quarantined: QuarantinedType[] }

export class ShadowLedger {
  constructor(private readonly ddb: DynamoDBClient, private readonly table: string, private readonly threshold = 1) {}

  /**
   * Records one verdict. A mismatch counts against every type the request reads; a type reaching the threshold is
   * quarantined. Returns the types this call quarantined.
   */
  async record(outcome: ShadowOutcome, types: readonly string[], detail: { shape: string; ids?: number[] }, at = new Date()): Promise<string[]> {
    const counter = outcome === 'mismatch' ? 'mismatched' : outcome;
    const add = ['checked', counter, ...(outcome === 'converged' ? ['matched'] : [])];
    await this.ddb.send(new UpdateItemCommand({
      TableName: this.table, Key: this.key(COUNTS_SK),
      UpdateExpression: `ADD ${add.map((_, i) => `#c${i} :one`).join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(add.map((c, i) => [`#c${i}`, c])),
      ExpressionAttributeValues: { ':one': { N: '1' } },
    }));
    if (outcome !== 'mismatch') return [];
    const quarantined: string[] = [];
    for (const type of new Set(types)) {
      // The differing ids (of the root type) are kept so that validation compares them whatever its sample.
      const ids = type === types[0] ? [...new Set(detail.ids ?? [])].slice(0, 100) : [];
      const r = await this.ddb.send(new UpdateItemCommand({
        TableName: this.table, Key: this.key(typeSk(type)),
        UpdateExpression: `ADD mismatches :one${ids.length ? ', suspects :ids' : ''} SET shape = :shape, lastAt = :at`,
        ExpressionAttributeValues: {
          ':one': { N: '1' }, ':shape': { S: detail.shape }, ':at': { S: at.toISOString() },
          ...(ids.length ? { ':ids': { NS: ids.map(String) } } : {}),
        },
        ReturnValues: 'ALL_NEW',
      }));
      const item = r.Attributes ?? {};
      if (Number(item.mismatches?.N ?? 0) >= this.threshold && item.quarantined?.BOOL !== true) {
        await this.ddb.send(new UpdateItemCommand({
          TableName: this.table, Key: this.key(typeSk(type)),
          UpdateExpression: 'SET quarantined = :y, since = :at, reason = :r',
          ExpressionAttributeValues: { ':y': { BOOL: true }, ':at': { S: at.toISOString() }, ':r': { S: 'shadow-mismatch' } },
        }));
        quarantined.push(type);
      }
    }
    return quarantined;
  }

  /** Puts a type back in service (a clean validation or a completed re-import) and resets its mismatch count. */
  async clear(type: string, by: string, at = new Date()): Promise<boolean> {
    const r = await this.ddb.send(new UpdateItemCommand({
      TableName: this.table, Key: this.key(typeSk(type)),
      UpdateExpression: 'SET quarantined = :n, mismatches = :zero, clearedBy = :by, clearedAt = :at REMOVE since, suspects',
      ExpressionAttributeValues: { ':n': { BOOL: false }, ':zero': { N: '0' }, ':by': { S: by }, ':at': { S: at.toISOString() } },
      ReturnValues: 'UPDATED_OLD',
    }));
    return r.Attributes?.quarantined?.BOOL === true;
  }

  /** Counts and quarantined types (one Query). */
  async report(): Promise<ShadowReport> {
    const counts: ShadowCounts = { checked: 0, matched: 0, converged: 0, mismatched: 0, unsettled: 0, skipped: 0 };
    const quarantined: QuarantinedType[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const r = await this.ddb.send(new QueryCommand({
        TableName: this.table, KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': { S: SHADOW_PK } }, ExclusiveStartKey: start, ConsistentRead: true,
      }));
      for (const it of r.Items ?? []) {
        const sk = it.sk.S!;
        if (sk === COUNTS_SK) {
          for (const k of Object.keys(counts) as Array<keyof ShadowCounts>) counts[k] = Number(it[k]?.N ?? 0);
        } else if (sk.startsWith('type#') && it.quarantined?.BOOL === true) {
          quarantined.push({ type: sk.slice(5), reason: 'shadow-mismatch', since: it.since?.S ?? '', mismatches: Number(it.mismatches?.N ?? 0), ...(it.shape?.S ? { shape: it.shape.S } : {}), suspects: (it.suspects?.NS ?? []).map(Number).sort((a, b) => a - b) });
        }
      }
      start = r.LastEvaluatedKey;
    } while (start);
    return { counts, quarantined };
  }

  /** The quarantined types, reloaded at most every `maxAgeMs` (the read path's view). */
  quarantine(maxAgeMs: number): () => Promise<ReadonlySet<string>> {
    return periodicSnapshot(async () => new Set((await this.report()).quarantined.map((q) => q.type)), maxAgeMs);
  }

  private key(sk: string): Record<string, AttributeValue> {
    return { pk: { S: SHADOW_PK }, sk: { S: sk } };
  }
}
