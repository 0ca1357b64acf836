// The API's edge parsing: an API Gateway HTTP API (payload v2) event into the request body bytes and a validated JSON-RPC envelope, within size and depth limits.
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ErrorCode, ShotgunFault, RpcRequestSchema, type RpcRequest } from '../../shared/site/index.js';

export interface ParsedRequest {
  body: Buffer;
  /** Header names lower-cased (API Gateway already does; kept for direct invocations). */
  headers: Record<string, string | undefined>;
  rpc: RpcRequest;
}

export interface RequestLimits {
  /** Body bytes (after base64 decoding). */
  maxBytes: number;
  /** Nesting of JSON arrays and objects. */
  maxDepth: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = { maxBytes: 4 * 1024 * 1024, maxDepth: 64 };

/**
 * The deepest nesting of arrays/objects in a JSON text, stopping early past `limit` (a byte scan, strings skipped):
 * checked before JSON.parse and the zod schemas, whose recursion a hostile depth could exhaust.
 */
export function jsonDepthExceeds(body: Uint8Array, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return false;
}

function fault(message: string): ShotgunFault {
  return new ShotgunFault(`fpt-cache: ${message}`, ErrorCode.API);
}

/** JSON media types: application/json and application/*+json (shotgun_api3 sends application/json; charset=utf-8). */
function isJsonContentType(value: string | undefined): boolean {
  if (value === undefined) return true;
  const type = value.split(';')[0].trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/** Throws ShotgunFault(103) for a body that is not a JSON-RPC request the site would accept. */
export function parseRequest(event: APIGatewayProxyEventV2, limits: RequestLimits = DEFAULT_REQUEST_LIMITS): ParsedRequest {
  const method = event.requestContext?.http?.method ?? 'POST';
  const path = event.rawPath ?? '/api3/json';
  if (method !== 'POST' || !path.endsWith('/api3/json')) {
    throw fault(`only POST <base>/api3/json speaks the Shotgun API, not ${method} ${path}`);
  }
  const headers: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) headers[k.toLowerCase()] = v;
  if (!isJsonContentType(headers['content-type'])) {
    throw fault(`requests must be JSON (content-type application/json), not ${headers['content-type']}`);
  }
  const body = event.body === undefined ? Buffer.alloc(0) : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
  if (body.length > limits.maxBytes) {
    throw fault(`the request body is ${body.length} bytes, over the ${limits.maxBytes}-byte limit: send fewer entities per batch`);
  }
  if (jsonDepthExceeds(body, limits.maxDepth)) throw fault(`the request nests JSON deeper than ${limits.maxDepth} levels`);
  let decoded: unknown;
  try {
    decoded = JSON.parse(body.toString('utf8'));
  } catch {
    throw fault(body.length === 0 ? 'the request has no body' : 'the request body is not valid JSON');
  }
  const r = RpcRequestSchema.safeParse(decoded);
  if (!r.success) {
    const noMethod = typeof decoded !== 'object' || decoded === null || typeof (decoded as { method_name?: unknown }).method_name !== 'string';
    throw fault(
      noMethod
        ? 'the request has no method_name'
        : `malformed request: ${r.error.issues.map((i) => `${i.path.join('.') || '(body)'} ${i.message}`).join('; ')}`,
    );
  }
  return { body, headers, rpc: r.data };
}
