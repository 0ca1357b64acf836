// The simulated site's default credentials: the scripts it accepts and the seeded people's password (documented in docs/sim.md).

export interface ScriptCredential {
  /** script_name (the ApiUser's "Script Name"). */
  name: string;
  /** script_key (the ApiUser's application key). */
  key: string;
  /** The ApiUser's "Generate Events" checkbox: false means its writes log no EventLogEntry rows. */
  generateEvents: boolean;
}

/** fpt-cache's own script, which the local stack uses by default. */
export const DEFAULT_SCRIPT: ScriptCredential = { name: 'fpt-cache', key: 'fpt-cache-local-key', generateEvents: true };

/** A script whose writes log no events (the case only an updated_at scan can see). */
export const NO_EVENTS_SCRIPT: ScriptCredential = { name: 'no-events', key: 'no-events-key', generateEvents: false };

export const DEFAULT_SCRIPTS: readonly ScriptCredential[] = [DEFAULT_SCRIPT, NO_EVENTS_SCRIPT];

/** Every seeded active HumanUser signs in with this password (user_login / user_password). */
export const DEFAULT_USER_PASSWORD = 'password';

/** Seeded logins, always present whatever the scale: admin, producer, coordinator, supervisor, artist1..artistN; `former` is disabled. */
export const SEEDED_LOGINS = { admin: 'admin', artist: 'artist1', disabled: 'former' } as const;
