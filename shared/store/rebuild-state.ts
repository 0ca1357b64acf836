// Trimmed-log rebuild bookkeeping in the state table: the requested rebuild (since when), its plan per type, and per-type checkpoints so a rebuild killed mid-way resumes.
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';

const PK = 'rebuild';

export const RebuildRequestSchema = z.object({
  /** Epoch ms: every change the lost events carried has updated_at at or after this (the last seen event's time less the margin); absent: unknown. */
  since: z.number().optional(),
  reason: z.string(),
  at: z.number(),
});
export type RebuildRequest = z.infer<typeof RebuildRequestSchema>;

export const RebuildRunSchema = z.object({
  since: z.number().optional(),
  startedAt: z.number(),
  /** Per cached type: scan (updated_at scan + id diff) or full (re-imported by the importer), and why. */
  plan: z.record(z.string(), z.object({ mode: z.enum(['scan', 'full']), why: z.string().optional() })),
  /** The uncached link targets' facts (names, retired flags, revived targets' referrers) are refreshed. */
  targetsDone: z.boolean(),
});
export type RebuildRun = z.infer<typeof RebuildRunSchema>;

export const RebuildCheckpointSchema = z.object({
  type: z.string(),
  /** scan-active / scan-retired: keyset pages of updated_at >= since; diff: the id diff; done. */
  phase: z.enum(['scan-active', 'scan-retired', 'diff', 'done']),
  lastId: z.number().int().nonnegative(),
  scanned: z.number().int().nonnegative(),
  /** Ids the diff found missing from the store / with a differing retired flag / gone from the site. */
  added: z.number().int().nonnegative(),
  flipped: z.number().int().nonnegative(),
  vanished: z.number().int().nonnegative(),
  updatedAt: z.number(),
});
export type RebuildCheckpoint = z.infer<typeof RebuildCheckpointSchema>;

export class RebuildState {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  private async get(sk: string): Promise<Record<string, unknown> | undefined> {
    return (await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: PK, sk }, ConsistentRead: true }))).Item;
  }

  private async put(sk: string, item: Record<string, unknown>): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: PK, sk, ...item } }));
  }

  /** The poller found its cursor older than the site's retention. A newer request keeps the older `since` (the gap only grows). */
  async request(r: RebuildRequest): Promise<void> {
    const cur = await this.pending();
    const since = !cur ? r.since : cur.since === undefined || r.since === undefined ? undefined : Math.min(cur.since, r.since);
    await this.put('request', { reason: r.reason, at: r.at, ...(since === undefined ? {} : { since }) });
  }

  async pending(): Promise<RebuildRequest | undefined> {
    const it = await this.get('request');
    return it ? RebuildRequestSchema.parse(it) : undefined;
  }

  async run(): Promise<RebuildRun | undefined> {
    const it = await this.get('run');
    return it ? RebuildRunSchema.parse(it) : undefined;
  }

  /** Starts the run from the request (which it replaces: a request arriving later starts another run after this one). */
  async startRun(run: RebuildRun, request: RebuildRequest): Promise<void> {
    await this.put('run', run);
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: PK, sk: 'request' },
          ConditionExpression: '#at <= :at',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: { ':at': request.at },
        }),
      );
    } catch (e) {
      if ((e as Error).name !== 'ConditionalCheckFailedException') throw e;
    }
  }

  async saveRun(run: RebuildRun): Promise<void> {
    await this.put('run', run);
  }

  async checkpoints(): Promise<Map<string, RebuildCheckpoint>> {
    const out = new Map<string, RebuildCheckpoint>();
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :p AND begins_with(sk, :t)',
          ExpressionAttributeValues: { ':p': PK, ':t': 'type#' },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const it of r.Items ?? []) {
        const c = RebuildCheckpointSchema.safeParse(it);
        if (c.success) out.set(c.data.type, c.data);
      }
      start = r.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async saveCheckpoint(c: RebuildCheckpoint): Promise<void> {
    await this.put(`type#${c.type}`, c);
  }

  /** The run is over: kept as the last run (plan and counts, for /status and the operator), its run item and checkpoints removed. */
  async finish(run: RebuildRun, checkpoints: readonly RebuildCheckpoint[], at: number): Promise<void> {
    await this.put('last', { run, checkpoints, finishedAt: at });
    for (const c of checkpoints) await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { pk: PK, sk: `type#${c.type}` } }));
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { pk: PK, sk: 'run' } }));
  }

  /** The last finished run. */
  async last(): Promise<{ run: RebuildRun; checkpoints: RebuildCheckpoint[]; finishedAt: number } | undefined> {
    const it = await this.get('last');
    if (!it) return undefined;
    return { run: RebuildRunSchema.parse(it.run), checkpoints: z.array(RebuildCheckpointSchema).parse(it.checkpoints), finishedAt: Number(it.finishedAt) };
  }
}
