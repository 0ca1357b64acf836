// Authentication of callers before cached reads: each credential checked once against the site with its own auth, the verdict cached under an HMAC.
//
// A cached read never skips authentication: params[0] must hold exactly one credential (more than one kind passes:
// which the site reads first is its business), and the site must have accepted exactly that one. The first time a
// credential is seen, one cheap call is made with it rebuilt alone (a `read` of the caller's own ApiUser / HumanUser,
// one entity per page); only a clean success is a verdict, never a relayed reply. An accepted credential is remembered for `ttlMs`, in memory
// (per container) and in the state table (item pk "auth", sk "verdict#<hash>", TTL attribute `ttl`), keyed by
// HMAC-SHA256(verdict key, kind + name + secret + sudo_as_login): the secret itself is never stored, a changed key or password
// gives another hash (so it is checked again), and without the HMAC key the stored hashes are useless. Rejections are
// not remembered: the site's own fault (102) goes back to the caller and the next attempt asks the site again.
import { createHmac, randomBytes } from 'node:crypto';
import { GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ErrorCode, ShotgunFault, ShotgunTransportError, type ShotgunClient, type AuthParams } from '../site/index.js';
import { RecentMap } from './recent-map.js';

/** Fault codes by which the site rejects credentials (protocol.md §1.5). */
export const AUTH_FAULT_CODES: ReadonlySet<number> = new Set([ErrorCode.AUTHENTICATION, ErrorCode.TWO_FACTOR_MISSING, ErrorCode.SSO_USER_CREDENTIALS, 110]);

export const VERDICT_PK = 'auth';
const verdictSk = (hash: string) => `verdict#${hash}`;

/** What a caller authenticates as (params[0], first match wins as in shotgun_api3 and the site). */
export interface CallerCredential {
  kind: 'user' | 'script' | 'session';
  /** Login, script name, or (for sessions) the token itself. */
  name: string;
  /** Password or script key ('' for sessions: the token is the secret and the name). */
  secret: string;
  sudo?: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** params[0] read as one credential, or why the cache cannot take it as one (the request then passes: the site judges it). */
export type CredentialReading =
  { ok: true; credential: CallerCredential } | { ok: false; reason: 'no-credentials' | 'mixed-credentials' | 'two-factor-credentials' };

/**
 * The one credential in params[0]. More than one credential kind (user, script, session token) passes: which one the
 * site reads first is the site's business (shotgun_api3 sends one; some sites read a session token before the
 * others), so the cache must not guess. A 2FA `auth_token` is single-use: such requests pass too.
 */
export function readCredential(auth: unknown): CredentialReading {
  if (typeof auth !== 'object' || auth === null || Array.isArray(auth)) return { ok: false, reason: 'no-credentials' };
  const a = auth as Record<string, unknown>;
  if (a.auth_token !== undefined) return { ok: false, reason: 'two-factor-credentials' };
  const user = a.user_login !== undefined || a.user_password !== undefined;
  const script = a.script_name !== undefined || a.script_key !== undefined;
  const session = a.session_token !== undefined;
  if (Number(user) + Number(script) + Number(session) > 1) return { ok: false, reason: 'mixed-credentials' };
  const sudo = a.sudo_as_login;
  if (sudo !== undefined && typeof sudo !== 'string') return { ok: false, reason: 'no-credentials' };
  const withSudo = (c: CallerCredential): CredentialReading => ({ ok: true, credential: sudo !== undefined ? { ...c, sudo } : c });
  const none = { ok: false, reason: 'no-credentials' } as const;
  if (user) {
    const login = str(a.user_login);
    const password = str(a.user_password);
    return login !== undefined && password !== undefined ? withSudo({ kind: 'user', name: login, secret: password }) : none;
  }
  if (script) {
    const name = str(a.script_name);
    const key = str(a.script_key);
    return name !== undefined && key !== undefined ? withSudo({ kind: 'script', name, secret: key }) : none;
  }
  const token = str(a.session_token);
  return token !== undefined ? withSudo({ kind: 'session', name: token, secret: '' }) : none;
}

/** The credential in params[0], or undefined when there is not exactly one the cache can check (see readCredential). */
export function credentialOf(auth: unknown): CallerCredential | undefined {
  const r = readCredential(auth);
  return r.ok ? r.credential : undefined;
}

/** The auth params of exactly this credential (nothing else of the caller's params[0]): what the site is asked to verify. */
export function authParamsOf(c: CallerCredential): AuthParams {
  const base: Record<string, unknown> =
    c.kind === 'user'
      ? { user_login: c.name, user_password: c.secret }
      : c.kind === 'script'
        ? { script_name: c.name, script_key: c.secret }
        : { session_token: c.name, reject_if_expired: true };
  if (c.sudo !== undefined) base.sudo_as_login = c.sudo;
  return base as AuthParams;
}

/** The identity access rules are keyed by (shared/reads/access-rules.ts): `script:<name>`, `user:<login>` or `session`. */
export function principalOf(c: CallerCredential): string {
  return c.kind === 'session' ? 'session' : `${c.kind}:${c.name}`;
}

/** The authenticated `read` made with the caller's own auth params: its own ApiUser / HumanUser, one row at most. */
export function checkReadParams(c: CallerCredential): Record<string, unknown> {
  const one = (type: string, path?: string, value?: string) => ({
    type,
    return_fields: ['id'],
    filters: { logical_operator: 'and', conditions: path ? [{ path, relation: 'is', values: [value] }] : [] },
    return_only: 'active',
    paging: { entities_per_page: 1, current_page: 1 },
  });
  if (c.sudo !== undefined) return one('HumanUser', 'login', c.sudo);
  if (c.kind === 'script') return one('ApiUser', 'firstname', c.name);
  if (c.kind === 'user') return one('HumanUser', 'login', c.name);
  return one('HumanUser');
}

export type Verdict =
  | { status: 'valid'; source: 'memory' | 'table' | 'site' | 'outage' }
  | { status: 'invalid'; fault: ShotgunFault }
  /** The site could not be asked (unreachable): the read passes through instead of being served unauthenticated. */
  | { status: 'unverified'; reason: string };

export interface CallerAuthOptions {
  client: ShotgunClient;
  /** The HMAC key (the cache's script key). Undefined or failing: a random per-container key, verdicts in memory only. */
  hmacKey: () => Promise<string | undefined>;
  /** Where verdicts are shared between containers; omitted: memory only. */
  table?: { ddb: DynamoDBClient; name: string };
  ttlMs: number;
  now?: () => number;
  /** Verdicts kept in memory at most (the oldest is dropped first). */
  maxEntries?: number;
  log?: (message: string, details?: Record<string, unknown>) => void;
}

export class CallerAuth {
  private readonly memory: RecentMap<string, number>;
  private readonly inflight = new Map<string, Promise<Verdict>>();
  private keyPromise?: Promise<{ key: string; shared: boolean }>;
  private keyAt = 0;
  private readonly now: () => number;
  /** Counters for /status and tests. */
  readonly stats = { siteChecks: 0, memoryHits: 0, tableHits: 0, rejected: 0, unverified: 0 };

  constructor(private readonly opts: CallerAuthOptions) {
    this.memory = new RecentMap(opts.maxEntries ?? 10_000);
    this.now = opts.now ?? Date.now;
  }

  /**
   * Whether the credential authenticates: from memory, the state table, or one call to the site with exactly that
   * credential. Only a clean success is a verdict; a rejection is the site's fault; anything else leaves it unverified.
   */
  async verify(cred: CallerCredential, outage?: { after: number }): Promise<Verdict> {
    const { key, shared } = await this.key();
    const hash = this.hash(key, cred);
    const until = this.memory.get(hash);
    if (until !== undefined && until > this.now()) {
      this.stats.memoryHits++;
      return { status: 'valid', source: 'memory' };
    }
    // During a site outage, a verdict still valid after `outage.after` counts: the caller was verified before it went down.
    if (outage && until !== undefined && until > outage.after) return { status: 'valid', source: 'outage' };
    if (outage) return this.lookup(cred, hash, shared, outage);
    const pending = this.inflight.get(hash);
    if (pending) return pending;
    const p = this.lookup(cred, hash, shared).finally(() => this.inflight.delete(hash));
    this.inflight.set(hash, p);
    return p;
  }

  /** The caller's keyed identity hash (the same HMAC the verdicts are stored under): the response cache's per-caller key. */
  async identity(cred: CallerCredential): Promise<string> {
    return this.hash((await this.key()).key, cred);
  }

  private async lookup(cred: CallerCredential, hash: string, shared: boolean, outage?: { after: number }): Promise<Verdict> {
    if (shared && this.opts.table) {
      try {
        const r = await this.opts.table.ddb.send(
          new GetItemCommand({
            TableName: this.opts.table.name,
            Key: { pk: { S: VERDICT_PK }, sk: { S: verdictSk(hash) } },
          }),
        );
        const expiresAt = Number(r.Item?.expiresAt?.N ?? 0);
        if (expiresAt > this.now()) {
          this.stats.tableHits++;
          this.keep(hash, expiresAt);
          return { status: 'valid', source: 'table' };
        }
        if (outage && expiresAt > outage.after) return { status: 'valid', source: 'outage' };
      } catch (e) {
        this.opts.log?.('auth verdict lookup failed; asking the site', { error: (e as Error).message });
      }
    }
    this.stats.siteChecks++;
    try {
      // Exactly this one credential (and its sudo_as_login), nothing else the caller's params[0] carried.
      await this.opts.client.call('read', checkReadParams(cred), { auth: authParamsOf(cred), idempotent: true });
    } catch (e) {
      if (e instanceof ShotgunFault) {
        if (AUTH_FAULT_CODES.has(e.errorCode)) {
          this.stats.rejected++;
          return { status: 'invalid', fault: e };
        }
        // Any other fault (a sudo the site refuses with a permission fault, a read it does not allow): not a verdict.
        this.stats.unverified++;
        return { status: 'unverified', reason: `fault:${e.errorCode}` };
      } else if (e instanceof ShotgunTransportError) {
        this.stats.unverified++;
        return { status: 'unverified', reason: e.kind };
      } else {
        throw e;
      }
    }
    await this.remember(hash, shared);
    return { status: 'valid', source: 'site' };
  }

  private async remember(hash: string, shared: boolean): Promise<void> {
    const expiresAt = this.now() + this.opts.ttlMs;
    this.keep(hash, expiresAt);
    if (!shared || !this.opts.table) return;
    try {
      await this.opts.table.ddb.send(
        new PutItemCommand({
          TableName: this.opts.table.name,
          Item: {
            pk: { S: VERDICT_PK },
            sk: { S: verdictSk(hash) },
            expiresAt: { N: String(expiresAt) },
            ttl: { N: String(Math.ceil(expiresAt / 1000)) },
          },
        }),
      );
    } catch (e) {
      this.opts.log?.('auth verdict not stored in the state table (kept in memory)', { error: (e as Error).message });
    }
  }

  private keep(hash: string, expiresAt: number): void {
    this.memory.keep(hash, expiresAt);
  }

  private hash(key: string, c: CallerCredential): string {
    return createHmac('sha256', key)
      .update(JSON.stringify([c.kind, c.name, c.secret, c.sudo ?? null]))
      .digest('base64url');
  }

  /** The HMAC key, refreshed with the script key's own cache period; a random one (memory only) when there is none. */
  private key(): Promise<{ key: string; shared: boolean }> {
    if (!this.keyPromise || this.now() - this.keyAt > this.opts.ttlMs) {
      this.keyAt = this.now();
      const previous = this.keyPromise;
      this.keyPromise = this.opts
        .hmacKey()
        .then(
          (k) => (k ? { key: k, shared: true } : undefined),
          (e) => {
            this.opts.log?.('no HMAC key for auth verdicts (script key unavailable): verdicts stay in memory', { error: (e as Error).message });
            return undefined;
          },
        )
        .then(async (k) => k ?? (previous ? await previous : undefined) ?? { key: randomBytes(32).toString('hex'), shared: false });
    }
    return this.keyPromise;
  }
}
