// The site's `info`, kept in memory for a few minutes and answered with an `fpt_cache` key naming the cache's version.
//
// Clients call `info` once per connection (shotgun_api3's server_caps) and switch features on the site's version, so the
// cache answers with the site's own reply (peers.md §6: a synthesized version changes client behaviour) plus one key,
// `fpt_cache: {"version": ...}`, by which a tool can tell it is talking to the cache. `info` carries no credentials and
// reveals nothing a cached answer could leak.
import type { ShotgunClient } from './shotgun-client.js';

export class SiteInfo {
  private cached?: { at: number; body: Promise<Buffer> };

  constructor(private readonly client: ShotgunClient, private readonly ttlMs: number, private readonly version: string, private readonly now: () => number = Date.now) {}

  /** The reply body ({"results": {...site info, "fpt_cache": {...}}}); fromMemory when no call to the site was made. */
  async reply(): Promise<{ body: Buffer; fromMemory: boolean }> {
    const c = this.cached;
    if (c && this.now() - c.at < this.ttlMs) return { body: await c.body, fromMemory: true };
    const body = this.client.call<Record<string, unknown>>('info', undefined, { auth: false }).then((info) => {
      const results = typeof info === 'object' && info !== null && !Array.isArray(info) ? info : {};
      return Buffer.from(JSON.stringify({ results: { ...results, fpt_cache: { version: this.version } } }), 'utf8');
    });
    const entry = { at: this.now(), body };
    this.cached = entry;
    body.catch(() => { if (this.cached === entry) this.cached = undefined; });
    return { body: await body, fromMemory: false };
  }
}
