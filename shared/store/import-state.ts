// Import bookkeeping in the state table: the run (its version stamp), per-type checkpoints, the full-import request flag, the importer's lease.
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { StatePartition } from './state-partition.js';

const PK = 'import';

export const TypeCheckpointSchema = z.object({
  type: z.string(),
  /** full: every cached field, active then retired; backfill: only `fields`, merged into stored entities. */
  mode: z.enum(['full', 'backfill']),
  fields: z.array(z.string()),
  pass: z.enum(['active', 'retired', 'done']),
  /** Highest id written in the current pass (keyset position). */
  lastId: z.number().int().nonnegative(),
  active: z.number().int().nonnegative(),
  retired: z.number().int().nonnegative(),
  /** The site's count at the start of the type (active + retired), for progress. */
  total: z.number().int().nonnegative(),
  updatedAt: z.number(),
});
export type TypeCheckpoint = z.infer<typeof TypeCheckpointSchema>;

export const ImportRunSchema = z.object({
  /** Version stamp of every whole-entity write of this run: at most the event id the cursor started from. */
  stamp: z.number().int().nonnegative(),
  startedAt: z.number(),
  types: z.array(z.string()),
  /** A requested full re-import (event retention exceeded): types are out of service until re-imported. */
  full: z.boolean(),
});
export type ImportRun = z.infer<typeof ImportRunSchema>;

export const ImportRequestSchema = z.object({ reason: z.string(), at: z.number() });
export type ImportRequest = z.infer<typeof ImportRequestSchema>;

export class ImportState {
  private readonly items: StatePartition;
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {
    this.items = new StatePartition(doc, table, PK);
  }

  private get(sk: string): Promise<Record<string, unknown> | undefined> {
    return this.items.get(sk);
  }

  async run(): Promise<ImportRun | undefined> {
    const it = await this.get('run');
    return it ? ImportRunSchema.parse(it) : undefined;
  }

  /** Starts a run unless one exists (a resumed importer keeps the first stamp); returns the run in force. */
  async startRun(run: ImportRun): Promise<ImportRun> {
    try {
      await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: PK, sk: 'run', ...run }, ConditionExpression: 'attribute_not_exists(pk)' }));
      return run;
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
      return (await this.run())!;
    }
  }

  async finishRun(): Promise<void> {
    await this.items.delete('run');
  }

  async checkpoints(): Promise<Map<string, TypeCheckpoint>> {
    const out = new Map<string, TypeCheckpoint>();
    for (const it of await this.items.under('type#')) {
      const c = TypeCheckpointSchema.safeParse(it);
      if (c.success) out.set(c.data.type, c.data);
    }
    return out;
  }

  async saveCheckpoint(c: TypeCheckpoint): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: PK, sk: `type#${c.type}`, ...c } }));
  }

  async clearCheckpoint(type: string): Promise<void> {
    await this.items.delete(`type#${type}`);
  }

  /** The poller asks for a full re-import (its cursor is older than the site's event retention). */
  async requestFull(reason: string, at = Date.now()): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: { pk: PK, sk: 'request', reason, at } }));
  }

  async request(): Promise<ImportRequest | undefined> {
    const it = await this.get('request');
    return it ? ImportRequestSchema.parse(it) : undefined;
  }

  /** Clears the request the run took over (only if no newer request came in meanwhile). */
  async clearRequest(at: number): Promise<void> {
    await this.items.delete('request', at);
  }

  /** One importer at a time: the lease is free, expired, or already ours. */
  async acquireLease(owner: string, leaseMs: number, now = Date.now()): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: PK, sk: 'lease' },
          UpdateExpression: 'SET #o = :me, leaseUntil = :until',
          ConditionExpression: 'attribute_not_exists(#o) OR leaseUntil < :now OR #o = :me',
          ExpressionAttributeNames: { '#o': 'owner' },
          ExpressionAttributeValues: { ':me': owner, ':until': now + leaseMs, ':now': now },
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }

  async releaseLease(owner: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: PK, sk: 'lease' },
          UpdateExpression: 'SET leaseUntil = :zero',
          ConditionExpression: '#o = :me',
          ExpressionAttributeNames: { '#o': 'owner' },
          ExpressionAttributeValues: { ':me': owner, ':zero': 0 },
        }),
      );
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
    }
  }

  /** Whether some importer holds the lease now. */
  async leaseHeld(now = Date.now()): Promise<boolean> {
    const it = await this.get('lease');
    return typeof it?.leaseUntil === 'number' && it.leaseUntil >= now;
  }
}
