// The API's dependencies from a function's environment: the site, the tables, the cached schema, access rules, response cache and shadow settings.
import type { Logger } from '@aws-lambda-powertools/logger';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ConfigError, apiConfigFromEnv, awsClientConfig, shotgunConfigFromEnv, storeConfigFromEnv } from '../../shared/config.js';
import { DEFAULT_RESPONSE_CACHE_TTL_S, parseAccessRules, parseTrustedPrincipals, type AccessRules, type ApiMetrics } from '../../shared/reads/index.js';
import { loadCachedSchema, schemaFileFromEnv } from '../../shared/schema/index.js';
import { SqsShadowSink, shadowRateFromEnv } from '../../shared/shadow/index.js';
import { getScriptKey, getVerdictKey } from '../../shared/site/index.js';
import { dynamoDbClient } from '../../shared/store/index.js';
import type { ApiDeps, CacheDeps } from './context.js';
import { DEFAULT_OUTAGE_GRACE_S } from './outage.js';

type Env = Record<string, string | undefined>;

/**
 * Dependencies from a function's environment: the site (SHOTGUN_URL, SHOTGUN_SCRIPT_NAME, the key from
 * SHOTGUN_SCRIPT_KEY_SECRET_ARN or SHOTGUN_SCRIPT_KEY), the tables (ENTITIES_TABLE, STATE_TABLE, REFS_TABLE; the first two unset: pass-through
 * only), SCHEMA, and the API's own settings (shared/config.ts apiConfigFromEnv).
 */
export function apiDepsFromEnv(env: Env, logger: Logger, metrics?: ApiMetrics): ApiDeps {
  const shotgun = shotgunConfigFromEnv(env);
  const api = apiConfigFromEnv(env);
  if (!env.ENTITIES_TABLE?.trim() && !env.STATE_TABLE?.trim()) return { shotgun, logger, metrics, api };
  const tables = storeConfigFromEnv(env);
  let accessRules: AccessRules;
  let trustedPrincipals: string[];
  try {
    accessRules = parseAccessRules(api.accessRules);
    trustedPrincipals = parseTrustedPrincipals(api.trustedPrincipals);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  const scriptName = shotgun.scriptName;
  const scriptAuth = async () => (scriptName ? { script_name: scriptName, script_key: await getScriptKey({ env }) } : undefined);
  return {
    shotgun,
    logger,
    metrics,
    api,
    cache: {
      schema: loadCachedSchema(schemaFileFromEnv(env as NodeJS.ProcessEnv)),
      ddb: dynamoDbClient(env),
      tables: { entities: tables.entitiesTable, state: tables.stateTable, refs: tables.refsTable },
      scriptAuth,
      verdictKey: () => getVerdictKey(env),
      accessRules,
      trustedPrincipals,
      responseCache: responseCacheFromEnv(env),
      replyMemo: replyMemoFromEnv(env),
      shadow: shadowFromEnv(env),
      eventLog: eventLogFromEnv(env),
      freshness: freshnessFromEnv(env),
      outage: outageFromEnv(env),
    },
  };
}

/** SHADOW_QUEUE_URL (unset: no shadow checks) and SHADOW_SAMPLE_RATE (0..1, default 0.01). */
export function shadowFromEnv(env: Env): CacheDeps['shadow'] {
  const queueUrl = env.SHADOW_QUEUE_URL?.trim();
  if (!queueUrl) return undefined;
  const rate = shadowRateFromEnv(env);
  return rate > 0 ? { rate, sink: new SqsShadowSink(new SQSClient(awsClientConfig(env, 'SQS')), queueUrl) } : undefined;
}

/** A feature switch (`off` disables it) and its optional number setting, checked by `valid` (else a ConfigError saying `what` it must be). */
function switchWithNumber(env: Env, name: string, numberName: string, valid: (n: number) => boolean, what: string): { enabled: boolean; value?: number } {
  const enabled = (env[name] ?? '').trim().toLowerCase() !== 'off';
  const raw = env[numberName]?.trim();
  if (!raw) return { enabled };
  const value = Number(raw);
  if (!valid(value)) throw new ConfigError(`${numberName} must be ${what}, not "${raw}"`);
  return { enabled, value };
}
const positiveInteger = (n: number) => Number.isInteger(n) && n > 0;

/** RESPONSE_CACHE (`off` disables it) and RESPONSE_CACHE_TTL_S (seconds, default 600). */
export function responseCacheFromEnv(env: Env): { enabled: boolean; ttlS: number } {
  const { enabled, value } = switchWithNumber(env, 'RESPONSE_CACHE', 'RESPONSE_CACHE_TTL_S', positiveInteger, 'a positive number of seconds');
  return { enabled, ttlS: value ?? DEFAULT_RESPONSE_CACHE_TTL_S };
}

/** EVENT_LOG_READS (`off`: EventLogEntry reads pass) and EVENT_LOG_MAX_LAG_MS (how recent the last poll must be to serve them). */
export function eventLogFromEnv(env: Env): { enabled: boolean; maxLagMs?: number } {
  const { enabled, value } = switchWithNumber(env, 'EVENT_LOG_READS', 'EVENT_LOG_MAX_LAG_MS', positiveInteger, 'a positive number of milliseconds');
  return value === undefined ? { enabled } : { enabled, maxLagMs: value };
}

/** REPLY_MEMO (`off` disables the reply memo) and REPLY_MEMO_SHARE (share of the function's memory, default 0.25). */
export function replyMemoFromEnv(env: Env): { enabled: boolean; share?: number } {
  const { enabled, value } = switchWithNumber(env, 'REPLY_MEMO', 'REPLY_MEMO_SHARE', (n) => n > 0 && n < 1, "a share of the function's memory between 0 and 1");
  return value === undefined ? { enabled } : { enabled, share: value };
}

/** STORE_FRESHNESS (`off`: reads served without the freshness proof) and STORE_MAX_LAG_MS (how recent the last poll must be). */
export function freshnessFromEnv(env: Env): { enabled: boolean; maxLagMs?: number } {
  const { enabled, value } = switchWithNumber(env, 'STORE_FRESHNESS', 'STORE_MAX_LAG_MS', positiveInteger, 'a positive number of milliseconds');
  return value === undefined ? { enabled } : { enabled, maxLagMs: value };
}

/** OUTAGE_GRACE_S: how long after the last poll reads are served marked stale while the site is down (default 4 h; 0 turns outage mode off). */
export function outageFromEnv(env: Env): { graceMs: number } {
  const raw = env.OUTAGE_GRACE_S?.trim();
  if (!raw) return { graceMs: DEFAULT_OUTAGE_GRACE_S * 1000 };
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new ConfigError(`OUTAGE_GRACE_S must be a whole number of seconds (0 turns outage mode off), not "${raw}"`);
  return { graceMs: n * 1000 };
}
