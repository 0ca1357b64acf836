// A consumer batch's entity items read up front (EntityStore.withStates): one BatchGetItem instead of a GetItem per write, and a stale prefetch never wins.
import { afterAll, describe, expect, it } from 'vitest';
import { makeStore } from './helpers.js';

const ctx = await makeStore('prefetch', { concurrency: 8 });
afterAll(() => ctx.ddb.destroy());
const { store } = ctx;

/** Counts the DynamoDB commands sent through the store's client while `fn` runs, by command name. */
async function counting<T>(fn: () => Promise<T>): Promise<{ result: T; sent: Record<string, number> }> {
  const sent: Record<string, number> = {};
  const name = `count-${Math.random()}`;
  ctx.ddb.middlewareStack.add(
    (next, context) => (args) => {
      sent[context.commandName!] = (sent[context.commandName!] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name },
  );
  try {
    return { result: await fn(), sent };
  } finally {
    ctx.ddb.middlewareStack.remove(name);
  }
}

/** A promise created outside any batch scope, run when `release` is called: a concurrent writer (another consumer, write-through). */
function outsideWriter(write: () => Promise<unknown>): { release: () => void; done: Promise<unknown> } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  return { release, done: gate.then(write) };
}

describe('entity items prefetched for a batch of writes', () => {
  it('reads the batch once: the writes inside make no GetItem of their own', async () => {
    for (const id of [1, 2, 3]) await store.putEntity({ type: 'Shot', id, retired: false, values: { code: `s${id}` } }, 10);
    const targets = [1, 2, 3, 4].map((id) => ({ type: 'Shot', id }));
    const { result, sent } = await counting(() =>
      store.withStates(targets, () =>
        Promise.all([
          ...[1, 2, 3].map((id) => store.applyChange('Shot', id, { description: `d${id}` }, 11)),
          store.putEntity({ type: 'Shot', id: 4, retired: false, values: { code: 's4' } }, 11),
        ]),
      ),
    );
    expect(result.map((r) => r.status)).toEqual(['applied', 'applied', 'applied', 'applied']);
    expect(sent.BatchGetItemCommand).toBe(1);
    expect(sent.GetItemCommand ?? 0).toBe(0);
    for (const id of [1, 2, 3]) expect((await store.get('Shot', id))!.record.values).toMatchObject({ code: `s${id}`, description: `d${id}` });
    expect((await store.get('Shot', 4))!.record.values.code).toBe('s4');
  });

  it('takes a prefetched item once: a second write of the same entity in the batch reads it again', async () => {
    await store.putEntity({ type: 'Shot', id: 10, retired: false, values: { code: 'a' } }, 10);
    const { sent } = await counting(() =>
      store.withStates([{ type: 'Shot', id: 10 }], async () => {
        expect((await store.applyChange('Shot', 10, { code: 'b' }, 11)).status).toBe('applied');
        expect((await store.applyChange('Shot', 10, { description: 'c' }, 12)).status).toBe('applied');
      }),
    );
    expect(sent.GetItemCommand).toBe(1);
    expect((await store.get('Shot', 10))!.record.values).toMatchObject({ code: 'b', description: 'c' });
  });

  it('a write landing between the prefetch and the batch write is kept: the stale prefetch loses the lock and the write retries', async () => {
    await store.putEntity({ type: 'Shot', id: 20, retired: false, values: { code: 'a', description: 'x' } }, 10);
    const other = outsideWriter(() => store.applyChange('Shot', 20, { code: 'other' }, 30));
    const r = await store.withStates([{ type: 'Shot', id: 20 }], async () => {
      other.release();
      await other.done;
      return store.applyChange('Shot', 20, { description: 'mine' }, 31);
    });
    expect(r.status).toBe('applied');
    expect((await store.get('Shot', 20))!.record.values).toMatchObject({ code: 'other', description: 'mine' });
  });

  it('an entity created between the prefetch (absent) and the batch write is merged, never overwritten', async () => {
    const other = outsideWriter(() => store.putEntity({ type: 'Shot', id: 30, retired: false, values: { code: 'newer', description: 'theirs' } }, 50));
    const r = await store.withStates([{ type: 'Shot', id: 30 }], async () => {
      other.release();
      await other.done;
      return store.putEntity({ type: 'Shot', id: 30, retired: false, values: { code: 'older', description: 'mine' } }, 40);
    });
    expect(r.status).toBe('stale');
    expect((await store.get('Shot', 30))!.record.values).toMatchObject({ code: 'newer', description: 'theirs' });
  });
});
