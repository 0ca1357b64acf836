import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ensureTables, tableNames } from '../../shared/store/index.js';
import { PollerLease, LeaseLostError, initialCursor } from '../../shared/sync/index.js';

let ddb: DynamoDBClient;
let doc: DynamoDBDocumentClient;
const names = tableNames(`lease${Date.now()}-`);

beforeAll(async () => {
  ddb = new DynamoDBClient({ endpoint: inject('dynamodbEndpoint') });
  doc = DynamoDBDocumentClient.from(ddb);
  await ensureTables(ddb, names);
});
afterAll(() => ddb.destroy());

describe('poller lease', () => {
  it('lets one poller hold the lease; a second waits until it expires; the loser can never move the cursor', async () => {
    const lease = new PollerLease(doc, names.state, 10_000);
    expect(await lease.initialize(initialCursor(100))).toBe(true);
    expect(await lease.initialize(initialCursor(5))).toBe(false);

    const a = await lease.acquire('a', 1_000);
    expect(a?.cursor).toEqual({ maxSeen: 100, backlog: {} });
    expect(await lease.acquire('b', 2_000)).toBeNull();

    await lease.save(a!, 3_000, { maxSeen: 120, backlog: { '110': 3_000 } });
    expect((await lease.read()).cursor).toEqual({ maxSeen: 120, backlog: { '110': 3_000 } });

    // a stalls past its lease; b takes over and advances.
    const b = await lease.acquire('b', 3_000 + 10_001);
    expect(b?.cursor?.maxSeen).toBe(120);
    await lease.save(b!, 14_000, { maxSeen: 130, backlog: {} });

    await expect(lease.save(a!, 14_500, { maxSeen: 999, backlog: {} })).rejects.toBeInstanceOf(LeaseLostError);
    expect((await lease.read()).cursor?.maxSeen).toBe(130);

    await lease.release(b!);
    const c = await lease.acquire('c', 15_000);
    expect(c?.cursor?.maxSeen).toBe(130);
  });
});
