// The site's `info` reply, kept in memory for a few minutes and answered byte for byte (the cache names itself in a header only).
//
// Clients call `info` once per connection (shotgun_api3's server_caps) and switch features on the site's version, so the
// cache answers with the site's own reply, unchanged (peers.md §6: a synthesized version changes client behaviour; an
// extra key is a difference a differential check sees). The reply route adds `x-fpt-cache-version`, by which a tool can
// tell it is talking to the cache. `info` carries no credentials and reveals nothing a cached answer could leak.
import { isFaultBody } from './faults.js';
import { rpcPayload } from './api3-payloads.js';
import { ShotgunTransportError, type ShotgunClient } from './shotgun-client.js';
import { isOutageReply } from './site-health.js';

/** The site could not answer `info` (down, unreachable): the last reply it gave is served from memory, marked stale. */
class InfoOutage extends Error {}

/** The request body shotgun_api3 sends for `info` (no auth params). */
const INFO_BODY = Buffer.from(JSON.stringify(rpcPayload('info', undefined)), 'utf8');

/** Where the last reply is kept beyond this container (the state table): a container started during an outage answers `info` from it. */
export interface InfoKeeper {
  load(): Promise<{ at: number; body: Buffer } | undefined>;
  save(reply: { at: number; body: Buffer }): Promise<void>;
}

/** A kept reply identical to the one just fetched is written again only after this long (its age is what outage mode reports). */
const KEEP_REFRESH_MS = 3600_000;

export class SiteInfo {
  private cached?: { at: number; body: Promise<Buffer> };
  /** The last reply the site gave, kept for as long as the container lives: what `info` is answered with while the site is down. */
  private last?: { at: number; body: Buffer };
  private saved?: { at: number; body: Buffer };

  constructor(
    private readonly client: ShotgunClient,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
    private readonly keeper?: InfoKeeper,
  ) {}

  /**
   * The site's reply body, unchanged; fromMemory when no call to the site was made; `staleSince` (epoch ms of the
   * reply served) when the site is down and the last reply it gave is served instead. Throws unless it is a results reply.
   */
  async reply(): Promise<{ body: Buffer; fromMemory: boolean; staleSince?: number; at?: number }> {
    const c = this.cached;
    if (c && this.now() - c.at < this.ttlMs) return { body: await c.body, fromMemory: true, at: c.at };
    try {
      return await this.fetch();
    } catch (e) {
      if (!(e instanceof InfoOutage || e instanceof ShotgunTransportError)) throw e;
      // This container's last reply, else the one a container kept before (a cold start during the outage).
      const last = this.last ?? (await this.keeper?.load().catch(() => undefined));
      if (last) return { body: last.body, fromMemory: true, staleSince: last.at };
      throw e;
    }
  }

  /** Keeps the reply beyond this container; best effort (a failure only means a cold start during an outage relays the site's 503). */
  private async keep(reply: { at: number; body: Buffer }): Promise<void> {
    const s = this.saved;
    if (!this.keeper || (s && s.body.equals(reply.body) && reply.at - s.at < KEEP_REFRESH_MS)) return;
    try {
      await this.keeper.save(reply);
      this.saved = reply;
    } catch {
      /* kept in memory only */
    }
  }

  private async fetch(): Promise<{ body: Buffer; fromMemory: boolean }> {
    const body = this.client.forward(INFO_BODY, { 'content-type': 'application/json' }, { method: 'info' }).then((r) => {
      if (isOutageReply(r)) throw new InfoOutage(`the site is unavailable (HTTP ${r.status})`);
      let decoded: unknown;
      try {
        decoded = JSON.parse(r.body.toString('utf8'));
      } catch {
        decoded = undefined;
      }
      const ok = r.status === 200 && typeof decoded === 'object' && decoded !== null && !isFaultBody(decoded) && 'results' in decoded;
      // A fault or an HTTP error is not kept: the route passes the request through and the client gets the site's answer.
      if (!ok) throw new Error(`the site's info reply is not kept (HTTP ${r.status})`);
      return r.body;
    });
    const entry = { at: this.now(), body };
    this.cached = entry;
    body.catch(() => {
      if (this.cached === entry) this.cached = undefined;
    });
    const got = await body;
    this.last = { at: entry.at, body: got };
    await this.keep(this.last);
    return { body: got, fromMemory: false };
  }
}
