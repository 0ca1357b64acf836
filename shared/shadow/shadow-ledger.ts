// The shadow checks' record in the state table: outcome counts for /status, mismatches per type, and which types are quarantined (served from the site).
import { QueryCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { periodicSnapshot } from '../store/index.js';
import type { ShadowOutcome } from './shadow-check.js';

/** State-table partition: sk "counts" (outcome totals) and sk "type#<Type>" (mismatches, quarantine). */
export const SHADOW_PK = 'shadow';
const COUNTS_SK = 'counts';
const typeSk = (type: string) => `type#${type}`;

export const SHADOW_OUTCOMES: readonly ShadowOutcome[] = ['matched', 'converged', 'mismatch', 'stale', 'unsettled', 'skipped'];
/** The request a mismatch was caught on is kept (for the re-checks that lift a quarantine) when its JSON is at most this long. */
const MAX_KEPT_REQUEST = 16_000;
/** Re-checks of a quarantined type after the first: 30 s, doubling, at most 15 min apart. */
export const RECHECK_BACKOFF = { firstMs: 30_000, maxMs: 15 * 60_000 } as const;

export interface ShadowCounts {
  checked: number;
  matched: number;
  /** Differed at first, agreed once the sync caught up (counted as matched too). */
  converged: number;
  mismatched: number;
  /** Differed because the site had newer versions than the cache (sync lag): repaired, never quarantined. */
  stale: number;
  unsettled: number;
  skipped: number;
}

export interface QuarantinedType {
  type: string;
  reason: 'shadow-mismatch';
  since: string;
  mismatches: number;
  shape?: string;
  suspects: number[];
  /** Re-checks that still found a difference, and when the next is due. */
  rechecks: number;
  nextRecheckAt?: string;
}

/** What the re-check of a quarantined type needs: the request the mismatch was caught on (when it was small enough to keep). */
export interface QuarantineEntry extends QuarantinedType {
  request?: { method: 'read' | 'summarize'; params: Record<string, unknown> };
  recheckAt?: number;
}

export interface ShadowReport {
  counts: ShadowCounts;
  quarantined: QuarantinedType[];
}

export class ShadowLedger {
  constructor(
    private readonly ddb: DynamoDBClient,
    private readonly table: string,
    private readonly threshold = 1,
  ) {}

  /**
   * Records one verdict. A mismatch counts against every type the request reads; a type reaching the threshold is
   * quarantined. Returns the types this call quarantined.
   */
  async record(
    outcome: ShadowOutcome,
    types: readonly string[],
    detail: { shape: string; ids?: number[]; request?: QuarantineEntry['request'] },
    at = new Date(),
  ): Promise<string[]> {
    const counter = outcome === 'mismatch' ? 'mismatched' : outcome;
    const add = ['checked', counter, ...(outcome === 'converged' ? ['matched'] : [])];
    await this.ddb.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: this.key(COUNTS_SK),
        UpdateExpression: `ADD ${add.map((_, i) => `#c${i} :one`).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(add.map((c, i) => [`#c${i}`, c])),
        ExpressionAttributeValues: { ':one': { N: '1' } },
      }),
    );
    if (outcome !== 'mismatch') return [];
    const quarantined: string[] = [];
    for (const type of new Set(types)) {
      // The differing ids (of the root type) are kept so that validation compares them whatever its sample.
      const ids = type === types[0] ? [...new Set(detail.ids ?? [])].slice(0, 100) : [];
      const r = await this.ddb.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: this.key(typeSk(type)),
          UpdateExpression: `ADD mismatches :one${ids.length ? ', suspects :ids' : ''} SET shape = :shape, lastAt = :at`,
          ExpressionAttributeValues: {
            ':one': { N: '1' },
            ':shape': { S: detail.shape },
            ':at': { S: at.toISOString() },
            ...(ids.length ? { ':ids': { NS: ids.map(String) } } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const item = r.Attributes ?? {};
      if (Number(item.mismatches?.N ?? 0) >= this.threshold && item.quarantined?.BOOL !== true) {
        const request = detail.request ? JSON.stringify(detail.request) : '';
        const keep = request.length > 0 && request.length <= MAX_KEPT_REQUEST;
        // No recheckAt: the first re-check comes after the next reconcile pass of the type.
        await this.ddb.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: this.key(typeSk(type)),
            UpdateExpression: `SET quarantined = :y, since = :at, reason = :r, rechecks = :zero${keep ? ', replay = :req' : ''} REMOVE recheckAt${keep ? '' : ', replay'}`,
            ExpressionAttributeValues: {
              ':y': { BOOL: true },
              ':at': { S: at.toISOString() },
              ':r': { S: 'shadow-mismatch' },
              ':zero': { N: '0' },
              ...(keep ? { ':req': { S: request } } : {}),
            },
          }),
        );
        quarantined.push(type);
      }
    }
    return quarantined;
  }

  /** Puts a type back in service (a clean validation or re-check, a completed re-import) and resets its mismatch count. */
  async clear(type: string, by: string, at = new Date()): Promise<boolean> {
    const r = await this.ddb.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: this.key(typeSk(type)),
        UpdateExpression: 'SET quarantined = :n, mismatches = :zero, clearedBy = :by, clearedAt = :at REMOVE since, suspects, replay, recheckAt, rechecks',
        ExpressionAttributeValues: { ':n': { BOOL: false }, ':zero': { N: '0' }, ':by': { S: by }, ':at': { S: at.toISOString() } },
        ReturnValues: 'UPDATED_OLD',
      }),
    );
    return r.Attributes?.quarantined?.BOOL === true;
  }

  /** A re-check of a quarantined type still found a difference: the next one after the backoff (only while still quarantined). */
  async recheckLater(type: string, rechecks: number, now = Date.now()): Promise<number> {
    const at = now + Math.min(RECHECK_BACKOFF.maxMs, RECHECK_BACKOFF.firstMs * 2 ** Math.max(0, rechecks));
    await this.ddb
      .send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: this.key(typeSk(type)),
          UpdateExpression: 'SET recheckAt = :at, rechecks = :n',
          ConditionExpression: 'quarantined = :y',
          ExpressionAttributeValues: { ':at': { N: String(at) }, ':n': { N: String(rechecks + 1) }, ':y': { BOOL: true } },
        }),
      )
      .catch((e: Error) => {
        if (e.name !== 'ConditionalCheckFailedException') throw e;
      });
    return at;
  }

  /** Counts and quarantined types (one Query). */
  async report(): Promise<ShadowReport> {
    const { counts, entries } = await this.read();
    return { counts, quarantined: entries.map(({ request: _r, recheckAt: _a, ...q }) => q) };
  }

  /** The quarantined types with what their re-check needs. */
  async quarantinedEntries(): Promise<QuarantineEntry[]> {
    return (await this.read()).entries;
  }

  private async read(): Promise<{ counts: ShadowCounts; entries: QuarantineEntry[] }> {
    const counts: ShadowCounts = { checked: 0, matched: 0, converged: 0, mismatched: 0, stale: 0, unsettled: 0, skipped: 0 };
    const quarantined: QuarantineEntry[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const r = await this.ddb.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :p',
          ExpressionAttributeValues: { ':p': { S: SHADOW_PK } },
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      for (const it of r.Items ?? []) {
        const sk = it.sk.S!;
        if (sk === COUNTS_SK) {
          for (const k of Object.keys(counts) as Array<keyof ShadowCounts>) counts[k] = Number(it[k]?.N ?? 0);
        } else if (sk.startsWith('type#') && it.quarantined?.BOOL === true) {
          const recheckAt = it.recheckAt?.N ? Number(it.recheckAt.N) : undefined;
          quarantined.push({
            type: sk.slice(5),
            reason: 'shadow-mismatch',
            since: it.since?.S ?? '',
            mismatches: Number(it.mismatches?.N ?? 0),
            ...(it.shape?.S ? { shape: it.shape.S } : {}),
            suspects: (it.suspects?.NS ?? []).map(Number).sort((a, b) => a - b),
            rechecks: Number(it.rechecks?.N ?? 0),
            ...(recheckAt !== undefined ? { recheckAt, nextRecheckAt: new Date(recheckAt).toISOString() } : {}),
            ...(it.replay?.S ? { request: JSON.parse(it.replay.S) as QuarantineEntry['request'] } : {}),
          });
        }
      }
      start = r.LastEvaluatedKey;
    } while (start);
    return { counts, entries: quarantined };
  }

  /** The quarantined types, reloaded at most every `maxAgeMs` (the read path's view). */
  quarantine(maxAgeMs: number): () => Promise<ReadonlySet<string>> {
    return periodicSnapshot(async () => new Set((await this.report()).quarantined.map((q) => q.type)), maxAgeMs);
  }

  private key(sk: string): Record<string, AttributeValue> {
    return { pk: { S: SHADOW_PK }, sk: { S: sk } };
  }
}
