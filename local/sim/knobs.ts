// The sim's test and benchmark knobs: latency, injected transport faults (by rate or queued), the info version switch, and request stats.
import { z } from 'zod';
import { Prng } from './prng.js';
import { DEFAULT_SIM_SEMANTICS, SimSemanticsSchema, type SimSemantics, type SimSemanticsInput } from './site-semantics.js';
import { DEFAULT_WRITE_STAMPS, SimWriteStampsSchema, type SimWriteStamps, type SimWriteStampsInput } from './write-stamps.js';

export const FAULT_KINDS = ['http502', 'http503', 'http504', 'http429', 'timeout', 'reset'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
export const FaultKindSchema = z.enum(FAULT_KINDS);

/** "Fail the next `count` requests (of `method`, if given) with `kind`"; `after`: answer only after the request ran (a write lands, the reply is lost). */
export const FaultRuleSchema = z
  .object({
    kind: FaultKindSchema,
    count: z.number().int().min(1).default(1),
    method: z.string().min(1).optional(),
    after: z.boolean().default(false),
  })
  .strict();
export type FaultRule = z.infer<typeof FaultRuleSchema>;
export type FaultRuleInput = z.input<typeof FaultRuleSchema>;

export const FaultRatesSchema = z
  .object(Object.fromEntries(FAULT_KINDS.map((k) => [k, z.number().min(0).max(1).optional()])) as Record<FaultKind, z.ZodOptional<z.ZodNumber>>)
  .strict();
export type FaultRates = Partial<Record<FaultKind, number>>;

export interface InjectedFault {
  kind: FaultKind;
  after: boolean;
}

export class Knobs {
  latencyMs = 0;
  jitterMs = 0;
  legacyVersion = false;
  faultRates: FaultRates = {};
  queue: FaultRule[] = [];
  /** How the site reads where hosted sites may differ (local/sim/site-semantics.ts). */
  semantics: SimSemantics;
  /** Whether back-references and revives move updated_at (local/sim/write-stamps.ts). */
  stamps: SimWriteStamps;
  private readonly prng: Prng;
  private readonly initial: {
    latencyMs: number;
    jitterMs: number;
    legacyVersion: boolean;
    faultRates: FaultRates;
    semantics: SimSemantics;
    stamps: SimWriteStamps;
  };

  constructor(opts: {
    latencyMs?: number;
    jitterMs?: number;
    legacyVersion?: boolean;
    faultRates?: FaultRates;
    semantics?: SimSemanticsInput;
    stamps?: SimWriteStampsInput;
    seed: number;
  }) {
    this.latencyMs = opts.latencyMs ?? 0;
    this.jitterMs = opts.jitterMs ?? 0;
    this.legacyVersion = opts.legacyVersion ?? false;
    this.faultRates = { ...opts.faultRates };
    this.semantics = { ...DEFAULT_SIM_SEMANTICS, ...SimSemanticsSchema.parse(opts.semantics ?? {}) };
    this.stamps = { ...DEFAULT_WRITE_STAMPS, ...SimWriteStampsSchema.parse(opts.stamps ?? {}) };
    this.initial = {
      latencyMs: this.latencyMs,
      jitterMs: this.jitterMs,
      legacyVersion: this.legacyVersion,
      faultRates: { ...this.faultRates },
      semantics: { ...this.semantics },
      stamps: { ...this.stamps },
    };
    this.prng = new Prng(opts.seed ^ 0xfa17);
  }

  /** The delay for one request: latencyMs plus a uniform draw in [0, jitterMs]. */
  latency(): number {
    return this.latencyMs + (this.jitterMs > 0 ? this.prng.next() * this.jitterMs : 0);
  }

  failNext(rule: FaultRuleInput): void {
    this.queue.push(FaultRuleSchema.parse(rule));
  }

  /** Changes some semantics knobs; the others keep their values. */
  setSemantics(patch: SimSemanticsInput): void {
    this.semantics = { ...this.semantics, ...SimSemanticsSchema.parse(patch) };
  }

  /** Changes whether back-references / revives move updated_at; unset keys keep their values. */
  setStamps(patch: SimWriteStampsInput): void {
    this.stamps = { ...this.stamps, ...SimWriteStampsSchema.parse(patch) };
  }

  /** The fault to inject into this request, if any: queued rules first (in order), then the random rates. */
  nextFault(method: string): InjectedFault | undefined {
    const i = this.queue.findIndex((r) => r.method === undefined || r.method === method);
    if (i >= 0) {
      const r = this.queue[i];
      r.count--;
      if (r.count <= 0) this.queue.splice(i, 1);
      return { kind: r.kind, after: r.after };
    }
    for (const k of FAULT_KINDS) {
      const p = this.faultRates[k] ?? 0;
      if (p > 0 && this.prng.chance(p)) return { kind: k, after: false };
    }
    return undefined;
  }

  /** Back to the values the site started with; queued faults dropped. */
  reset(): void {
    this.latencyMs = this.initial.latencyMs;
    this.jitterMs = this.initial.jitterMs;
    this.legacyVersion = this.initial.legacyVersion;
    this.faultRates = { ...this.initial.faultRates };
    this.semantics = { ...this.initial.semantics };
    this.stamps = { ...this.initial.stamps };
    this.queue = [];
  }

  describe(): Record<string, unknown> {
    return {
      latencyMs: this.latencyMs,
      jitterMs: this.jitterMs,
      legacyVersion: this.legacyVersion,
      faultRates: { ...this.faultRates },
      queuedFaults: this.queue.map((r) => ({ ...r })),
      semantics: { ...this.semantics },
      stamps: { ...this.stamps },
    };
  }
}

/** Request counters, readable at GET /__sim/stats. */
export class SimStats {
  requests = 0;
  byMethod: Record<string, number> = {};
  /** `read` calls per entity type (what a sync step cost the site, EventLogEntry polls apart), and those asking for `id` alone. */
  readsByType: Record<string, number> = {};
  idReadsByType: Record<string, number> = {};
  /** Entities `read` returned per entity type, and those returned with more than `id`. */
  rowsByType: Record<string, number> = {};
  fieldRowsByType: Record<string, number> = {};
  faults: Partial<Record<FaultKind, number>> = {};
  /** Latency applied to the most recent request, and the total. */
  lastLatencyMs = 0;
  totalLatencyMs = 0;

  count(method: string, read?: { type?: unknown; return_fields?: unknown }): void {
    this.requests++;
    this.byMethod[method] = (this.byMethod[method] ?? 0) + 1;
    if (typeof read?.type !== 'string') return;
    this.readsByType[read.type] = (this.readsByType[read.type] ?? 0) + 1;
    const f = read.return_fields;
    if (Array.isArray(f) && f.every((x) => x === 'id')) this.idReadsByType[read.type] = (this.idReadsByType[read.type] ?? 0) + 1;
  }

  /** Counts the entities a read's reply carries. */
  rows(body: unknown, reply: unknown): void {
    const p = (body as { params?: Array<{ type?: unknown; return_fields?: unknown }> }).params?.[1];
    const n = (reply as { results?: { entities?: unknown[] } }).results?.entities?.length ?? 0;
    if (typeof p?.type !== 'string' || !n) return;
    this.rowsByType[p.type] = (this.rowsByType[p.type] ?? 0) + n;
    const f = p.return_fields;
    if (!(Array.isArray(f) && f.every((x) => x === 'id'))) this.fieldRowsByType[p.type] = (this.fieldRowsByType[p.type] ?? 0) + n;
  }

  fault(kind: FaultKind): void {
    this.faults[kind] = (this.faults[kind] ?? 0) + 1;
  }

  latency(ms: number): void {
    this.lastLatencyMs = ms;
    this.totalLatencyMs += ms;
  }

  reset(): void {
    this.requests = 0;
    this.byMethod = {};
    this.readsByType = {};
    this.idReadsByType = {};
    this.rowsByType = {};
    this.fieldRowsByType = {};
    this.faults = {};
    this.lastLatencyMs = 0;
    this.totalLatencyMs = 0;
  }

  toJSON(): Record<string, unknown> {
    return {
      requests: this.requests,
      byMethod: { ...this.byMethod },
      readsByType: { ...this.readsByType },
      idReadsByType: { ...this.idReadsByType },
      rowsByType: { ...this.rowsByType },
      fieldRowsByType: { ...this.fieldRowsByType },
      faults: { ...this.faults },
      lastLatencyMs: this.lastLatencyMs,
      totalLatencyMs: this.totalLatencyMs,
    };
  }
}
