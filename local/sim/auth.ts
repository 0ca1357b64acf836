// The sim's authentication: script keys, user passwords, session tokens (with expiry) and sudo_as_login, resolved to the acting user.
import { randomBytes } from 'node:crypto';
import { AuthParamsSchema, ErrorCode, ShotgunFault, type Link } from '../../shared/site/index.js';
import type { SiteStore, StoredEntity } from './store.js';
import type { ScriptCredential } from './credentials.js';
import { DEFAULT_AUTH_POLICY, credentialBranch, type AuthPolicy } from './auth-policy.js';

/** Who a request acts as, and what its writes log. */
export interface Actor {
  /** The user writes are stamped with and events name (the sudo user under sudo_as_login). */
  user: Link;
  /** The authenticated user when sudo_as_login replaced it (events carry it as meta.sudo_actual_user). */
  actual?: Link;
  generateEvents: boolean;
  /** auth params' session_uuid, copied onto the events this request logs. */
  sessionUuid: string | null;
}

export interface SessionSnapshot {
  token: string;
  user: Link;
  script?: string;
  expiresAt: number;
}

export interface AuthOptions {
  scripts: readonly ScriptCredential[];
  userPassword: string;
  sessionTtlMs: number;
  now: () => Date;
}

export class SiteAuth {
  private readonly sessions = new Map<string, SessionSnapshot>();
  /** Which credential wins in a mixed params[0], how a user's sudo is refused (local/sim/auth-policy.ts; the control knob `authPolicy`). */
  policy: AuthPolicy = DEFAULT_AUTH_POLICY;

  constructor(
    private readonly store: SiteStore,
    private readonly opts: AuthOptions,
  ) {}

  get scripts(): readonly ScriptCredential[] {
    return this.opts.scripts;
  }

  /** Resolves params[0] to an Actor, or throws the site's 102 fault. */
  authenticate(raw: unknown): Actor {
    const parsed = AuthParamsSchema.safeParse(raw);
    if (!parsed.success || raw === null || typeof raw !== 'object') {
      throw new ShotgunFault('Authentication failed: no valid authentication parameters were given.', ErrorCode.AUTHENTICATION);
    }
    const p = parsed.data;
    let user: Link;
    let generateEvents = true;
    const branch = credentialBranch(p, this.policy);
    if (branch === 'user') {
      const u = this.activeUserByLogin(p.user_login ?? '');
      if (!u || p.user_password !== (u.values.password_proxy ?? this.opts.userPassword)) {
        throw new ShotgunFault(`Can't authenticate user '${p.user_login ?? ''}'`, ErrorCode.AUTHENTICATION);
      }
      user = { type: 'HumanUser', id: u.id };
    } else if (branch === 'script') {
      const s = this.opts.scripts.find((c) => c.name === p.script_name);
      const api = s && this.apiUserFor(s.name);
      if (!s || !api || s.key !== p.script_key) {
        throw new ShotgunFault(`Can't authenticate script '${p.script_name ?? ''}'`, ErrorCode.AUTHENTICATION);
      }
      user = { type: 'ApiUser', id: api.id };
      generateEvents = s.generateEvents;
    } else if (branch === 'session' && p.session_token !== undefined) {
      const s = this.sessions.get(p.session_token);
      if (!s) throw new ShotgunFault("Can't authenticate session token: unknown or signed out.", ErrorCode.AUTHENTICATION);
      if (s.expiresAt <= this.opts.now().getTime()) {
        throw new ShotgunFault('Session token has expired.', ErrorCode.AUTHENTICATION);
      }
      const rec = this.store.get(s.user.type, s.user.id);
      if (!rec || rec.retired) throw new ShotgunFault("Can't authenticate session token: its user is gone.", ErrorCode.AUTHENTICATION);
      user = s.user;
      if (s.script) generateEvents = this.opts.scripts.find((c) => c.name === s.script)?.generateEvents ?? true;
    } else {
      throw new ShotgunFault('Authentication failed: no valid authentication parameters were given.', ErrorCode.AUTHENTICATION);
    }
    const actor: Actor = { user, generateEvents, sessionUuid: p.session_uuid ?? null };
    if (p.sudo_as_login !== undefined) {
      // People are refused sudo by default, as hosted sites answer Autodesk's own tests (a permission role may grant it: knob userSudo 'allowed').
      if (user.type === 'HumanUser' && this.policy.userSudo !== 'allowed') {
        throw new ShotgunFault(`The user does not have permission to 'sudo': ${p.sudo_as_login}`, this.policy.userSudo);
      }
      const su = this.activeUserByLogin(p.sudo_as_login);
      if (!su) throw new ShotgunFault(`Can't sudo as user '${p.sudo_as_login}': no active HumanUser with that login.`, ErrorCode.AUTHENTICATION);
      actor.actual = user;
      actor.user = { type: 'HumanUser', id: su.id };
    }
    return actor;
  }

  /** get_session_token: a new session for the acting user. */
  createSession(actor: Actor, scriptName?: string): string {
    const token = randomBytes(16).toString('hex');
    const s: SessionSnapshot = { token, user: actor.user, expiresAt: this.opts.now().getTime() + this.opts.sessionTtlMs };
    if (scriptName && actor.user.type === 'ApiUser') s.script = scriptName;
    this.sessions.set(token, s);
    this.store.touch(); // sessions are in the snapshot
    return token;
  }

  /** The script a session or script_name authenticated as, for sessions created from it. */
  scriptNameOf(raw: unknown): string | undefined {
    const p = AuthParamsSchema.safeParse(raw);
    if (!p.success) return undefined;
    if (p.data.script_name) return p.data.script_name;
    if (p.data.session_token) return this.sessions.get(p.data.session_token)?.script;
    return undefined;
  }

  /** Expires one session, or all when no token is given. Returns how many were expired. */
  expireSessions(token?: string): number {
    const past = this.opts.now().getTime() - 1;
    let n = 0;
    for (const s of this.sessions.values()) {
      if (token === undefined || s.token === token) {
        s.expiresAt = past;
        n++;
      }
    }
    if (n) this.store.touch();
    return n;
  }

  toSnapshot(): SessionSnapshot[] {
    return [...this.sessions.values()];
  }

  loadSnapshot(rows: SessionSnapshot[]): void {
    this.sessions.clear();
    for (const s of rows) this.sessions.set(s.token, s);
  }

  activeUserByLogin(login: string): StoredEntity | undefined {
    for (const u of this.store.all('HumanUser')) {
      if (!u.retired && u.values.login === login && (u.values.sg_status_list ?? 'act') === 'act') return u;
    }
    return undefined;
  }

  apiUserFor(scriptName: string): StoredEntity | undefined {
    for (const u of this.store.all('ApiUser')) if (!u.retired && u.values.firstname === scriptName) return u;
    return undefined;
  }
}
