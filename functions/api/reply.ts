// The API's replies as API Gateway HTTP API results: site replies passed through, faults, gzip when the client accepts it.
import { isUtf8 } from 'node:buffer';
import { gzipSync } from 'node:zlib';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { ShotgunFault } from '../../shared/faults.js';

/** Below this size gzip saves nothing worth the CPU and the base64 overhead. */
export const GZIP_MIN_BYTES = 1024;

/** Whether an accept-encoding header admits gzip (a `;q=0` refuses it). */
export function acceptsGzip(acceptEncoding: string | undefined): boolean {
  if (!acceptEncoding) return false;
  return acceptEncoding.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';').map((s) => s.trim());
    if (coding !== 'gzip' && coding !== '*') return false;
    const q = params.find((p) => p.startsWith('q='));
    return !q || Number(q.slice(2)) > 0;
  });
}

/** A reply with `body` encoded for the client: gzip + base64 when accepted and worth it, else text (base64 if not UTF-8). */
export function httpReply(status: number, headers: Record<string, string>, body: Buffer, acceptEncoding: string | undefined): APIGatewayProxyStructuredResultV2 {
  const out: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', ...headers, vary: 'accept-encoding' };
  if (body.length >= GZIP_MIN_BYTES && acceptsGzip(acceptEncoding)) {
    out['content-encoding'] = 'gzip';
    return { statusCode: status, headers: out, body: gzipSync(body).toString('base64'), isBase64Encoded: true };
  }
  if (!isUtf8(body)) return { statusCode: status, headers: out, body: body.toString('base64'), isBase64Encoded: true };
  return { statusCode: status, headers: out, body: body.toString('utf8'), isBase64Encoded: false };
}

/** Shotgun's fault envelope: HTTP 200 with {"exception": true, "error_code", "message"}. */
export function faultReply(fault: ShotgunFault, extraHeaders: Record<string, string>, acceptEncoding: string | undefined): APIGatewayProxyStructuredResultV2 {
  return httpReply(200, extraHeaders, Buffer.from(JSON.stringify(fault.toBody()), 'utf8'), acceptEncoding);
}
