// Change-counter bumps (shared/store/change-counters.ts): a batch's bumps made once each at its end, after its writes, and a failed bump failing the batch.
import { afterAll, describe, expect, it } from 'vitest';
import { bumpGenerations, deferBumps, readGenerations } from '../../shared/store/index.js';
import { dynamo, freshTables } from './helpers.js';

const ddb = dynamo();
const tables = await freshTables(ddb, 'counters');
afterAll(() => ddb.destroy());
const read = (keys: string[]) => readGenerations(ddb, tables.state, keys);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Counts UpdateItem calls (bumps) while `fn` runs; with `fail`, every bump fails. */
async function bumps<T>(fn: () => Promise<T>, fail = false): Promise<{ result: T; updates: number }> {
  let updates = 0;
  const name = `bumps-${Math.random()}`;
  ddb.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === 'UpdateItemCommand') {
        updates++;
        if (fail) throw Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' });
      }
      return next(args);
    },
    { step: 'initialize', name },
  );
  try {
    return { result: await fn(), updates };
  } finally {
    ddb.middlewareStack.remove(name);
  }
}

/** A consumer batch: its writes (here a bump each, deferred), then its end. Returns the counters as they stood right after it resolved. */
const batch = (keys: string[], workMs: number) =>
  deferBumps(ddb, async () => {
    await sleep(workMs);
    await bumpGenerations(ddb, tables.state, keys);
  }).then(() => read(keys));

describe('change-counter bumps', () => {
  it('bumps each counter once a batch, however many of its writes bumped it', async () => {
    const before = await read(['Shot', 'Shot@1']);
    const { updates } = await bumps(() =>
      deferBumps(ddb, async () => {
        for (let i = 0; i < 10; i++) await bumpGenerations(ddb, tables.state, ['Shot', 'Shot@1']);
      }),
    );
    expect(updates).toBe(2);
    expect(await read(['Shot', 'Shot@1'])).toEqual({ Shot: before.Shot + 1, 'Shot@1': before['Shot@1'] + 1 });
  });

  it('bumps again for every batch, one after another', async () => {
    const start = await read(['Note']);
    const { updates } = await bumps(async () => {
      for (let i = 0; i < 3; i++) await batch(['Note'], 0);
    });
    expect(updates).toBe(3);
    expect((await read(['Note'])).Note).toBe(start.Note + 3);
  });

  it('fails the batches of a round whose bumps fail, and the next round goes on', async () => {
    const { result } = await bumps(() => Promise.allSettled([batch(['Asset'], 0), batch(['Asset'], 0)]), true);
    expect(result.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    const start = await read(['Asset']);
    await batch(['Asset'], 0);
    expect((await read(['Asset'])).Asset).toBe(start.Asset + 1);
  });
});
