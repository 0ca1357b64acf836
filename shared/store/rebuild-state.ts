// Trimmed-log rebuild bookkeeping in the state table: the requested rebuild (since when), its plan per type, and per-type checkpoints so a rebuild killed mid-way resumes.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { StatePartition } from './state-partition.js';

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
  private readonly items: StatePartition;
  constructor(doc: DynamoDBDocumentClient, table: string) {
    this.items = new StatePartition(doc, table, PK);
  }

  /** The poller found its cursor older than the site's retention. A newer request keeps the older `since` (the gap only grows). */
  async request(r: RebuildRequest): Promise<void> {
    const cur = await this.pending();
    const since = !cur ? r.since : cur.since === undefined || r.since === undefined ? undefined : Math.min(cur.since, r.since);
    await this.items.put('request', { reason: r.reason, at: r.at, ...(since === undefined ? {} : { since }) });
  }

  async pending(): Promise<RebuildRequest | undefined> {
    const it = await this.items.get('request');
    return it ? RebuildRequestSchema.parse(it) : undefined;
  }

  async run(): Promise<RebuildRun | undefined> {
    const it = await this.items.get('run');
    return it ? RebuildRunSchema.parse(it) : undefined;
  }

  /** Starts the run from the request (which it replaces: a request arriving later starts another run after this one). */
  async startRun(run: RebuildRun, request: RebuildRequest): Promise<void> {
    await this.items.put('run', run);
    await this.items.delete('request', request.at);
  }

  async saveRun(run: RebuildRun): Promise<void> {
    await this.items.put('run', run);
  }

  async checkpoints(): Promise<Map<string, RebuildCheckpoint>> {
    const out = new Map<string, RebuildCheckpoint>();
    for (const it of await this.items.under('type#')) {
      const c = RebuildCheckpointSchema.safeParse(it);
      if (c.success) out.set(c.data.type, c.data);
    }
    return out;
  }

  async saveCheckpoint(c: RebuildCheckpoint): Promise<void> {
    await this.items.put(`type#${c.type}`, c);
  }

  /** The run is over: kept as the last run (plan and counts, for /status and the operator), its run item and checkpoints removed. */
  async finish(run: RebuildRun, checkpoints: readonly RebuildCheckpoint[], at: number): Promise<void> {
    await this.items.put('last', { run, checkpoints, finishedAt: at });
    for (const c of checkpoints) await this.items.delete(`type#${c.type}`);
    await this.items.delete('run');
  }

  /** The last finished run. */
  async last(): Promise<{ run: RebuildRun; checkpoints: RebuildCheckpoint[]; finishedAt: number } | undefined> {
    const it = await this.items.get('last');
    if (!it) return undefined;
    return { run: RebuildRunSchema.parse(it.run), checkpoints: z.array(RebuildCheckpointSchema).parse(it.checkpoints), finishedAt: Number(it.finishedAt) };
  }
}
