// The site's script credentials for the functions: the key from Secrets Manager (cached) or SHOTGUN_SCRIPT_KEY locally; never logged.
import { inspect } from 'node:util';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';

export const SITE_URL_ENV = 'SHOTGUN_URL';
export const SCRIPT_NAME_ENV = 'SHOTGUN_SCRIPT_NAME';
/** Set in AWS: the secret (plain string = the key) that holds the script key. */
export const SCRIPT_KEY_SECRET_ARN_ENV = 'SHOTGUN_SCRIPT_KEY_SECRET_ARN';
/** Set for local runs only: the key itself. */
export const SCRIPT_KEY_ENV = 'SHOTGUN_SCRIPT_KEY';
/** The stack creates its secret as JSON `{"<this>": true, ...}`: a marker no real script key can look like. */
export const SCRIPT_KEY_UNSET_FIELD = 'fptCacheScriptKeyUnset';
/** How long a container keeps the key before asking Secrets Manager again (a rotated key is picked up within this). */
export const SCRIPT_KEY_CACHE_SECONDS = 300;

const REDACTED = '[redacted]';

/** Script credentials for calls to the site. Serializing or inspecting it never shows the key. */
export class SiteCredentials {
  readonly #scriptKey: string;
  constructor(
    readonly siteUrl: string,
    readonly scriptName: string,
    scriptKey: string,
  ) {
    this.#scriptKey = scriptKey;
  }
  get scriptKey(): string {
    return this.#scriptKey;
  }
  /** The JSON-RPC auth params for this script. */
  authParams(): { script_name: string; script_key: string } {
    return { script_name: this.scriptName, script_key: this.#scriptKey };
  }
  toJSON(): Record<string, string> {
    return { siteUrl: this.siteUrl, scriptName: this.scriptName, scriptKey: REDACTED };
  }
  toString(): string {
    return `SiteCredentials(${this.siteUrl}, ${this.scriptName}, ${REDACTED})`;
  }
  [inspect.custom](): string {
    return this.toString();
  }
}

export class SiteCredentialsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SiteCredentialsError';
  }
}

type Env = Record<string, string | undefined>;

let provider: SecretsProvider | undefined;
/** One Secrets Manager client per container (endpoint from AWS_ENDPOINT_URL_SECRETS_MANAGER when set). */
function secretsProvider(): SecretsProvider {
  provider ??= new SecretsProvider();
  return provider;
}

function required(env: Env, name: string): string {
  const v = env[name]?.trim();
  if (!v) throw new SiteCredentialsError(`${name} is not set`);
  return v;
}

/** A secret value may be the bare key or JSON `{"script_key": "..."}`; the stack's unfilled marker is refused. */
function keyFromSecretString(value: string, arn: string): string {
  const text = value.trim();
  if (text.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new SiteCredentialsError(`secret ${arn} is neither a bare script key nor valid JSON`);
    }
    const o = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
    if (o[SCRIPT_KEY_UNSET_FIELD] === true) {
      throw new SiteCredentialsError(
        `secret ${arn} still holds the placeholder the stack created: put the script key in it with ` +
          `\`aws secretsmanager put-secret-value --secret-id ${arn} --secret-string <key>\``,
      );
    }
    if (typeof o.script_key === 'string' && o.script_key.trim()) return o.script_key.trim();
    throw new SiteCredentialsError(`secret ${arn} is JSON without a "script_key" string`);
  }
  if (!text) throw new SiteCredentialsError(`secret ${arn} is empty`);
  return text;
}

/**
 * The script key: from the secret named by SHOTGUN_SCRIPT_KEY_SECRET_ARN (cached for SCRIPT_KEY_CACHE_SECONDS; pass
 * `forceFetch` after the site rejected the key, to pick up a rotation), else from SHOTGUN_SCRIPT_KEY.
 */
export async function getScriptKey(opts: { env?: Env; forceFetch?: boolean } = {}): Promise<string> {
  const env = opts.env ?? process.env;
  const arn = env[SCRIPT_KEY_SECRET_ARN_ENV]?.trim();
  if (arn) {
    const value = await secretsProvider().get(arn, { maxAge: SCRIPT_KEY_CACHE_SECONDS, forceFetch: opts.forceFetch ?? false });
    if (typeof value !== 'string') throw new SiteCredentialsError(`secret ${arn} has no string value`);
    return keyFromSecretString(value, arn);
  }
  const key = env[SCRIPT_KEY_ENV]?.trim();
  if (key) return key;
  throw new SiteCredentialsError(`no script key: set ${SCRIPT_KEY_SECRET_ARN_ENV} (in AWS) or ${SCRIPT_KEY_ENV} (local runs)`);
}

/** Site URL, script name and key for the functions that call the site with the cache's own script. */
export async function getSiteCredentials(opts: { env?: Env; forceFetch?: boolean } = {}): Promise<SiteCredentials> {
  const env = opts.env ?? process.env;
  const siteUrl = required(env, SITE_URL_ENV).replace(/\/+$/, '');
  const scriptName = required(env, SCRIPT_NAME_ENV);
  return new SiteCredentials(siteUrl, scriptName, await getScriptKey(opts));
}
