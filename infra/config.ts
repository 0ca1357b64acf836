// Deployment configuration: CDK context (`-c key=value`) or props, validated with zod at synth, with clear errors naming the key.
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Node } from 'constructs';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { z } from 'zod';
import { DEFAULT_SCHEMA_FILE } from '../shared/schema/index.js';
import { isSecureSiteUrl } from '../shared/config.js';

/** The repository root (infra/ lives directly under it): function entries, the lockfile and schema files resolve from here. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The site URL used when none is given, so `npm run synth` works with no context (the stack carries a warning). */
export const PLACEHOLDER_SITE_URL = 'https://example.shotgrid.autodesk.com';
export const PLACEHOLDER_SCRIPT_NAME = 'fpt-cache';

const RETENTION_DAYS = new Set<number>(Object.values(RetentionDays).filter((v): v is number => typeof v === 'number'));

// CDK context from the command line is always a string: numbers are coerced, then range-checked.
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const num = (min: number, max: number) => z.coerce.number().min(min).max(max);
/** An optional string where '' (e.g. `-c alarmEmail=`) means unset. */
const optionalString = z
  .string()
  .trim()
  .optional()
  .transform((s) => (s ? s : undefined));
const removal = z.enum(['retain', 'destroy']);

/** A complete Secrets Manager ARN (with the 6-character suffix), so IAM grants are exact. */
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;
const ACM_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]{36}$/;

const ConfigShape = z.object({
  /** CloudFormation stack name (also prefixes alarm and dashboard names). */
  stackName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,100}$/, 'letters, digits and - only, starting with a letter')
    .default('FptCache'),
  /** The FPT site the cache fronts, e.g. https://studio.shotgrid.autodesk.com (no path). */
  siteUrl: z
    .url({ protocol: /^https?$/ })
    .refine((u) => !URL.canParse(u) || isSecureSiteUrl(u), "must be https (callers' credentials travel to it; plain http only to 127.0.0.1, localhost, ::1)")
    .transform((u) => u.replace(/\/+$/, ''))
    .default(PLACEHOLDER_SITE_URL),
  /** The script (ApiUser) name whose key the sync pipeline uses. */
  scriptName: z.string().trim().min(1).default(PLACEHOLDER_SCRIPT_NAME),
  /** An existing secret holding the script key (complete ARN); otherwise the stack creates one for you to fill. */
  scriptKeySecretArn: optionalString.pipe(z.string().regex(SECRET_ARN, 'must be a complete Secrets Manager secret ARN (ending in -XXXXXX)').optional()),
  /** The cached-schema file (relative to the repo root) copied into every function bundle and named by SCHEMA; default schema/default.yml. */
  schemaFile: optionalString,
  /** How often the poller asks the site's event log for new entries inside its one-minute run. */
  pollIntervalMs: int(500, 30_000).default(2_000),
  /**
   * Outages (docs/operations.md). How long after the last successful poll reads are served marked stale while the site
   * is down (OUTAGE_GRACE_S; 0 turns outage mode off), how recent the last poll must be for any read to be served
   * (STORE_MAX_LAG_MS), and how old a poller's heartbeat must be before another takes its lease over (POLLER_STALE_MS).
   */
  outageGraceSeconds: int(0, 7 * 86_400).default(4 * 3600),
  storeMaxLagMs: int(1_000, 3_600_000).default(15_000),
  pollerStaleMs: int(1_000, 60_000).default(10_000),
  /** How often the reconciler (updated_at scans) and the validator (drift sampling) run. */
  reconcileIntervalMinutes: int(1, 1440).default(5),
  /**
   * The reconciler's schedule rate and the shortest interval between scans of a type while scans or stale shadow
   * verdicts find writes the event log did not carry (docs/sync.md "Adaptive reconcile interval"); at or above
   * reconcileIntervalMinutes the interval is fixed.
   */
  reconcileFloorMinutes: int(1, 1440).default(1),
  validateIntervalMinutes: int(5, 1440).default(60),
  /** How often the reconciler diffs the deployed schema against the site's (DisplayColumn events trigger a diff too). */
  schemaDiffIntervalMinutes: int(1, 1440).default(15),
  /**
   * The consumer sends each batch's entity writes together as DynamoDB transactions (`transact`; STORE_WRITE_GROUPING):
   * fewer calls and shorter runs, at twice the write units of the items it writes (docs/cost.md). Off by default.
   */
  storeWriteGrouping: z.enum(['off', 'transact']).default('off'),
  /** Consumer concurrency cap (SQS event source MaximumConcurrency, 2-1000): protects the site from re-fetch storms. */
  maxConcurrency: int(2, 1000).default(5),
  /** HTTP API stage throttling: burst (requests) and steady rate (requests per second). */
  apiThrottleBurst: int(1, 5000).default(200),
  apiThrottleRate: num(1, 10_000).default(100),
  /** Reserved concurrency of the API function (0: none; the account's quota must leave 10 unreserved besides it and the poller's 1). */
  apiReservedConcurrency: int(0, 10_000).default(20),
  apiMemoryMb: int(128, 10_240).default(1024),
  /** Share of cache hits the verifier replays against the site (0 turns shadow checks off). */
  shadowSampleRate: num(0, 1).default(0.01),
  /** Confirmed shadow mismatches of a type before it is served from the site until validated or re-imported. */
  shadowMismatchThreshold: int(1, 1000).default(1),
  /** Principals served the cache script's view without permission probes: `script:<name>,user:<login>` (the cache's own script always is). */
  trustedPrincipals: optionalString.pipe(
    z
      .string()
      .regex(/^(script|user):[^,]+(,\s*(script|user):[^,]+)*$/, 'a comma-separated list of script:<name> / user:<login>')
      .optional(),
  ),
  /** How long a caller's probed permission view of a type is trusted (seconds, at most 15 minutes). */
  permissionViewTtlSeconds: int(30, 900).default(600),
  /** Signed URLs (image fields, uploads) are served from the cache only while valid at least this long (SIGNED_URL_MARGIN_S). */
  signedUrlMarginSeconds: int(1, 86_400).default(600),
  consumerMemoryMb: int(128, 10_240).default(512),
  /** The poller peaks near 126 MB of RSS (test/bundles measures it; the suite fails above 60 %): 256 MB keeps a real margin. */
  pollerMemoryMb: int(128, 10_240).default(256),
  /** Email subscribed to the alarm topic (optional: subscribe anything else to the topic yourself). */
  alarmEmail: optionalString.pipe(z.email().optional()),
  /** Custom domain for the API (optional); needs certificateArn (an ACM certificate in the stack's region). */
  domainName: optionalString.pipe(
    z
      .string()
      .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, 'must be a DNS name')
      .optional(),
  ),
  certificateArn: optionalString.pipe(z.string().regex(ACM_ARN, 'must be an ACM certificate ARN').optional()),
  /** Alarm thresholds. */
  syncLagThresholdSeconds: int(10, 86_400).default(120),
  apiLatencyP99ThresholdMs: int(50, 30_000).default(5_000),
  api5xxRatePercent: num(0.01, 100).default(1),
  functionErrorsThreshold: int(1, 100_000).default(3),
  queueAgeThresholdSeconds: int(30, 1_209_600).default(600),
  logRetentionDays: int(1, 3653)
    .refine((d) => RETENTION_DAYS.has(d), 'must be a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, 60, 90, ...)')
    .default(30),
  /** Every table is kept by default (and deletion-protected whatever this says): the state table holds the cursor; the others a rebuild costs a full import. */
  stateRemovalPolicy: removal.default('retain'),
  entitiesRemovalPolicy: removal.default('retain'),
  /** CloudWatch `service` dimension of the custom metrics (Powertools POWERTOOLS_SERVICE_NAME); defaults to the stack name. */
  serviceName: optionalString.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, . _ - only')
      .optional(),
  ),
});

export const ConfigSchema = ConfigShape.superRefine((c, ctx) => {
  if (c.domainName && !c.certificateArn) ctx.addIssue({ code: 'custom', path: ['certificateArn'], message: 'is required when domainName is set' });
  // A bound below a few poll intervals would leave reads passing (freshness) or pollers fighting over the lease (staleness).
  if (c.storeMaxLagMs < 3 * c.pollIntervalMs)
    ctx.addIssue({ code: 'custom', path: ['storeMaxLagMs'], message: `must be at least 3 poll intervals (${3 * c.pollIntervalMs})` });
  if (c.pollerStaleMs < 3 * c.pollIntervalMs)
    ctx.addIssue({ code: 'custom', path: ['pollerStaleMs'], message: `must be at least 3 poll intervals (${3 * c.pollIntervalMs})` });
  if (c.certificateArn && !c.domainName) ctx.addIssue({ code: 'custom', path: ['domainName'], message: 'is required when certificateArn is set' });
  if (c.schemaFile && !existsSync(resolveFromRepo(c.schemaFile))) {
    ctx.addIssue({ code: 'custom', path: ['schemaFile'], message: `file not found: ${resolveFromRepo(c.schemaFile)}` });
  }
}).transform((c) => ({
  ...c,
  // Unset means the repo's default schema file, when there is one.
  schemaFile: c.schemaFile ?? (existsSync(resolveFromRepo(DEFAULT_SCHEMA_FILE)) ? DEFAULT_SCHEMA_FILE : undefined),
}));

export type CacheConfigInput = z.input<typeof ConfigSchema>;
export type CacheConfig = z.output<typeof ConfigSchema>;
export const CONFIG_KEYS = Object.keys(ConfigShape.shape) as (keyof CacheConfig)[];

export class ConfigError extends Error {
  constructor(readonly issues: { key: string; message: string }[]) {
    super(`invalid fpt-cache configuration:\n${issues.map((i) => `  -c ${i.key}: ${i.message}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function resolveFromRepo(path: string): string {
  return isAbsolute(path) ? path : resolve(REPO_ROOT, path);
}

/** Validates raw values (context strings or typed props); throws a ConfigError naming each bad key. */
export function parseConfig(raw: Record<string, unknown> = {}): CacheConfig {
  const r = ConfigSchema.safeParse(raw);
  if (r.success) return r.data;
  throw new ConfigError(r.error.issues.map((i) => ({ key: i.path.map(String).join('.') || '(root)', message: i.message })));
}

/** Reads every known key from CDK context (cdk.json `context` or `-c key=value`). */
export function configFromContext(node: Node): CacheConfig {
  const raw: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const v: unknown = node.tryGetContext(key);
    if (v !== undefined) raw[key] = v;
  }
  return parseConfig(raw);
}

/** Warnings for configuration that synthesizes but would not work when deployed as is. */
export function configWarnings(c: CacheConfig): string[] {
  const w: string[] = [];
  if (c.siteUrl === PLACEHOLDER_SITE_URL) w.push(`siteUrl is the placeholder ${PLACEHOLDER_SITE_URL}: deploy with -c siteUrl=https://<your-site>`);
  if (!c.schemaFile) w.push(`no schemaFile given and no ${DEFAULT_SCHEMA_FILE}: the functions get no SCHEMA file (set -c schemaFile=<path>)`);
  if (!c.alarmEmail) w.push('no alarmEmail given: alarms publish to the SNS topic only (set -c alarmEmail=<address>)');
  return w;
}
