// Verified views per principal: what each caller sees of each type, learned by probes with its own credentials, kept under an HMAC with a TTL, revoked on evidence.
//
// The cache holds the view of its own script. A caller may be served from it only as far as its own view is known to
// match: per (principal, type) a TypeView (shared/reads/permission-probe.ts), probed the first time the principal
// reads that type, with the caller's own params[0] (nothing of it is stored) and the script's, side by side. Views
// are kept for `ttlMs` (default 10 min, at most what the operator configures) in memory and in the state table
// (pk "view", sk "view#<principal hash>#<type>"), the hash being the auth verdicts' HMAC (shared/reads/caller-auth.ts),
// so no identity is stored in clear. A memory copy is re-read from the table after `recheckMs`, so a revocation by
// another container is seen within it. Trusted principals (the cache's own script, and those named in config) skip
// probes: their view is the script's.
import { BatchWriteItemCommand, GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CachedSchema } from '../schema/index.js';
import { canonicalDigest } from '../semantics/index.js';
import { timingSafeEqual } from 'node:crypto';
import type { AuthParams, ShotgunClient } from '../site/index.js';
import { authParamsOf, type CallerCredential } from './caller-auth.js';
import type { PermissionEvent } from './api-metrics.js';
import type { PermissionCounts } from './cache-status.js';
import { askBoth, compareProbe, isEmpty, probeRequest, type TypeView } from './permission-probe.js';
import { RecentMap } from './recent-map.js';

export const VIEW_PK = 'view';
const viewSk = (hash: string, type: string) => `view#${hash}#${type}`;
export const DEFAULT_VIEW_TTL_MS = 600_000;
export const MAX_VIEW_TTL_MS = 900_000;

export type ViewOutcome = { kind: 'trusted' } | { kind: 'verified'; types: ReadonlyMap<string, TypeView> } | { kind: 'unverified'; reason: string };

/** The principal whose permissions apply: the sudo user under sudo_as_login, else the caller itself (sessions have no name). */
export function effectivePrincipal(c: CallerCredential): string | undefined {
  if (c.sudo !== undefined) return `user:${c.sudo}`;
  return c.kind === 'session' ? undefined : `${c.kind}:${c.name}`;
}

/** A view equal to the script's: every row, every field. */
export const isFullView = (v: TypeView): boolean => v.rows === 'same' && v.projects === undefined && v.hidden.length === 0;

/** TRUSTED_PRINCIPALS: `script:<name>` / `user:<login>`, comma-separated. */
export function parseTrustedPrincipals(text: string | undefined): string[] {
  const out = (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = out.find((p) => !/^(script|user):.+$/.test(p));
  if (bad) throw new Error(`TRUSTED_PRINCIPALS: "${bad}" is not script:<name> or user:<login>`);
  return out;
}

/** Whether two secrets are equal, in constant time. */
function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface PrincipalViewsOptions {
  client: ShotgunClient;
  schema: CachedSchema;
  /** The cache's own script credentials (the other side of every probe; its name is trusted). */
  scriptAuth: () => Promise<{ script_name: string; script_key: string } | undefined>;
  /** The principal's keyed hash (CallerAuth.identity). */
  identity: (c: CallerCredential) => Promise<string>;
  /** Principals trusted by configuration (TRUSTED_PRINCIPALS). */
  trusted?: readonly string[];
  ttlMs?: number;
  recheckMs?: number;
  table?: { ddb: DynamoDBClient; name: string };
  now?: () => number;
  maxEntries?: number;
  log?: (message: string, details?: Record<string, unknown>) => void;
  /** Each probe, verified view and revocation (metrics). */
  onEvent?: (e: PermissionEvent) => void;
  /** The permission epoch (shared/reads/view-coverage.ts): a view holds only under the one it was probed under. Omitted: views end by TTL only. */
  epoch?: () => Promise<string>;
}

interface Kept {
  view: TypeView;
  until: number;
  checkedAt: number;
  epoch: string;
}

export class PrincipalViews {
  private readonly memory: RecentMap<string, Kept>;
  private readonly inflight = new Map<string, Promise<TypeView | string>>();
  private readonly trusted: ReadonlySet<string>;
  private readonly now: () => number;
  readonly ttlMs: number;
  /** Counters for /status, metrics and tests (no identities). */
  readonly stats = { probes: 0, probeFailures: 0, verified: 0, restricted: 0, revocations: 0, trustedReads: 0, tableHits: 0 };

  constructor(private readonly o: PrincipalViewsOptions) {
    this.memory = new RecentMap(o.maxEntries ?? 50_000);
    this.trusted = new Set(o.trusted ?? []);
    this.now = o.now ?? Date.now;
    this.ttlMs = Math.min(o.ttlMs ?? DEFAULT_VIEW_TTL_MS, MAX_VIEW_TTL_MS);
  }

  /**
   * Whether the caller's view is the script's, proven rather than named (asked only once the site verified this one
   * credential, shared/reads/caller-auth.ts): the cache's own script key itself, or a principal of TRUSTED_PRINCIPALS
   * whose credential kind and name are what the site verified (a user login and password, a script name and key).
   * Never under sudo_as_login (the sudo target's view is probed) and never a session token (it names no one).
   */
  async isTrusted(c: CallerCredential): Promise<boolean> {
    if (c.sudo !== undefined || c.kind === 'session') return false;
    if (this.trusted.has(`${c.kind}:${c.name}`)) return true;
    const own = await this.o.scriptAuth().catch(() => undefined);
    return own !== undefined && c.kind === 'script' && c.name === own.script_name && sameSecret(c.secret, own.script_key);
  }

  /** The caller's view of `types`: trusted, verified (probing what is not known yet), or unverified with a reason. */
  async viewOf(c: CallerCredential, types: readonly string[], outage?: { after: number }): Promise<ViewOutcome> {
    if (await this.isTrusted(c)) {
      this.stats.trustedReads++;
      return { kind: 'trusted' };
    }
    const hash = await this.o.identity(c);
    const auth = authParamsOf(c);
    const epoch = await this.epoch();
    if (epoch === undefined) return { kind: 'unverified', reason: 'permission-unverified' };
    const found = await Promise.all(types.map((t) => this.typeView(auth, hash, t, epoch, outage)));
    const out = new Map<string, TypeView>();
    for (let i = 0; i < types.length; i++) {
      const v = found[i];
      if (typeof v === 'string') return { kind: 'unverified', reason: v };
      out.set(types[i], v);
    }
    return { kind: 'verified', types: out };
  }

  /**
   * A stable key of the caller's verified view of `types` (for a reply memo keyed by view): `full` when every one
   * equals the script's (or the caller is trusted), else a digest of the views; undefined when one is not verified.
   */
  async viewKey(c: CallerCredential, types: readonly string[]): Promise<string | undefined> {
    if (await this.isTrusted(c)) return 'full';
    const hash = await this.o.identity(c);
    const views: Array<[string, TypeView]> = [];
    for (const t of [...types].sort()) {
      const k = this.memory.get(`${hash}#${t}`);
      if (!k || k.until <= this.now()) return undefined;
      views.push([t, k.view]);
    }
    return views.every(([, v]) => isFullView(v)) ? 'full' : `view:${canonicalDigest(views)}`;
  }

  /**
   * What everything kept for this caller (response cache, schema replies) is bound to: `trusted`, or the epoch and
   * the stamps of its live views of `types` (a new probe, a revocation, an expiry or a permission change gives another
   * binding, so what was kept under the old one is never served again). With no types (schema replies): the epoch and
   * the view TTL's period. Undefined: no live view of some type (nothing is kept or served for it).
   */
  async binding(c: CallerCredential, types: readonly string[]): Promise<string | undefined> {
    if (await this.isTrusted(c)) return 'trusted';
    const epoch = await this.epoch();
    if (epoch === undefined) return undefined;
    types = types.filter((t) => this.o.schema.site.type(t) !== undefined);
    if (!types.length) return canonicalDigest([epoch, Math.floor(this.now() / this.ttlMs)]);
    // The caller's views of those types, probed now when not held (a kept reply is only ever served under them).
    if ((await this.viewOf(c, types)).kind === 'unverified') return undefined;
    const hash = await this.o.identity(c);
    const stamps: Array<[string, number]> = [];
    for (const t of [...new Set(types)].sort()) {
      const k = this.memory.get(`${hash}#${t}`);
      if (!k || k.until <= this.now() || k.epoch !== epoch) return undefined;
      stamps.push([t, k.until]);
    }
    return canonicalDigest([epoch, stamps]);
  }

  /** Forgets every view of this caller, here and in the table: the next read probes again. */
  async revoke(c: CallerCredential, why: string): Promise<void> {
    const hash = await this.o.identity(c);
    this.stats.revocations++;
    this.o.onEvent?.('revoked');
    this.o.log?.('verified view revoked', { why });
    const types = [...this.o.schema.site.typeNames];
    for (const t of types) this.memory.delete(`${hash}#${t}`);
    const table = this.o.table;
    if (!table) return;
    try {
      for (let i = 0; i < types.length; i += 25) {
        await table.ddb.send(
          new BatchWriteItemCommand({
            RequestItems: {
              [table.name]: types.slice(i, i + 25).map((t) => ({
                DeleteRequest: { Key: { pk: { S: VIEW_PK }, sk: { S: viewSk(hash, t) } } },
              })),
            },
          }),
        );
      }
    } catch (e) {
      this.o.log?.('revoked view not deleted from the state table', { error: (e as Error).message });
    }
  }

  /**
   * Evidence from the caller's own pass-through reply to a read of `type` (`entities`, parsed only when a view of
   * the type is held): a row of a project, a Project, or a value of a blank field that its verified view says it
   * cannot see means the site's permissions changed: the view is revoked at once. Returns whether it was.
   */
  async evidence(c: CallerCredential, type: string, entities: () => unknown): Promise<boolean> {
    if (await this.isTrusted(c)) return false;
    const hash = await this.o.identity(c);
    const live = (t: string) => {
      const k = this.memory.get(`${hash}#${t}`);
      return k && k.until > this.now() ? k.view : undefined;
    };
    const v = live(type);
    if (!v) return false;
    const rows = entities();
    if (!Array.isArray(rows)) return false;
    const projects = live('Project')?.projects;
    const outside = (x: unknown): boolean => {
      if (Array.isArray(x)) return x.some(outside);
      if (typeof x !== 'object' || x === null) return false;
      const o = x as Record<string, unknown>;
      if (projects && o.type === 'Project' && typeof o.id === 'number' && !projects.includes(o.id)) return true;
      return Object.values(o).some(outside);
    };
    for (const e of rows as Array<Record<string, unknown>>) {
      if (typeof e !== 'object' || e === null) continue;
      const p = type === 'Project' ? e.id : (e.project as { id?: unknown } | null | undefined)?.id;
      const why =
        v.projects && typeof p === 'number' && !v.projects.includes(p)
          ? 'a row of a project outside the view'
          : (v.blank ?? []).some((f) => Object.hasOwn(e, f) && !isEmpty(e[f]))
            ? 'a value of a field the view has hidden'
            : outside(e)
              ? 'a link to a Project outside the view'
              : undefined;
      if (why) {
        await this.revoke(c, why);
        return true;
      }
    }
    return false;
  }

  /** What GET /status shows: counters and the views kept in this container now (no identities). */
  report(): PermissionCounts {
    return { ...this.stats, ...this.counts(), ttlSeconds: this.ttlMs / 1000 };
  }

  /** Views kept in this container now, and how many are narrower than the script's (no identities). */
  counts(): { views: number; restrictedViews: number } {
    let views = 0;
    let restrictedViews = 0;
    const t = this.now();
    for (const k of this.memory.values()) {
      if (k.until <= t) continue;
      views++;
      if (!isFullView(k.view)) restrictedViews++;
    }
    return { views, restrictedViews };
  }

  /** During an outage: the stored view if it was still valid after `after` under the current epoch (no probe: the site is down). */
  private async outageView(hash: string, type: string, epoch: string, after: number): Promise<TypeView | string> {
    const table = this.o.table;
    if (!table) return 'permission-unverified';
    try {
      const r = await table.ddb.send(new GetItemCommand({ TableName: table.name, Key: { pk: { S: VIEW_PK }, sk: { S: viewSk(hash, type) } } }));
      const valid = Number(r.Item?.expiresAt?.N ?? 0) > after && (r.Item?.epoch?.S ?? '') === epoch;
      return valid && r.Item?.view?.S ? (JSON.parse(r.Item.view.S) as TypeView) : 'permission-unverified';
    } catch {
      return 'permission-unverified';
    }
  }

  /** The current permission epoch ('' without one); undefined when it cannot be read (nothing can be verified then). */
  private async epoch(): Promise<string | undefined> {
    if (!this.o.epoch) return '';
    try {
      return await this.o.epoch();
    } catch (e) {
      this.o.log?.('permission epoch unavailable; views unverified', { error: (e as Error).message });
      return undefined;
    }
  }

  private async typeView(auth: AuthParams, hash: string, type: string, epoch: string, outage?: { after: number }): Promise<TypeView | string> {
    const key = `${hash}#${type}`;
    let kept = this.memory.get(key);
    if (kept && kept.epoch !== epoch) {
      // A permission change since the probe: the view ends at once (here; the table copy is ignored for the same reason).
      this.memory.delete(key);
      kept = undefined;
    }
    const t = this.now();
    if (kept && kept.until > t && t - kept.checkedAt < (this.o.recheckMs ?? 30_000)) return kept.view;
    // During a site outage no probe can be made: a view (of the current epoch) still valid after `outage.after` counts.
    if (outage) return kept && kept.until > outage.after ? kept.view : this.outageView(hash, type, epoch, outage.after);
    const inflightKey = `${key}#${epoch}`;
    const pending = this.inflight.get(inflightKey);
    if (pending) return pending;
    const p = this.load(auth, hash, type, kept !== undefined && kept.until > t, epoch).finally(() => this.inflight.delete(inflightKey));
    this.inflight.set(inflightKey, p);
    return p;
  }

  private async load(auth: AuthParams, hash: string, type: string, hadMemory: boolean, epoch: string): Promise<TypeView | string> {
    const table = this.o.table;
    if (table) {
      try {
        const r = await table.ddb.send(new GetItemCommand({ TableName: table.name, Key: { pk: { S: VIEW_PK }, sk: { S: viewSk(hash, type) } } }));
        const until = Number(r.Item?.expiresAt?.N ?? 0);
        if (until > this.now() && r.Item?.view?.S && (r.Item.epoch?.S ?? '') === epoch) {
          this.stats.tableHits++;
          const view = JSON.parse(r.Item.view.S) as TypeView;
          this.keep(`${hash}#${type}`, view, until, epoch);
          return view;
        }
        // Memory said valid but the table no longer has it: revoked elsewhere.
        if (hadMemory) this.memory.delete(`${hash}#${type}`);
      } catch (e) {
        this.o.log?.('verified view lookup failed; probing', { error: (e as Error).message });
      }
    }
    const probed = await this.probe(auth, type);
    if (typeof probed === 'string') return probed;
    this.stats.verified++;
    this.o.onEvent?.('verified');
    if (!isFullView(probed)) this.stats.restricted++;
    const until = this.now() + this.ttlMs;
    this.keep(`${hash}#${type}`, probed, until, epoch);
    if (table) {
      await table.ddb
        .send(
          new PutItemCommand({
            TableName: table.name,
            Item: {
              pk: { S: VIEW_PK },
              sk: { S: viewSk(hash, type) },
              view: { S: JSON.stringify(probed) },
              epoch: { S: epoch },
              expiresAt: { N: String(until) },
              ttl: { N: String(Math.ceil(until / 1000)) },
            },
          }),
        )
        .catch((e) => this.o.log?.('verified view not stored (kept in memory)', { error: (e as Error).message }));
    }
    return probed;
  }

  /** Both sides of the probe; a string is why nothing could be verified. */
  private async probe(auth: AuthParams, type: string): Promise<TypeView | string> {
    const script = await this.o.scriptAuth().catch(() => undefined);
    if (!script) return 'permission-unverified';
    const req = probeRequest(this.o.schema, type);
    this.stats.probes++;
    this.o.onEvent?.('probe');
    const both = await askBoth((a) => this.o.client.call(req.method, req.params, { auth: a, idempotent: true }), auth, script);
    // The site refused the caller what it answers the script: the caller's view of this type is narrower.
    if (both.kind === 'refused') return { rows: 'differ', hidden: [] };
    if (both.kind === 'failed') {
      this.stats.probeFailures++;
      return 'permission-unverified';
    }
    const view = compareProbe(this.o.schema, type, both.mine, both.theirs);
    if (!view) {
      this.stats.probeFailures++;
      return 'permission-unverified';
    }
    return view;
  }

  private keep(key: string, view: TypeView, until: number, epoch: string): void {
    this.memory.keep(key, { view, until, checkedAt: this.now(), epoch });
  }
}
