// The sim's control surface: the programmatic SimControl for tests and the local-only HTTP endpoints /__sim/control, /__sim/stats, /__sim/reset.
import { z } from 'zod';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FaultRatesSchema, FaultRuleSchema, type FaultRates, type FaultRuleInput, type Knobs, type SimStats } from './knobs.js';
import type { EventDelay, EventLog } from './event-log.js';
import type { SiteAuth } from './auth.js';
import type { SiteStore } from './store.js';
import type { SiteSchema } from '../../shared/schema/index.js';
import { FieldChangeSchema, changeField, type FieldChange } from './schema-changes.js';
import { PermissionProfileSchema, type PermissionProfileInput, type SitePermissions } from './permissions.js';
import { SimSemanticsSchema, type SimSemanticsInput } from './site-semantics.js';
import { SimWriteStampsSchema } from './write-stamps.js';
import { CallerFieldsChangeSchema, type CallerFields, type CallerFieldsChange } from './caller-fields.js';
import { MediaPatchSchema, type MediaPatch, type MediaUrls } from './media-urls.js';
import { AuthPolicySchema, DEFAULT_AUTH_POLICY, type AuthPolicyInput } from './auth-policy.js';

export const ControlPatchSchema = z
  .object({
    latencyMs: z.number().min(0).optional(),
    jitterMs: z.number().min(0).optional(),
    legacyVersion: z.boolean().optional(),
    faultRates: FaultRatesSchema.optional(),
    failNext: z.union([FaultRuleSchema, z.array(FaultRuleSchema)]).optional(),
    clearFaults: z.boolean().optional(),
    eventDelay: z
      .object({ probability: z.number().min(0).max(1), delayMs: z.number().min(0) })
      .strict()
      .optional(),
    /** true: hold every write's events until released; a number: hold the next N writes' events. */
    holdEvents: z.union([z.boolean(), z.number().int().min(0)]).optional(),
    releaseEvents: z.boolean().optional(),
    /** true: expire every session token; a string: expire that one. */
    expireSessions: z.union([z.boolean(), z.string()]).optional(),
    /** Changes a field's data type or link targets (logging Shotgun_DisplayColumn_Change), or deletes it: local/sim/schema-changes.ts. */
    changeField: FieldChangeSchema.optional(),
    /** Sets permission profiles (`user:<login>` / `script:<name>` -> profile, or null to remove one): local/sim/permissions.ts. */
    permissions: z.record(z.string().regex(/^(user|script):.+$/), PermissionProfileSchema.nullable()).optional(),
    /** How the site reads where hosted sites may differ (NULL placement, text order, ...): local/sim/site-semantics.ts. */
    semantics: SimSemanticsSchema.optional(),
    /** Whether back-references and revives move updated_at (unknown on hosted sites): local/sim/write-stamps.ts. */
    stamps: SimWriteStampsSchema.optional(),
    /** A user stars a project or opens its page in the web UI (Project.current_user_favorite / last_accessed_by_current_user; no event): local/sim/caller-fields.ts. */
    callerFields: CallerFieldsChangeSchema.optional(),
    /** Signed media URLs: the virtual signing clock (`advanceS`, `at`), expiry, re-sign window, pending thumbnails: local/sim/media-urls.ts. */
    media: MediaPatchSchema.optional(),
    /** Which credential of a mixed params[0] wins, how a user's sudo is refused: local/sim/auth-policy.ts. */
    authPolicy: AuthPolicySchema.optional(),
  })
  .strict();
export type ControlPatch = z.input<typeof ControlPatchSchema>;

export interface ControlDeps {
  knobs: Knobs;
  /** The media URL signer. */
  media: MediaUrls;
  stats: SimStats;
  events: EventLog;
  auth: SiteAuth;
  store: SiteStore;
  permissions: SitePermissions;
  callerFields: CallerFields;
  /** Drops all data and seeds again (POST /__sim/reset {"data": true}). */
  reseed: () => void;
  /** Writes the snapshot file now (no-op without dataDir). */
  flush: () => Promise<void>;
  /** The event delay the site started with (reset returns to it). */
  initialDelay: EventDelay;
  /** The site's own schema (a copy per site: changeField edits it). */
  schema: SiteSchema;
  now: () => Date;
}

export class SimControl {
  constructor(private readonly d: ControlDeps) {}

  setLatency(latencyMs: number, jitterMs = 0): void {
    this.d.knobs.latencyMs = latencyMs;
    this.d.knobs.jitterMs = jitterMs;
  }
  /** Fails the next `count` requests (optionally only of `method`) with `kind`; `after: true` runs the request first. */
  failNext(rule: FaultRuleInput): void {
    this.d.knobs.failNext(rule);
  }
  setFaultRates(rates: FaultRates): void {
    this.d.knobs.faultRates = { ...rates };
  }
  clearFaults(): void {
    this.d.knobs.faultRates = {};
    this.d.knobs.queue = [];
  }
  setLegacyVersion(on: boolean): void {
    this.d.knobs.legacyVersion = on;
  }
  /** Changes how the site reads where hosted sites may differ (docs/sim.md "Site semantics"); unset keys keep their values. */
  setSemantics(patch: SimSemanticsInput): void {
    this.d.knobs.setSemantics(patch);
  }
  /** Holds the events of the next `writes` writes (default: all, until releaseEvents). */
  holdEvents(writes?: number): void {
    this.d.events.hold(writes);
  }
  releaseEvents(): number {
    return this.d.events.release();
  }
  setEventDelay(d: EventDelay): void {
    this.d.events.setDelay(d);
  }
  expireSessions(token?: string): number {
    return this.d.auth.expireSessions(token);
  }
  resetStats(): void {
    this.d.stats.reset();
  }
  /**
   * Changes a field on the site as an admin would in the web UI (in memory only, not in the snapshot): its data
   * type or link targets, values converted, one Shotgun_DisplayColumn_Change logged; or deletes it (no event).
   * Returns the event id (0 when none was logged).
   */
  changeField(change: FieldChange): number {
    const admin = this.d.store.all('HumanUser').find((u) => !u.retired);
    const actor = { user: { type: 'HumanUser', id: admin?.id ?? 0 }, generateEvents: true, sessionUuid: null };
    return changeField({ schema: this.d.schema, store: this.d.store, events: this.d.events, actor, now: this.d.now() }, change);
  }
  flush(): Promise<void> {
    return this.d.flush();
  }
  /** Sets permission profiles (null removes one); in memory only, back to the start profiles on reset. */
  setPermissions(profiles: Record<string, PermissionProfileInput | null>): void {
    this.d.permissions.set(profiles);
  }
  /** A user's favourite flag or last visit of a project changes, as in the web UI (no event); back to the seeded values on reset. */
  setCallerFields(change: CallerFieldsChange): void {
    this.d.callerFields.set(change);
  }

  /** Which credential of a mixed params[0] wins and how a user's sudo_as_login is refused; back to the defaults on reset. */
  setAuthPolicy(policy: AuthPolicyInput): void {
    this.d.auth.policy = AuthPolicySchema.parse(policy);
  }

  /** Signed media URLs: moves or sets the signing clock, changes expiry, window or pending thumbnails. */
  setMedia(patch: MediaPatch): void {
    this.d.media.apply(patch);
  }

  /** Knobs back to their start values, stats zeroed, held/delayed events published; `data: true` also reseeds. */
  reset(opts: { data?: boolean } = {}): void {
    this.d.knobs.reset();
    this.d.events.close();
    this.d.events.setDelay(this.d.initialDelay);
    this.d.stats.reset();
    this.d.permissions.reset();
    this.d.media.reset();
    this.d.callerFields.reset();
    this.d.auth.policy = DEFAULT_AUTH_POLICY;
    if (opts.data) this.d.reseed();
  }

  stats(): Record<string, unknown> {
    return {
      ...this.d.stats.toJSON(),
      knobs: {
        ...this.d.knobs.describe(),
        eventDelay: this.d.events.delaySettings,
        holdingWrites: this.d.events.holding,
        permissions: this.d.permissions.describe(),
        media: this.d.media.describe(),
      },
      pendingEvents: this.d.events.pendingRows(),
      nextEventId: this.d.store.peekNextEventId(),
      entities: this.d.store.counts(),
    };
  }

  /** Applies a control patch (the body of POST /__sim/control). */
  apply(patch: ControlPatch): Record<string, unknown> {
    const p = ControlPatchSchema.parse(patch);
    const k = this.d.knobs;
    if (p.latencyMs !== undefined) k.latencyMs = p.latencyMs;
    if (p.jitterMs !== undefined) k.jitterMs = p.jitterMs;
    if (p.legacyVersion !== undefined) k.legacyVersion = p.legacyVersion;
    if (p.semantics !== undefined) k.setSemantics(p.semantics);
    if (p.stamps !== undefined) k.setStamps(p.stamps);
    if (p.clearFaults) this.clearFaults();
    if (p.faultRates !== undefined) k.faultRates = { ...p.faultRates } as FaultRates;
    if (p.failNext !== undefined) for (const r of Array.isArray(p.failNext) ? p.failNext : [p.failNext]) k.failNext(r);
    if (p.eventDelay !== undefined) this.d.events.setDelay(p.eventDelay);
    let released: number | undefined;
    if (p.releaseEvents) released = this.releaseEvents();
    if (p.holdEvents !== undefined) {
      if (p.holdEvents === false) released = (released ?? 0) + this.releaseEvents();
      else this.holdEvents(p.holdEvents === true ? undefined : p.holdEvents);
    }
    let expired: number | undefined;
    if (p.expireSessions !== undefined && p.expireSessions !== false) expired = this.expireSessions(p.expireSessions === true ? undefined : p.expireSessions);
    if (p.permissions !== undefined) this.setPermissions(p.permissions);
    if (p.callerFields !== undefined) this.setCallerFields(p.callerFields);
    if (p.media !== undefined) this.setMedia(p.media);
    if (p.authPolicy !== undefined) this.setAuthPolicy(p.authPolicy);
    const eventId = p.changeField !== undefined ? this.changeField(p.changeField) : undefined;
    return {
      ok: true,
      ...(released !== undefined ? { released } : {}),
      ...(expired !== undefined ? { expired } : {}),
      ...(eventId !== undefined ? { eventId } : {}),
      stats: this.stats(),
    };
  }

  /** Serves /__sim/* (local stack only). */
  async handleHttp(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): Promise<void> {
    const send = (status: number, v: unknown) => {
      const b = Buffer.from(JSON.stringify(v));
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': b.length });
      res.end(b);
    };
    try {
      const json: unknown = body.length ? JSON.parse(body.toString('utf8')) : {};
      if (path === '/__sim/stats' && req.method === 'GET') return send(200, this.stats());
      if (path === '/__sim/control' && req.method === 'POST') {
        const r = ControlPatchSchema.safeParse(json);
        if (!r.success) return send(400, { error: `${r.error.issues[0].path.join('.') || 'body'}: ${r.error.issues[0].message}` });
        return send(200, this.apply(r.data));
      }
      if (path === '/__sim/reset' && req.method === 'POST') {
        const r = z.object({ data: z.boolean().optional() }).strict().safeParse(json);
        if (!r.success) return send(400, { error: r.error.issues[0].message });
        this.reset(r.data);
        return send(200, { ok: true, stats: this.stats() });
      }
      if (path === '/__sim/flush' && req.method === 'POST') {
        await this.flush();
        return send(200, { ok: true });
      }
      return send(404, { error: `no such control endpoint: ${req.method} ${path}` });
    } catch (e) {
      return send(400, { error: e instanceof Error ? e.message : String(e) });
    }
  }
}
