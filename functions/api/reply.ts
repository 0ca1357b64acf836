// The API's replies as API Gateway HTTP API results: site replies passed through, cache hits, faults, gzip when accepted, the 6 MB limit.
import { isUtf8 } from 'node:buffer';
import { gzipSync } from 'node:zlib';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ErrorCode, ShotgunFault, type RawReply } from '../../shared/site/index.js';

/** Below this size gzip saves nothing worth the CPU and the base64 overhead. */
export const GZIP_MIN_BYTES = 1024;

/** Whether an accept-encoding header admits gzip (a `;q=0` refuses it). */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (!acceptEncoding) return false;
  return acceptEncoding.split(',').some((part) => {
    const [coding, ...params] = part
      .trim()
      .toLowerCase()
      .split(';')
      .map((s) => s.trim());
    if (coding !== 'gzip' && coding !== '*') return false;
    const q = params.find((p) => p.startsWith('q='));
    return !q || Number(q.slice(2)) > 0;
  });
}

/**
 * A reply with `body` encoded for the client: gzip + base64 when accepted and worth it, else text (base64 if not UTF-8).
 * `gzipped` gives the gzip+base64 text of `body` when it is already known (the reply memo keeps it).
 */
export function httpReply(
  status: number,
  headers: Record<string, string>,
  body: Buffer,
  acceptEncoding: string | undefined,
  gzipped?: () => string,
): APIGatewayProxyStructuredResultV2 {
  const out: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', ...headers, vary: 'accept-encoding' };
  if (body.length >= GZIP_MIN_BYTES && acceptsGzip(acceptEncoding)) {
    out['content-encoding'] = 'gzip';
    return { statusCode: status, headers: out, body: gzipped ? gzipped() : gzipSync(body).toString('base64'), isBase64Encoded: true };
  }
  if (!isUtf8(body)) return { statusCode: status, headers: out, body: body.toString('base64'), isBase64Encoded: true };
  return { statusCode: status, headers: out, body: body.toString('utf8'), isBase64Encoded: false };
}

/** Shotgun's fault envelope: HTTP 200 with {"exception": true, "error_code", "message"}. */
export function faultReply(fault: ShotgunFault, extraHeaders: Record<string, string>, acceptEncoding: string | undefined): APIGatewayProxyStructuredResultV2 {
  return httpReply(200, extraHeaders, Buffer.from(JSON.stringify(fault.toBody()), 'utf8'), acceptEncoding);
}

/** Lambda's limit on a synchronous response: the whole result object as JSON (status, headers, body). */
export const LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024;
/** Room for the status code and headers around the body. */
const HEADROOM = 16 * 1024;
/** What a body may add to the result: base64 text (gzip), or JSON-escaped text (every `"` and `\` doubles). */
export const MAX_RESULT_BODY_BYTES = LAMBDA_RESPONSE_LIMIT - HEADROOM;
/** Raw JSON above this is not even built for a gzip client: even 8:1 compression would not fit. */
const MAX_RAW_FOR_GZIP = Math.floor(MAX_RESULT_BODY_BYTES * 0.75) * 8;

/**
 * The size of a read reply ({"results": ...}) before it is serialized, from a sample of up to 32 entities spread over
 * the page: raw JSON bytes, and the bytes it would take as a JSON-escaped string in the Lambda result.
 */
export function estimateReadReply(result: { entities: unknown[] }): { raw: number; escaped: number; entities: number } {
  const n = result.entities.length;
  const step = Math.max(1, Math.floor(n / 32));
  let raw = 0;
  let escaped = 0;
  let sampled = 0;
  for (let i = 0; i < n; i += step) {
    const text = JSON.stringify(result.entities[i]);
    raw += Buffer.byteLength(text) + 1;
    escaped += Buffer.byteLength(JSON.stringify(text)) - 1;
    sampled++;
  }
  const scale = sampled ? n / sampled : 0;
  return { raw: Math.ceil(64 + raw * scale), escaped: Math.ceil(96 + escaped * scale), entities: n };
}

function tooLarge(what: string, bytes: number, entities?: number): ShotgunFault {
  const mb = (b: number) => (b / (1024 * 1024)).toFixed(1);
  return new ShotgunFault(
    `fpt-cache: ${what} would be about ${mb(bytes)} MB${entities !== undefined ? ` (${entities} entities)` : ''}, ` +
      `over the ${mb(LAMBDA_RESPONSE_LIMIT)} MB an API reply can carry: ask for fewer fields or fewer entities per page` +
      `${entities !== undefined ? ' (a smaller limit or a narrower filter)' : ''}`,
    ErrorCode.REPLY_TOO_LARGE,
  );
}

/** Refuses a cached read's reply before it is built when the estimate cannot fit the Lambda response limit. */
export function checkReadReplySize(result: { entities: unknown[] }, acceptEncoding: string | undefined): ShotgunFault | undefined {
  const e = estimateReadReply(result);
  if (acceptsGzip(acceptEncoding) ? e.raw > MAX_RAW_FOR_GZIP : e.escaped > MAX_RESULT_BODY_BYTES) {
    return tooLarge('the reply to this read', acceptsGzip(acceptEncoding) ? e.raw : e.escaped, e.entities);
  }
  return undefined;
}

/** The exact check of a built reply: undefined when it fits, else the fault to answer instead. */
export function checkBuiltReply(r: APIGatewayProxyStructuredResultV2): ShotgunFault | undefined {
  const body = r.body ?? '';
  // Plain text under a third of the limit fits even if every byte were escaped.
  if (!r.isBase64Encoded && body.length * 3 < MAX_RESULT_BODY_BYTES) return undefined;
  const bytes = r.isBase64Encoded ? body.length : Buffer.byteLength(JSON.stringify(body));
  return bytes > MAX_RESULT_BODY_BYTES ? tooLarge('this reply', bytes) : undefined;
}

/** Reply headers naming how a request was answered. */
export const tags = (kind: 'hit' | 'pass' | 'error', reason: string): Record<string, string> => ({ 'x-fpt-cache': kind, 'x-fpt-cache-reason': reason });

/** A site reply whose body is a result envelope (not a fault): the credentials it carried were accepted. */
export function isResultsBody(r: RawReply): boolean {
  if (r.status !== 200) return false;
  const head = r.body.subarray(0, 32).toString('utf8').replace(/\s+/g, '');
  return head.startsWith('{"results":');
}
