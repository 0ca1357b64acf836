// "Identical" for replies that carry signed URLs (issue 14 item 3): the same objects (URL without its query) and every signature of the cache's reply valid for at least the margin; everything else byte-identical.
import { DEFAULT_SIGNED_URL_MARGIN_S, expiresAt, isSignedUrl, objectOf } from '../../shared/site/index.js';

/** A JSON string literal holding a URL with a query (what a signed URL is on the wire). */
const URL_LITERAL = /"(https?:\/\/[^"?#]+\?[^"]*)"/g;

export interface SameAnswerOptions {
  /** The clock signatures are judged by (default: the real one). */
  nowMs?: number;
  /** Default SIGNED_URL_MARGIN_S's default. */
  marginMs?: number;
}

/** The reply text with every signed URL replaced by its object (everything else untouched, byte for byte). */
export function withObjects(text: string): string {
  return text.replace(URL_LITERAL, (m, url: string) => (isSignedUrl(url) ? `"${objectOf(url)}"` : m));
}

/** Why the cache's reply is not the site's in this sense, or undefined when it is. */
export function answerDifference(cache: Buffer | string, site: Buffer | string, o: SameAnswerOptions = {}): string | undefined {
  const a = cache.toString();
  const b = site.toString();
  if (a === b) return undefined;
  const x = withObjects(a);
  const y = withObjects(b);
  if (x !== y) {
    let i = 0;
    while (x[i] === y[i]) i++;
    return `differ at byte ${i}: cache …${x.slice(Math.max(0, i - 80), i + 80)}… site …${y.slice(Math.max(0, i - 80), i + 80)}…`;
  }
  const until = (o.nowMs ?? Date.now()) + (o.marginMs ?? DEFAULT_SIGNED_URL_MARGIN_S * 1000);
  const signed = (text: string) => [...text.matchAll(URL_LITERAL)].map((m) => m[1]).filter(isSignedUrl);
  const mine = signed(a);
  if (mine.length !== signed(b).length) return `signed on one side only (${mine.length} signed URLs in the cache's reply, ${signed(b).length} in the site's)`;
  for (const u of mine) if (!(expiresAt(u) >= until)) return `signature valid for less than the margin: ${u}`;
  return undefined;
}

/** Whether the cache's reply is the site's: byte-identical, or differing only in signatures valid for the margin. */
export function sameAnswer(cache: Buffer | string, site: Buffer | string, o: SameAnswerOptions = {}): boolean {
  return answerDifference(cache, site, o) === undefined;
}
