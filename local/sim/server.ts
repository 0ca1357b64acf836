// The simulated Shotgun site: an HTTP server speaking POST /api3/json like a hosted site, with knobs for tests; startSimSite() and simOptionsFromEnv().
import type { z } from 'zod';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { join, resolve } from 'node:path';
import { SiteSchema } from '../../shared/schema/index.js';
import { ErrorCode, ShotgunFault } from '../../shared/site/index.js';
import { executeRead } from '../../shared/semantics/index.js';
import { loadSiteSchema, Connections } from './site-schema.js';
import { SiteStore, type StoredEntity } from './store.js';
import { SiteAuth } from './auth.js';
import { EventLog, type EventDelay } from './event-log.js';
import { SiteWrites } from './writes.js';
import { Api3Methods, type RpcReply } from './methods.js';
import { Knobs, SimStats, type FaultKind, type FaultRates } from './knobs.js';
import { SimControl } from './control.js';
import { SiteChaos } from './chaos.js';
import { SimSemanticsSchema, type SimSemanticsInput } from './site-semantics.js';
import { SimWriteStampsSchema, type SimWriteStampsInput } from './write-stamps.js';
import { SnapshotFile, SNAPSHOT_FORMAT } from './snapshot.js';
import { seedSite, DEFAULT_EPOCH, DEFAULT_SEED_ENTITIES, MIXES, type SeedMix } from './seed.js';
import { CallerFields } from './caller-fields.js';
import { MediaSettingsSchema, MediaUrls, type MediaSettingsInput } from './media-urls.js';
import { DEFAULT_PROFILES, SitePermissions, type PermissionProfilesInput } from './permissions.js';
import { SchemaWrites } from './schema-writes.js';
import { SimUploads } from './uploads.js';
import { SiteExtras } from './site-extras.js';
import { ensureSitePages } from './pages.js';
import { S3Uploads, S3UploadSettingsSchema, s3UploadInfo, type S3UploadSettings } from './s3-uploads.js';
import { DEFAULT_SCRIPTS, DEFAULT_USER_PASSWORD, type ScriptCredential } from './credentials.js';

const gzipAsync = promisify(gzip);
const MAX_BODY = 64 * 1024 * 1024;

export interface SimSiteOptions {
  /** 0 = an ephemeral port (tests). Default 0. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Where the snapshot (site.json) lives; undefined = memory only. An existing snapshot is loaded instead of seeding. */
  dataDir?: string;
  /** Approximate number of seeded entities (default 400). */
  entities?: number;
  /** How they divide among the types (SIM_MIX: `production`, the default, or `studio`; local/sim/seed.ts MIXES). */
  mix?: SeedMix;
  /** EventLogEntry history rows per seeded entity, synthesized when read (SIM_EVENT_HISTORY; default 0: no history). */
  eventHistory?: number;
  /** Seed for the data and for the knobs' random draws (default 1). */
  seed?: number;
  latencyMs?: number;
  jitterMs?: number;
  /** info reports 7.3.0 instead of 8.50.0, so clients page with return_paging_info / entity_count. */
  legacyVersion?: boolean;
  /** The scripts the site accepts (default DEFAULT_SCRIPTS). */
  scripts?: readonly ScriptCredential[];
  /** The password of every seeded active HumanUser (default "password"). */
  userPassword?: string;
  /** Session token lifetime (default 24 h). */
  sessionTtlMs?: number;
  /** The site's clock (default: the real one). */
  now?: () => Date;
  /** Serve /__sim/* (default true). */
  control?: boolean;
  /** Debounce for snapshot writes (default 250 ms). */
  snapshotDebounceMs?: number;
  /** Idle keep-alive sockets are kept this long (default 10 min, longer than any client idles between calls). */
  keepAliveTimeoutMs?: number;
  /** Out-of-order commits from the start: this share of writes publish their events `delayMs` late. */
  eventDelay?: EventDelay;
  /** Transport faults by rate from the start (benchmarks of retry paths). */
  faultRates?: FaultRates;
  /** Permission profiles by `user:<login>` / `script:<name>` (default DEFAULT_PROFILES: local/sim/permissions.ts). */
  permissions?: PermissionProfilesInput;
  /** The "present" of the seeded history (default 2025-06-02T09:00:00Z; seeding never reads the clock). */
  seedEpoch?: string;
  /** How reads behave where hosted sites may differ (NULL placement, text order, ...; docs/sim.md "Site semantics"). */
  semantics?: SimSemanticsInput;
  /** Whether back-references and revives move updated_at (docs/sim.md "Write stamps"). */
  stamps?: SimWriteStampsInput;
  /** Signed media URLs: expiry, re-sign window, pending thumbnails (local/sim/media-urls.ts; docs/sim.md "Media URLs"). */
  media?: MediaSettingsInput;
  /** The clock media URLs are signed by (default: the site's clock); the control knob `media.advanceS` moves it. */
  mediaNow?: () => Date;
  /** S3 direct uploads (default off: the legacy upload forms only; local/sim/s3-uploads.ts). */
  s3Uploads?: S3UploadSettings;
}

export interface SimSite {
  url: string;
  port: number;
  control: SimControl;
  /** Outages, flapping, a failing or trimmed event log (local/sim/chaos.ts). */
  chaos: SiteChaos;
  schema: SiteSchema;
  /** Seeding time of this start (0 when a snapshot was loaded). */
  seedMs: number;
  /** The script the local stack should use: the first configured one (DEFAULT_SCRIPT unless SHOTGUN_SCRIPT_* say otherwise). */
  credentials: { scriptName: string; scriptKey: string };
  close(): Promise<void>;
}

export async function startSimSite(options: SimSiteOptions = {}): Promise<SimSite> {
  const seed = options.seed ?? 1;
  const entities = options.entities ?? DEFAULT_SEED_ENTITIES;
  const scripts = options.scripts ?? DEFAULT_SCRIPTS;
  const now = options.now ?? (() => new Date());
  // A copy per site: the changeField knob edits it (SiteSchema reads its file on every lookup).
  const schema = new SiteSchema(structuredClone(loadSiteSchema().file));
  const connections = new Connections(schema);
  const store = new SiteStore(schema.typeNames);
  const auth = new SiteAuth(store, { scripts, userPassword: options.userPassword ?? DEFAULT_USER_PASSWORD, sessionTtlMs: options.sessionTtlMs ?? 86_400_000, now });
  const events = new EventLog(store, schema, seed);
  const knobs = new Knobs({ latencyMs: options.latencyMs, jitterMs: options.jitterMs, legacyVersion: options.legacyVersion, faultRates: options.faultRates, semantics: options.semantics, stamps: options.stamps, seed });
  const stats = new SimStats();
  const initialDelay: EventDelay = options.eventDelay ?? { probability: 0, delayMs: 0 };
  events.setDelay(initialDelay);

  const projectDeep = (type: string, rec: StoredEntity, fields: string[]): Record<string, unknown> => {
    try {
      const r = executeRead({ schema, lookup: store, now: now() }, {
        type, return_fields: fields, filters: { logical_operator: 'and', conditions: [] }, return_only: 'active',
        paging: { entities_per_page: 1, current_page: 1 },
      }, [rec]);
      const e = r.entities[0] ?? {};
      return Object.fromEntries(fields.filter((f) => Object.hasOwn(e, f)).map((f) => [f, e[f]]));
    } catch {
      return Object.fromEntries(fields.map((f) => [f, null]));
    }
  };
  const writes = new SiteWrites({ schema, store, connections, events, now, projectDeep, stamps: () => knobs.stamps });
  const permissions = new SitePermissions(store, schema, options.permissions ?? DEFAULT_PROFILES);
  const callerFields = new CallerFields(Date.parse(options.seedEpoch ?? DEFAULT_EPOCH));
  const schemaWrites = new SchemaWrites({ schema, store, events, now });
  const extras = new SiteExtras({ schema, store, callerFields, now, project: projectDeep });
  const api = new Api3Methods({ schema, store, auth, writes, permissions, now, legacyVersion: () => knobs.legacyVersion, semantics: () => knobs.semantics, callerFields, schemaWrites, extras, uploadInfo: s3UploadInfo(options.s3Uploads ?? { enabled: false }) });

  let seedMs = 0;
  const reseed = () => {
    store.loadSnapshot({ nextIds: {}, nextEventId: 1, entities: {} });
    seedMs = seedSite(schema, store, connections, { seed, entities, scripts, epoch: options.seedEpoch, mix: options.mix, eventHistory: options.eventHistory }).ms;
    ensureScriptUsers(store, scripts, now);
    ensureSitePages(store, now);
    store.touch();
  };
  const snapshot = options.dataDir !== undefined
    ? new SnapshotFile(resolve(options.dataDir), () => ({
      format: SNAPSHOT_FORMAT, savedAt: now().toISOString(), seed,
      store: withPending(store.toSnapshot(), events.pendingForSnapshot()), sessions: auth.toSnapshot(),
    }), options.snapshotDebounceMs ?? 250)
    : undefined;
  const saved = snapshot?.read();
  if (saved) {
    store.loadSnapshot(saved.store);
    auth.loadSnapshot(saved.sessions ?? []);
    ensureScriptUsers(store, scripts, now);
    ensureSitePages(store, now);
  } else {
    reseed();
    snapshot?.flushSync();
  }
  store.onChange = () => snapshot?.changed();

  let origin = '';
  const media = new MediaUrls(options.mediaNow ?? now, () => origin, options.media);
  const control = new SimControl({ media, knobs, stats, events, auth, store, permissions, callerFields, reseed, initialDelay, schema, now, flush: async () => { await snapshot?.writeNow(); } });
  const controlOn = options.control ?? true;
  const uploads = new SimUploads({ schema, auth, writes, media, origin: () => origin });
  const s3 = new S3Uploads(options.s3Uploads ?? { enabled: false }, auth, uploads, () => origin);
  const chaos = new SiteChaos(store);

  const hung = new Set<ServerResponse>();
  let closing = false;

  const server = createServer({ keepAliveTimeout: options.keepAliveTimeoutMs ?? 600_000 }, (req, res) => {
    void handle(req, res).catch((e: unknown) => {
      process.stderr.write(`${JSON.stringify({ level: 'ERROR', component: 'sim', message: e instanceof Error ? e.message : String(e) })}\n`);
      if (!res.headersSent) sendJson(req, res, new ShotgunFault('Internal error', ErrorCode.API).toBody(), closing).catch(() => res.destroy());
    });
  });
  server.headersTimeout = 60_000;
  server.requestTimeout = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://sim').pathname;
    const body = await readBody(req);
    if (body === undefined) { res.writeHead(413, { 'content-type': 'text/plain' }); res.end('Request Entity Too Large'); return; }
    if (controlOn && path === '/__sim/chaos') return chaos.handleHttp(req, res, body);
    if (controlOn && path.startsWith('/__sim/')) return control.handleHttp(req, res, path, body);
    if (s3.handles(path)) return s3.handleHttp(req, res, path, body);
    if (uploads.handles(path)) return uploads.handleHttp(req, res, path, body);
    if (!path.endsWith('/api3/json')) { res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' }); res.end('<h1>Not Found</h1>'); return; }
    if (req.method !== 'POST') { res.writeHead(405, { allow: 'POST', 'content-type': 'text/plain' }); res.end('Method Not Allowed'); return; }

    let parsed: unknown;
    let badJson = false;
    try { parsed = JSON.parse(body.toString('utf8')); } catch { badJson = true; }
    const methodName = !badJson && typeof parsed === 'object' && parsed !== null && typeof (parsed as { method_name?: unknown }).method_name === 'string'
      ? (parsed as { method_name: string }).method_name : '(invalid)';
    stats.count(methodName, methodName === 'read' ? (parsed as { params?: Array<{ type?: unknown; return_fields?: unknown }> }).params?.[1] : undefined);
    if (chaos.intercept(req, res, parsed)) return;
    const fault = knobs.nextFault(methodName);
    const delay = knobs.latency();
    stats.latency(delay);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (fault && !fault.after) return inject(fault.kind, req, res);
    const reply = badJson
      ? new ShotgunFault('Invalid JSON in request body', ErrorCode.API).toBody()
      : signed(parsed, api.call(parsed), media);
    if (methodName === 'read') stats.rows(parsed, reply);
    if (fault?.after) return inject(fault.kind, req, res);
    await sendJson(req, res, reply, closing);
  }

  function inject(kind: FaultKind, req: IncomingMessage, res: ServerResponse): void {
    stats.fault(kind);
    switch (kind) {
      case 'reset': req.socket.destroy(); return;
      case 'timeout':
        hung.add(res);
        res.on('close', () => hung.delete(res));
        return;
      case 'http429': case 'http502': case 'http503': case 'http504': {
        const status = Number(kind.slice(4));
        const text = status === 429 ? 'Too Many Requests' : status === 503 ? 'Service Unavailable' : status === 502 ? 'Bad Gateway' : 'Gateway Timeout';
        const headers: Record<string, string> = { 'content-type': 'text/html; charset=utf-8' };
        if (status === 429) headers['retry-after'] = '1';
        res.writeHead(status, headers);
        res.end(`<html><body><h1>${status} ${text}</h1></body></html>`);
      }
    }
  }

  const sockets = new Set<Socket>();
  server.on('connection', (s) => { if (chaos.dropsConnection(s)) return; sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => { server.off('error', rej); res(); });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host ?? '127.0.0.1';
  origin = `http://${host}:${port}`;

  return {
    url: `http://${host}:${port}`, port, control, chaos, schema, seedMs,
    credentials: { scriptName: scripts[0]?.name ?? '', scriptKey: scripts[0]?.key ?? '' },
    async close() {
      if (closing) return;
      closing = true;
      const done = new Promise<void>((r) => server.close(() => r()));
      for (const res of hung) res.destroy();
      chaos.release();
      server.closeIdleConnections();
      setTimeout(() => { for (const s of sockets) s.destroy(); }, 200).unref();
      await done;
      events.close();
      await snapshot?.close();
    },
  };
}

/** Methods whose replies carry stored values: their media URLs are issued as a hosted site does (not EventLogEntry meta). */
const SIGNED_METHODS = new Set(['read', 'create', 'update', 'batch']);

function signed(body: unknown, out: { method: string; reply: RpcReply }, media: MediaUrls): RpcReply {
  if (!SIGNED_METHODS.has(out.method) || !('results' in out.reply)) return out.reply;
  const p = (body as { params?: unknown[] }).params?.[1] as { type?: unknown } | undefined;
  if (out.method === 'read' && p?.type === 'EventLogEntry') return out.reply;
  return { results: media.sign(out.reply.results) };
}

function withPending(s: ReturnType<SiteStore['toSnapshot']>, pending: StoredEntity[]): ReturnType<SiteStore['toSnapshot']> {
  if (pending.length === 0) return s;
  const rows = [...(s.entities.EventLogEntry ?? []), ...pending.map((e) => [e.id, 0, e.values] as [number, number, Record<string, unknown>])];
  rows.sort((a, b) => a[0] - b[0]);
  return { ...s, entities: { ...s.entities, EventLogEntry: rows } };
}

/** Every configured script has its ApiUser (created without events, as site configuration). */
function ensureScriptUsers(store: SiteStore, scripts: readonly ScriptCredential[], now: () => Date): void {
  for (const s of scripts) {
    const existing = store.all('ApiUser').find((u) => u.values.firstname === s.name && !u.retired);
    if (existing) { existing.values.generate_event_log_entries = s.generateEvents; continue; }
    const at = now().toISOString().replace(/\.\d{3}Z$/, 'Z');
    store.insert({ type: 'ApiUser', id: store.allocateId('ApiUser'), retired: false, values: {
      firstname: s.name, lastname: '1.0', description: `Script ${s.name}`, generate_event_log_entries: s.generateEvents, created_at: at, updated_at: at,
    } });
  }
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) tooBig = true; else chunks.push(c);
    });
    req.on('end', () => resolveBody(tooBig ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function sendJson(req: IncomingMessage, res: ServerResponse, value: unknown, closing: boolean): Promise<void> {
  let body = Buffer.from(JSON.stringify(value), 'utf8');
  const headers: Record<string, string | number> = { 'content-type': 'application/json; charset=utf-8' };
  if (/\bgzip\b/i.test(String(req.headers['accept-encoding'] ?? ''))) {
    body = await gzipAsync(body);
    headers['content-encoding'] = 'gzip';
  }
  headers['content-length'] = body.length;
  if (closing) headers.connection = 'close';
  if (res.destroyed) return;
  res.writeHead(200, headers);
  res.end(body);
}

/** A JSON object from an environment variable, checked by `schema`; undefined when unset. Throws on a malformed value. */
function jsonEnv<S extends z.ZodType>(env: NodeJS.ProcessEnv, name: string, schema: S): z.infer<S> | undefined {
  const text = env[name];
  if (!text) return undefined;
  let raw: unknown;
  try { raw = JSON.parse(text); } catch { throw new Error(`${name} must be a JSON object (got '${text}')`); }
  const r = schema.safeParse(raw);
  if (!r.success) throw new Error(`${name}: ${r.error.issues[0].path.join('.') || 'value'}: ${r.error.issues[0].message}`);
  return r.data;
}

/** Options from the environment, for `npx fpt-cache sim` and the local stack. Throws on a malformed value. */
export function simOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): SimSiteOptions {
  const num = (name: string, min: number): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || !Number.isInteger(n)) throw new Error(`${name} must be an integer >= ${min} (got '${raw}')`);
    return n;
  };
  const opts: SimSiteOptions = { port: num('SIM_PORT', 0) ?? 8020 };
  const latency = num('SIM_LATENCY_MS', 0);
  if (latency !== undefined) opts.latencyMs = latency;
  const jitter = num('SIM_JITTER_MS', 0);
  if (jitter !== undefined) opts.jitterMs = jitter;
  const entities = num('SIM_ENTITIES', 1);
  if (entities !== undefined) opts.entities = entities;
  const history = num('SIM_EVENT_HISTORY', 0);
  if (history !== undefined) opts.eventHistory = history;
  const seed = num('SIM_SEED', 0);
  if (seed !== undefined) opts.seed = seed;
  if (env.SIM_MIX) {
    if (!Object.hasOwn(MIXES, env.SIM_MIX)) throw new Error(`SIM_MIX must be one of ${Object.keys(MIXES).join(', ')} (got '${env.SIM_MIX}')`);
    opts.mix = env.SIM_MIX as SeedMix;
  }
  if (env.DATA_DIR) opts.dataDir = join(env.DATA_DIR, 'sim');
  if (env.SIM_LEGACY_VERSION === '1' || env.SIM_LEGACY_VERSION === 'true') opts.legacyVersion = true;
  const delayMs = num('SIM_EVENT_DELAY_MS', 0);
  if (delayMs !== undefined) {
    const p = env.SIM_EVENT_DELAY_PROBABILITY === undefined || env.SIM_EVENT_DELAY_PROBABILITY === '' ? 0.1 : Number(env.SIM_EVENT_DELAY_PROBABILITY);
    if (!(p >= 0 && p <= 1)) throw new Error(`SIM_EVENT_DELAY_PROBABILITY must be between 0 and 1 (got '${env.SIM_EVENT_DELAY_PROBABILITY}')`);
    opts.eventDelay = { probability: p, delayMs };
  }
  const semantics = jsonEnv(env, 'SIM_SEMANTICS', SimSemanticsSchema);
  if (semantics) opts.semantics = semantics;
  const stamps = jsonEnv(env, 'SIM_STAMPS', SimWriteStampsSchema);
  if (stamps) opts.stamps = stamps;
  const media = jsonEnv(env, 'SIM_MEDIA', MediaSettingsSchema);
  if (media) opts.media = media;
  const s3Uploads = jsonEnv(env, 'SIM_S3_UPLOADS', S3UploadSettingsSchema);
  if (s3Uploads) opts.s3Uploads = s3Uploads;
  const name = env.SHOTGUN_SCRIPT_NAME;
  const key = env.SHOTGUN_SCRIPT_KEY;
  if (name || key) {
    if (!name || !key) throw new Error('SHOTGUN_SCRIPT_NAME and SHOTGUN_SCRIPT_KEY must be set together');
    opts.scripts = [{ name, key, generateEvents: true }];
  }
  return opts;
}
