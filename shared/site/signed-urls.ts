// Volatile values the site hands out: signed, expiring media URLs (S3 presigned, SigV4 or SigV2) and the transient "thumbnail pending" placeholder.
//
// The site returns `image` fields, and upload url values, as URLs signed for a while (`X-Amz-Date` + `X-Amz-Expires`,
// or the older `Expires=<epoch>`), re-signed now and then for the same object. For the cache, two such values are the
// same when they name the same object (the URL without its query); a stored one is servable while its signature stays
// valid for a margin. A thumbnail not processed yet reads as the site's placeholder
// (`<protocol>://<domain>/images/status/transient/thumbnail_pending.png`, python-api docs/reference.rst "Interpreting
// Image Field Strings"; any URL under /images/status/transient/ is transient): never a value to keep.

/** Path prefix of the site's transient thumbnails (python-api recommends matching the prefix, not the file name). */
export const TRANSIENT_IMAGE_PATH = '/images/status/transient/';
/** The default margin: a stored signature must stay valid this long to be served (SIGNED_URL_MARGIN_S). */
export const DEFAULT_SIGNED_URL_MARGIN_S = 600;

const SIGV4_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** A string that carries a signature: S3 SigV4 (`X-Amz-Signature=`) or SigV2 (`Signature=` with `Expires=`). */
export function isSignedUrl(s: string): boolean {
  return s.includes('X-Amz-Signature=') || (/[?&]Signature=/.test(s) && /[?&]Expires=/.test(s));
}

/** Whether a string is the site's transient placeholder (a thumbnail not processed yet). */
export function isPlaceholder(s: string): boolean {
  if (!s.includes(TRANSIENT_IMAGE_PATH)) return false;
  try {
    return new URL(s).pathname.startsWith(TRANSIENT_IMAGE_PATH);
  } catch {
    return false;
  }
}

/** The object a URL names: the URL without its query (and fragment). */
export function objectOf(url: string): string {
  const q = url.search(/[?#]/);
  return q < 0 ? url : url.slice(0, q);
}

/** When a signed URL stops working (ms since the epoch), from its own date and expiry; NaN when it does not say. */
export function expiresAt(url: string): number {
  let q: URLSearchParams;
  try {
    q = new URL(url).searchParams;
  } catch {
    return NaN;
  }
  const date = q.get('X-Amz-Date');
  const expires = q.get('X-Amz-Expires');
  if (date !== null || expires !== null) {
    const m = SIGV4_DATE.exec(date ?? '');
    const seconds = Number(expires);
    if (!m || expires === null || !/^\d+$/.test(expires)) return NaN;
    return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) + seconds * 1000;
  }
  const epoch = q.get('Expires');
  return epoch !== null && /^\d+$/.test(epoch) ? Number(epoch) * 1000 : NaN;
}

/** What an answer's volatile values say: how many signed URLs, the earliest expiry (Infinity: none), any placeholder. */
export interface Volatility {
  signed: number;
  earliestMs: number;
  placeholder: boolean;
}

/** Visits every string of a JSON value. */
function eachString(v: unknown, fn: (s: string) => void): void {
  if (typeof v === 'string') fn(v);
  else if (Array.isArray(v)) for (const x of v) eachString(x, fn);
  else if (typeof v === 'object' && v !== null) for (const x of Object.values(v)) eachString(x, fn);
}

/** The volatility of a JSON value (an answer, an entity, a field value). An unreadable expiry counts as already expired. */
export function volatility(v: unknown): Volatility {
  const out: Volatility = { signed: 0, earliestMs: Infinity, placeholder: false };
  eachString(v, (s) => {
    if (isSignedUrl(s)) {
      out.signed++;
      const at = expiresAt(s);
      out.earliestMs = Math.min(out.earliestMs, Number.isNaN(at) ? -Infinity : at);
    } else if (isPlaceholder(s)) out.placeholder = true;
  });
  return out;
}

/** Whether a JSON text may hold volatile values at all (a cheap test before parsing or walking it). */
export function mayBeVolatile(text: string): boolean {
  return text.includes('Signature=') || text.includes(TRANSIENT_IMAGE_PATH);
}

/**
 * Why an answer cannot be served at `nowMs` with `marginMs`: `thumbnail-pending` (it holds the placeholder) or
 * `signed-url-expiring` (a signature expires within the margin); undefined when it can.
 */
export function volatileVerdict(v: unknown, nowMs: number, marginMs: number): 'thumbnail-pending' | 'signed-url-expiring' | undefined {
  const x = volatility(v);
  if (x.placeholder) return 'thumbnail-pending';
  if (x.signed > 0 && x.earliestMs < nowMs + marginMs) return 'signed-url-expiring';
  return undefined;
}

/** A JSON value with every signed URL replaced by its object: equal for two values that differ only in signatures. */
export function withoutSignatures(v: unknown): unknown {
  if (typeof v === 'string') return isSignedUrl(v) ? objectOf(v) : v;
  if (Array.isArray(v)) return v.map(withoutSignatures);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withoutSignatures(x)]));
  return v;
}

/** Whether two JSON values are equal once every signed URL is replaced by its object (they differ at most in signatures). */
export function sameObjects(a: unknown, b: unknown): boolean {
  return JSON.stringify(withoutSignatures(a)) === JSON.stringify(withoutSignatures(b));
}

/**
 * Whether `incoming` (a value relayed from the site) may replace `stored`: the same objects, everything else equal,
 * signed, and valid longer than the stored one. Never a different object (only the sync pipeline changes values).
 */
export function renews(stored: unknown, incoming: unknown): boolean {
  const inc = volatility(incoming);
  if (inc.signed === 0 || inc.placeholder || !Number.isFinite(inc.earliestMs)) return false;
  if (!sameObjects(stored, incoming)) return false;
  return inc.earliestMs > volatility(stored).earliestMs;
}

/** Until when (ms) an answer holding `v` may be served with `marginMs`: Infinity without signed URLs, -Infinity with a placeholder. */
export function servableUntil(v: unknown, marginMs: number): number {
  const x = volatility(v);
  if (x.placeholder) return -Infinity;
  return x.signed > 0 ? x.earliestMs - marginMs : Infinity;
}
