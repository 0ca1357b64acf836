// The functions' configuration from their environment (zod-validated once per container), the one config error type, and the metric namespace.
import { z } from 'zod';

/** Namespace of every custom metric (the functions' Powertools Metrics and infra's alarms and dashboard). */
export const METRICS_NAMESPACE = 'FptCache';

/** A configuration problem an operator fixes by setting a variable: printed as one line, never a stack trace. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** An empty variable counts as unset. */
const unsetIfEmpty = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalText = z.preprocess(unsetIfEmpty, z.string().trim().optional());
const positiveInt = (fallback: number) => z.preprocess(unsetIfEmpty, z.coerce.number().int().positive().default(fallback));

/**
 * Whether a site URL may carry credentials: https, or plain http only to this machine (the simulated site, a local
 * tunnel). Callers' passwords, keys and tokens go to the site with every request the cache relays or verifies.
 */
export function isSecureSiteUrl(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol === 'https:') return true;
  if (u.protocol !== 'http:') return false;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

const ShotgunEnvSchema = z.object({
  SHOTGUN_URL: z
    .url({ protocol: /^https?$/, error: 'SHOTGUN_URL must be an http(s) URL of the Shotgun site' })
    .refine((u) => !URL.canParse(u) || isSecureSiteUrl(u), 'SHOTGUN_URL must be https (plain http only to this machine: 127.0.0.1, localhost, ::1)'),
  SHOTGUN_SCRIPT_NAME: optionalText,
  SHOTGUN_SCRIPT_KEY: optionalText,
  /** Per-attempt timeout of calls to the site. */
  SHOTGUN_TIMEOUT_MS: positiveInt(25_000),
  /** Total attempts for retryable failures (see shared/site/retry-policy.ts). */
  SHOTGUN_MAX_ATTEMPTS: positiveInt(3),
});

export interface ShotgunConfig {
  url: string;
  scriptName?: string;
  scriptKey?: string;
  timeoutMs: number;
  maxAttempts: number;
}

type Env = Record<string, string | undefined>;

function issueText(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ` : '') + i.message).join('; ');
}

/** How to reach the site. Script credentials are optional here (the API passes callers' own auth through). */
export function shotgunConfigFromEnv(env: Env): ShotgunConfig {
  if (!env.SHOTGUN_URL) throw new ConfigError('SHOTGUN_URL is not set: set it to the Shotgun site URL, e.g. https://studio.shotgunstudio.com');
  const r = ShotgunEnvSchema.safeParse(env);
  if (!r.success) throw new ConfigError(issueText(r.error));
  return {
    url: r.data.SHOTGUN_URL,
    scriptName: r.data.SHOTGUN_SCRIPT_NAME,
    scriptKey: r.data.SHOTGUN_SCRIPT_KEY,
    timeoutMs: r.data.SHOTGUN_TIMEOUT_MS,
    maxAttempts: r.data.SHOTGUN_MAX_ATTEMPTS,
  };
}

/** The same, for functions that call the site as themselves (poller, importer): the script credentials must be set. */
export function shotgunScriptConfigFromEnv(env: Env): ShotgunConfig & { scriptName: string; scriptKey: string } {
  const c = shotgunConfigFromEnv(env);
  const missing = [!c.scriptName && 'SHOTGUN_SCRIPT_NAME', !c.scriptKey && 'SHOTGUN_SCRIPT_KEY'].filter(Boolean);
  if (missing.length) throw new ConfigError(`${missing.join(' and ')} must be set to the site's script credentials (SHOTGUN_URL is ${c.url})`);
  return c as ShotgunConfig & { scriptName: string; scriptKey: string };
}

const StoreEnvSchema = z.object({
  ENTITIES_TABLE: z.string().min(3, 'ENTITIES_TABLE must name the entities table'),
  STATE_TABLE: z.string().min(3, 'STATE_TABLE must name the state table'),
  REFS_TABLE: z.string().min(3, 'REFS_TABLE must name the refs (edge) table'),
  EVENTS_QUEUE_URL: optionalText,
});

/** Where the cache lives: the tables (and the event queue, for the poller). AWS endpoints come from AWS_ENDPOINT_URL_*. */
export function storeConfigFromEnv(env: Env): { entitiesTable: string; stateTable: string; refsTable: string; eventsQueueUrl?: string } {
  const r = StoreEnvSchema.safeParse(env);
  if (!r.success) throw new ConfigError(issueText(r.error));
  return { entitiesTable: r.data.ENTITIES_TABLE, stateTable: r.data.STATE_TABLE, refsTable: r.data.REFS_TABLE, eventsQueueUrl: r.data.EVENTS_QUEUE_URL };
}

/**
 * Client config for an AWS service from a function's environment: the endpoint override AWS_ENDPOINT_URL_<SERVICE>
 * (set by the local stack; absent in AWS), the region, and, with an endpoint override, the environment's credentials.
 */
/** How long one DynamoDB or SQS call may take before it is abandoned (and retried by the SDK). */
export const DEFAULT_AWS_TIMEOUT_MS = 15_000;

export function awsClientConfig(
  env: Env,
  service: 'DYNAMODB' | 'SQS',
): {
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  requestHandler: { requestTimeout: number; throwOnRequestTimeout: true; connectionTimeout: number };
} {
  // The SDK waits forever for an answer by default: a request a stalled endpoint accepted and never answered hung a
  // 200k import for good (DynamoDB Local under memory pressure). Bounded (DYNAMODB_TIMEOUT_MS, SQS_TIMEOUT_MS), the
  // call fails and the SDK's retry sends it again: the store's writes are conditional or idempotent (transactions
  // carry a client token), and the queue deduplicates what the poller sends.
  const timeout = Number(env[`${service}_TIMEOUT_MS`]) > 0 ? Number(env[`${service}_TIMEOUT_MS`]) : DEFAULT_AWS_TIMEOUT_MS;
  const out: ReturnType<typeof awsClientConfig> = {
    requestHandler: { requestTimeout: timeout, throwOnRequestTimeout: true, connectionTimeout: Math.min(timeout, 5_000) },
  };
  const endpoint = env[`AWS_ENDPOINT_URL_${service}`] ?? env.AWS_ENDPOINT_URL;
  if (endpoint) out.endpoint = endpoint;
  if (env.AWS_REGION) out.region = env.AWS_REGION;
  // Only locally: in AWS the SDK's default chain reads the role's credentials (and refreshes them) itself.
  if (endpoint && env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    out.credentials = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN };
  }
  return out;
}

const ApiEnvSchema = z.object({
  /** How long an accepted credential is trusted without asking the site again (memory and state table). */
  AUTH_CACHE_SECONDS: positiveInt(300),
  /** How long a container uses one readiness snapshot (a type comes into or out of service within this). */
  READINESS_CACHE_MS: positiveInt(5_000),
  /** How long the site's `info` is kept in memory. */
  INFO_CACHE_SECONDS: positiveInt(300),
  /** Request bodies above this are refused with a fault (Lambda's own request limit is 6 MB). */
  MAX_REQUEST_BYTES: positiveInt(4 * 1024 * 1024),
  /** JSON nesting deeper than this is refused with a fault before it is parsed. */
  MAX_JSON_DEPTH: positiveInt(64),
  /** Whole-type or whole-project reads gathering more entities than this pass through (shared/query/read-engine.ts). */
  MAX_SCAN_ENTITIES: positiveInt(5_000),
  /** Per-identity allow-lists for cached reads (shared/reads/access-rules.ts). */
  ACCESS_RULES: optionalText,
  /** How long a principal's probed view of a type is trusted (shared/reads/principal-views.ts); at most 900. */
  PERMISSION_VIEW_TTL_SECONDS: positiveInt(600).refine((n) => n <= 900, 'PERMISSION_VIEW_TTL_SECONDS must be at most 900 (15 minutes)'),
  /** Principals whose view is the cache script's without probes: `script:<name>,user:<login>` (the cache's own script always is). */
  TRUSTED_PRINCIPALS: optionalText,
  /** Signed URLs (image fields, uploads) are served from the cache only while valid for at least this many seconds more. */
  SIGNED_URL_MARGIN_S: positiveInt(600),
});

export interface ApiConfig {
  authCacheMs: number;
  readinessCacheMs: number;
  infoCacheMs: number;
  maxRequestBytes: number;
  maxJsonDepth: number;
  maxScanEntities: number;
  /** ACCESS_RULES as given (parsed by shared/reads/access-rules.ts). */
  accessRules?: string;
  permissionViewTtlMs: number;
  /** TRUSTED_PRINCIPALS as given (parsed by shared/reads/principal-views.ts). */
  trustedPrincipals?: string;
  /** SIGNED_URL_MARGIN_S: a cached signed URL is served only while valid this long (docs/semantics.md "Volatile values"). */
  signedUrlMarginS: number;
}

/** The API function's own settings (the site and the tables come from shotgunConfigFromEnv / storeConfigFromEnv). */
export function apiConfigFromEnv(env: Env): ApiConfig {
  const r = ApiEnvSchema.safeParse(env);
  if (!r.success) throw new ConfigError(issueText(r.error));
  return {
    authCacheMs: r.data.AUTH_CACHE_SECONDS * 1000,
    readinessCacheMs: r.data.READINESS_CACHE_MS,
    infoCacheMs: r.data.INFO_CACHE_SECONDS * 1000,
    maxRequestBytes: r.data.MAX_REQUEST_BYTES,
    maxJsonDepth: r.data.MAX_JSON_DEPTH,
    maxScanEntities: r.data.MAX_SCAN_ENTITIES,
    accessRules: r.data.ACCESS_RULES,
    permissionViewTtlMs: r.data.PERMISSION_VIEW_TTL_SECONDS * 1000,
    trustedPrincipals: r.data.TRUSTED_PRINCIPALS,
    signedUrlMarginS: r.data.SIGNED_URL_MARGIN_S,
  };
}
