// The sim's media URLs as a hosted site hands them out: stored objects signed at read time (S3 presigned, SigV4 style) on a virtual clock, and the "thumbnail pending" placeholder.
//
// Values are stored plain (`https://sg-media-sim.example.com/<object path>`); every reply that carries one (read,
// create, update, batch) gets it signed for `expiresS` seconds, dated at the start of the current signing window
// (`windowS`): the same object reads with the same signature within a window and a new one in the next. Thumbnails
// (object paths under /thumbnail/) listed as pending, or drawn by `pendingShare`, read as the site's transient
// placeholder instead. Assumptions about hosted sites (expiry, re-sign period): docs/sim.md "Media URLs".
import { createHmac } from 'node:crypto';
import { z } from 'zod';

/** Where the sim's media objects live (the stand-in for the site's S3 bucket). */
export const MEDIA_ORIGIN = 'https://sg-media-sim.example.com';
/** The placeholder's path on the site's own host (python-api docs/reference.rst). */
export const PENDING_PATH = '/images/status/transient/thumbnail_pending.png';
const SECRET = 'fpt-cache-sim-media-signing-key';
const ACCESS_KEY = 'AKIASIMULATEDMEDIA00';

export const MediaSettingsSchema = z
  .object({
    /** How long a signature is valid (X-Amz-Expires). */
    expiresS: z.number().int().min(1).max(604_800).optional(),
    /** A new signature per window of this many seconds (X-Amz-Date = the window's start). */
    windowS: z.number().int().min(1).optional(),
    /** Share of thumbnails (by object, deterministically) not processed yet: they read as the placeholder. */
    pendingShare: z.number().min(0).max(1).optional(),
    /** false: media URLs read as stored, unsigned (a site that hands out plain URLs). */
    signed: z.boolean().optional(),
    /** Objects (media URLs without query) whose thumbnail is not processed yet. */
    pending: z.array(z.string()).optional(),
    /** How long an uploaded thumbnail reads as the placeholder before it is "processed" (hosted sites: seconds; unknown exactly). */
    processingS: z.number().min(0).optional(),
  })
  .strict();
export type MediaSettings = Required<z.infer<typeof MediaSettingsSchema>>;
export type MediaSettingsInput = z.input<typeof MediaSettingsSchema>;

export const DEFAULT_MEDIA: MediaSettings = { expiresS: 3600, windowS: 900, signed: true, pendingShare: 0, pending: [], processingS: 5 };

/** Control patch: settings, plus the virtual clock (`advanceS` moves it, `at` sets it; both only the signing clock). */
export const MediaPatchSchema = MediaSettingsSchema.extend({
  advanceS: z.number().optional(),
  at: z.iso.datetime().optional(),
}).strict();
export type MediaPatch = z.input<typeof MediaPatchSchema>;

const amzDate = (ms: number) =>
  new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');

/** A deterministic draw in [0, 1) per object. */
function draw(object: string): number {
  return createHmac('sha256', SECRET).update(object).digest().readUInt32BE(0) / 2 ** 32;
}

export class MediaUrls {
  settings: MediaSettings;
  /** Added to the base clock (the virtual clock of the signer). */
  offsetMs = 0;
  private readonly initial: MediaSettings;
  /** Uploaded thumbnails still processing: object -> when they are done (signing clock, ms). */
  private readonly processingUntil = new Map<string, number>();

  constructor(
    private readonly base: () => Date,
    private readonly siteOrigin: () => string,
    settings: MediaSettingsInput = {},
  ) {
    this.settings = { ...DEFAULT_MEDIA, ...MediaSettingsSchema.parse(settings) };
    this.initial = { ...this.settings, pending: [...this.settings.pending] };
  }

  now(): number {
    return this.base().getTime() + this.offsetMs;
  }

  apply(patch: MediaPatch): void {
    const p = MediaPatchSchema.parse(patch);
    const { advanceS, at, ...settings } = p;
    this.settings = { ...this.settings, ...settings };
    if (at !== undefined) this.offsetMs = Date.parse(at) - this.base().getTime();
    if (advanceS !== undefined) this.offsetMs += advanceS * 1000;
  }

  reset(): void {
    this.settings = { ...this.initial, pending: [...this.initial.pending] };
    this.offsetMs = 0;
  }

  describe(): Record<string, unknown> {
    return { ...this.settings, clock: new Date(this.now()).toISOString() };
  }

  /** A thumbnail just uploaded: it reads as the placeholder for `processingS` seconds. */
  processing(object: string): void {
    this.processingUntil.set(object, this.now() + this.settings.processingS * 1000);
  }

  private isProcessing(object: string): boolean {
    const until = this.processingUntil.get(object);
    if (until === undefined) return false;
    if (until > this.now()) return true;
    this.processingUntil.delete(object);
    return false;
  }

  /** The URL a stored value reads as now: signed, the placeholder, or unchanged (not a plain media URL). */
  issue(stored: string): string {
    if (!stored.startsWith(`${MEDIA_ORIGIN}/`) || /[?#]/.test(stored)) return stored;
    const path = stored.slice(MEDIA_ORIGIN.length);
    if (path.startsWith('/thumbnail/') && (this.settings.pending.includes(stored) || this.isProcessing(stored) || draw(stored) < this.settings.pendingShare)) {
      return `${this.siteOrigin()}${PENDING_PATH}`;
    }
    if (!this.settings.signed) return stored;
    const windowMs = this.settings.windowS * 1000;
    const dated = Math.floor(this.now() / windowMs) * windowMs;
    const date = amzDate(dated);
    const expires = String(this.settings.expiresS);
    const signature = createHmac('sha256', SECRET).update(`${stored}\n${date}\n${expires}`).digest('hex');
    const credential = encodeURIComponent(`${ACCESS_KEY}/${date.slice(0, 8)}/us-west-2/s3/aws4_request`);
    return (
      `${stored}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${credential}&X-Amz-Date=${date}` +
      `&X-Amz-Expires=${expires}&X-Amz-SignedHeaders=host&X-Amz-Signature=${signature}`
    );
  }

  /** A reply's results with every stored media URL issued (a copy; other values untouched). */
  sign(v: unknown): unknown {
    if (typeof v === 'string') return this.issue(v);
    if (Array.isArray(v)) return v.map((x) => this.sign(x));
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, this.sign(x)]));
    return v;
  }
}
