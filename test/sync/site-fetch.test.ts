// Reading entities by id, active or retired, when a revival or retirement falls between the site's two reads (the chaos test's rare drift).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteParams, readParams, reviveParams, ShotgunClient, type CallOptions } from '../../shared/site/index.js';
import { loadCachedSchema } from '../../shared/schema/index.js';
import { SiteFetcher } from '../../shared/sync/index.js';
import { DEFAULT_SCRIPT } from '../../local/sim/credentials.js';
import { startSimSite, type SimSite } from '../../local/sim/server.js';

const schema = loadCachedSchema('schema/default.yml');
let site: SimSite;
beforeAll(async () => {
  site = await startSimSite({ port: 0, entities: 40, seed: 5 });
});
afterAll(async () => {
  await site?.close();
});

/** The real client, plus one site write made right after a chosen read has been answered (the interleaving to test). */
class InterleavingClient extends ShotgunClient {
  after?: { when: (method: string, params: Record<string, unknown>) => boolean; then: () => Promise<unknown> };
  override async call<T = unknown>(method: string, params?: unknown, options: CallOptions = {}): Promise<T> {
    const out = await super.call<T>(method, params, options);
    const a = this.after;
    if (a && a.when(method, (params ?? {}) as Record<string, unknown>)) {
      this.after = undefined;
      await a.then();
    }
    return out;
  }
}

describe('SiteFetcher.byIds', () => {
  it('finds an entity revived between the active and the retired read (it is in neither)', async () => {
    const client = new InterleavingClient({ url: site.url, scriptName: DEFAULT_SCRIPT.name, scriptKey: DEFAULT_SCRIPT.key });
    const fetcher = new SiteFetcher(client, schema);
    const shot = (await client.call<{ entities: Array<{ id: number }> }>('read', readParams('Shot', [], ['code']))).entities[0];
    await client.call('delete', deleteParams('Shot', shot.id));
    // The active read misses it (still retired); the revival lands before the retired read, which misses it too.
    client.after = {
      when: (m, p) => m === 'read' && p.type === 'Shot' && p.return_only === 'active',
      then: () => client.call('revive', reviveParams('Shot', shot.id)),
    };
    const found = await fetcher.one('Shot', shot.id, ['code', 'updated_at']);
    expect(client.after).toBeUndefined();
    expect(found).toMatchObject({ type: 'Shot', id: shot.id, retired: false });
    expect(typeof found!.values.updated_at).toBe('string');
  });

  it('finds an entity retired between the two reads, and still reports a missing id as gone', async () => {
    const client = new InterleavingClient({ url: site.url, scriptName: DEFAULT_SCRIPT.name, scriptKey: DEFAULT_SCRIPT.key });
    const fetcher = new SiteFetcher(client, schema);
    const shot = (await client.call<{ entities: Array<{ id: number }> }>('read', readParams('Shot', [], ['code']))).entities[1];
    client.after = {
      when: (m, p) => m === 'read' && p.type === 'Shot' && p.return_only === 'active',
      then: () => client.call('delete', deleteParams('Shot', shot.id)),
    };
    // Found active by the first read (retired just after): that answer stands; the Retirement event follows.
    expect(await fetcher.one('Shot', shot.id, ['code'])).toMatchObject({ id: shot.id, retired: false });
    expect(await fetcher.one('Shot', shot.id, ['code'])).toMatchObject({ id: shot.id, retired: true });
    expect(await fetcher.one('Shot', 999_999, ['code'])).toBeUndefined();
  });
});
