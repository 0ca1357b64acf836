// What the cache has measured about how the site stamps writes (does a back-reference or a revive move updated_at?), learned from normal sync and kept in the state table.
//
// Hosted sites do not document either behaviour, and the rebuild after a trimmed event log (shared/sync/rebuild.ts)
// may use updated_at scans only where they are proven complete. So the consumer reports what it sees each time it
// re-reads an entity after a back-reference or a revive (shared/sync/stamp-learning.ts), and the facts here decide:
//
// - `keeps`: one observation whose site updated_at is older than the write's event: the site did NOT move it. Final.
// - `bumps`: PROOF_OWNERS distinct entities whose updated_at moved to the event's second or later, each unambiguous
//   (no direct write of that entity logged since), and no `keeps` observation ever. A later `keeps` one demotes it.
// - `unknown` otherwise, which the rebuild treats as `keeps` (the expensive, proven-complete path).
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';

const PK = 'site-behaviour';
/** Distinct entities that must show a bump before the site is taken to bump (a quiet direct write in the same second is not proof thrice). */
export const PROOF_OWNERS = 3;

export const STAMP_KINDS = ['backRef', 'revive'] as const;
export type StampKind = (typeof STAMP_KINDS)[number];

export const StampFactSchema = z.object({
  fact: z.enum(['unknown', 'bumps', 'keeps']),
  /** Entities ("Type#id") seen with a moved updated_at, up to PROOF_OWNERS. */
  owners: z.array(z.string()),
  kept: z.number().int().nonnegative(),
  /** The observation that decided the fact (event id), for the operator. */
  evidence: z.number().int().nonnegative().optional(),
  at: z.number(),
  w: z.number().int().nonnegative(),
});
export type StampFact = z.infer<typeof StampFactSchema>;

export interface StampObservation {
  kind: StampKind;
  owner: string;
  bumped: boolean;
  eventId: number;
}

const UNKNOWN: StampFact = { fact: 'unknown', owners: [], kept: 0, at: 0, w: 0 };

/** The fact after one observation (pure). */
export function nextFact(cur: StampFact, o: StampObservation, at: number): StampFact {
  if (!o.bumped) return cur.fact === 'keeps' ? cur : { ...cur, fact: 'keeps', kept: cur.kept + 1, evidence: o.eventId, at };
  if (cur.fact === 'keeps' || cur.owners.includes(o.owner) || cur.owners.length >= PROOF_OWNERS) return cur;
  const owners = [...cur.owners, o.owner];
  return { ...cur, owners, fact: owners.length >= PROOF_OWNERS ? 'bumps' : 'unknown', ...(owners.length >= PROOF_OWNERS ? { evidence: o.eventId } : {}), at };
}

export class SiteBehaviour {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async fact(kind: StampKind): Promise<StampFact> {
    const it = (await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: PK, sk: kind }, ConsistentRead: true }))).Item;
    const p = it ? StampFactSchema.safeParse(it) : undefined;
    return p?.success ? p.data : { ...UNKNOWN };
  }

  async facts(): Promise<Record<StampKind, StampFact>> {
    const [backRef, revive] = await Promise.all(STAMP_KINDS.map((k) => this.fact(k)));
    return { backRef, revive };
  }

  /** Folds one observation in (conditional on the item's write counter, retried on a race); returns the fact in force. */
  async observe(o: StampObservation, at = Date.now()): Promise<StampFact> {
    for (let attempt = 0; ; attempt++) {
      const cur = await this.fact(o.kind);
      const next = nextFact(cur, o, at);
      if (next === cur) return cur;
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { pk: PK, sk: o.kind, ...next, w: cur.w + 1 },
            ConditionExpression: cur.w === 0 ? 'attribute_not_exists(pk)' : 'w = :w',
            ...(cur.w === 0 ? {} : { ExpressionAttributeValues: { ':w': cur.w } }),
          }),
        );
        return { ...next, w: cur.w + 1 };
      } catch (e) {
        if (!(e instanceof ConditionalCheckFailedException) || attempt >= 10) throw e;
      }
    }
  }

  /** Forgets what was learned (tests; an operator after the site changed its behaviour). */
  async set(kind: StampKind, fact: StampFact['fact']): Promise<void> {
    await this.doc.send(
      new PutCommand({ TableName: this.table, Item: { pk: PK, sk: kind, ...UNKNOWN, fact, at: Date.now(), w: (await this.fact(kind)).w + 1 } }),
    );
  }
}
