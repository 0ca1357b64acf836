// The sim's outages: the whole site down (its maintenance 503, connections reset, or no answer at all), flapping, only the event log failing, and the event log trimmed by retention.
//
// Unlike the knobs' fault queue (one injected fault per request), these are states: they hold until changed. Tests set
// them through `sim.chaos`; `npm start` users through POST /__sim/chaos with the same fields ({"down": "maintenance"},
// {"down": null}, {"flap": {"upMs": 2000, "downMs": 2000}}, {"eventLog": "fault"}, {"trimBelow": 1200}); GET /__sim/chaos
// describes the state and counts what was refused.
import { z } from 'zod';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { SiteStore } from './store.js';

export const DOWN_MODES = ['maintenance', 'reset', 'hang'] as const;
export type DownMode = (typeof DOWN_MODES)[number];

export const ChaosPatchSchema = z
  .object({
    /** The whole API down: `maintenance` (HTTP 503 and the site's maintenance page), `reset` (connections dropped), `hang` (never answers); null: up. */
    down: z.enum(DOWN_MODES).nullable().optional(),
    /** Alternates up and down (`mode`, default maintenance) from now on; null stops flapping. */
    flap: z
      .object({ upMs: z.number().int().min(1), downMs: z.number().int().min(1), mode: z.enum(DOWN_MODES).optional() })
      .strict()
      .nullable()
      .optional(),
    /** Only reads of EventLogEntry fail: `fault` (the site's generic API fault), `hang`; null: they work. */
    eventLog: z.enum(['fault', 'hang']).nullable().optional(),
    /** Retention: every EventLogEntry row with a lower id is gone for good (the oldest readable id moves up). */
    trimBelow: z.number().int().min(1).optional(),
  })
  .strict();
export type ChaosPatch = z.input<typeof ChaosPatchSchema>;

const MAINTENANCE_PAGE =
  '<!DOCTYPE html><html><head><title>Down for maintenance</title></head>' +
  '<body><h1>Flow Production Tracking is down for scheduled maintenance</h1><p>We will be back shortly.</p></body></html>';

export class SiteChaos {
  private down: DownMode | null = null;
  private flap: { upMs: number; downMs: number; mode: DownMode; from: number } | null = null;
  private eventLog: 'fault' | 'hang' | null = null;
  private readonly hung = new Set<ServerResponse>();
  readonly counts = { refused: 0, eventLogFailed: 0, trimmed: 0 };

  constructor(
    private readonly store: SiteStore,
    private readonly now: () => number = Date.now,
  ) {}

  apply(patch: ChaosPatch): Record<string, unknown> {
    const p = ChaosPatchSchema.parse(patch);
    if (p.down !== undefined) {
      this.down = p.down;
      if (p.down === null) this.release();
    }
    if (p.flap !== undefined) this.flap = p.flap && { upMs: p.flap.upMs, downMs: p.flap.downMs, mode: p.flap.mode ?? 'maintenance', from: this.now() };
    if (p.eventLog !== undefined) {
      this.eventLog = p.eventLog;
      if (p.eventLog === null) this.release();
    }
    if (p.trimBelow !== undefined) this.counts.trimmed += this.store.dropBelow('EventLogEntry', p.trimBelow);
    return this.describe();
  }

  /** Up again: no outage, no flapping, the event log readable (trimmed rows stay gone); hung requests are dropped. */
  clear(): void {
    this.apply({ down: null, flap: null, eventLog: null });
  }

  describe(): Record<string, unknown> {
    return {
      down: this.currentDown(),
      flap: this.flap && { upMs: this.flap.upMs, downMs: this.flap.downMs, mode: this.flap.mode },
      eventLog: this.eventLog,
      ...this.counts,
    };
  }

  /** Whether a new connection is dropped at once (down with `reset`). */
  dropsConnection(socket: Socket): boolean {
    if (this.currentDown() !== 'reset') return false;
    this.counts.refused++;
    socket.destroy();
    return true;
  }

  /**
   * Answers an API request itself when the site is down or the request reads a failing event log; false lets the
   * site answer. `isEventLogRead` is judged on the parsed body.
   */
  intercept(req: IncomingMessage, res: ServerResponse, body: unknown): boolean {
    const down = this.currentDown();
    if (down) {
      this.counts.refused++;
      if (down === 'maintenance') {
        res.writeHead(503, { 'content-type': 'text/html; charset=utf-8', 'retry-after': '120' });
        res.end(MAINTENANCE_PAGE);
      } else if (down === 'reset') req.socket.destroy();
      else this.hang(res);
      return true;
    }
    if (this.eventLog && isEventLogRead(body)) {
      this.counts.eventLogFailed++;
      if (this.eventLog === 'hang') this.hang(res);
      else {
        const b = JSON.stringify({ exception: true, message: 'API read() Internal error: the query timed out', error_code: 103 });
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(b) });
        res.end(b);
      }
      return true;
    }
    return false;
  }

  /** Serves /__sim/chaos (GET: the state; POST: a ChaosPatch). */
  handleHttp(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const send = (status: number, v: unknown) => {
      const b = Buffer.from(JSON.stringify(v));
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': b.length });
      res.end(b);
    };
    if (req.method === 'GET') return send(200, this.describe());
    try {
      const r = ChaosPatchSchema.safeParse(body.length ? JSON.parse(body.toString('utf8')) : {});
      if (!r.success) return send(400, { error: `${r.error.issues[0].path.join('.') || 'body'}: ${r.error.issues[0].message}` });
      return send(200, this.apply(r.data));
    } catch (e) {
      return send(400, { error: (e as Error).message });
    }
  }

  /** Drops every request left hanging (on recovery and when the site closes). */
  release(): void {
    for (const res of this.hung) res.destroy();
    this.hung.clear();
  }

  private currentDown(): DownMode | null {
    if (this.down) return this.down;
    const f = this.flap;
    if (!f) return null;
    const phase = (this.now() - f.from) % (f.upMs + f.downMs);
    return phase < f.upMs ? null : f.mode;
  }

  private hang(res: ServerResponse): void {
    this.hung.add(res);
    res.on('close', () => this.hung.delete(res));
  }
}

function isEventLogRead(body: unknown): boolean {
  const b = body as { method_name?: unknown; params?: unknown[] } | null;
  return b?.method_name === 'read' && (b.params?.[1] as { type?: unknown } | undefined)?.type === 'EventLogEntry';
}
