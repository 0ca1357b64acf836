// Passing one client request through to the site unchanged: which headers travel, and the fault when the site is unreachable.
import { ErrorCode, ShotgunFault } from './faults.js';
import { isIdempotentMethod } from './retry-policy.js';
import { ShotgunTransportError, type RawReply, type ShotgunClient } from './shotgun-client.js';

/** Client request headers worth carrying upstream (the body carries the auth; hop headers stay on their hop). */
const FORWARDED_REQUEST_HEADERS = ['content-type', 'user-agent', 'locale'] as const;
/** Site reply headers carried back to the client. Encoding and length are recomputed for the client's hop. */
const RETURNED_REPLY_HEADERS = ['content-type', 'cache-control', 'retry-after', 'www-authenticate'] as const;

export interface PassThroughRequest {
  /** The request body exactly as the client sent it (already base64-decoded). */
  body: Uint8Array;
  /** Request headers, names lower-cased. */
  headers: Record<string, string | undefined>;
  /** The parsed method_name: decides whether the call may be retried (see shared/site/retry-policy.ts). */
  method: string;
}

/**
 * Sends the body to the site and returns its reply (status, the returned headers, body bytes) unchanged.
 * Throws ShotgunFault(UPSTREAM_UNAVAILABLE) when no HTTP reply could be had; HTTP error statuses are replies.
 */
export async function passThrough(client: ShotgunClient, request: PassThroughRequest): Promise<RawReply> {
  const headers: Record<string, string> = {};
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const v = request.headers[name];
    if (v !== undefined) headers[name] = v;
  }
  let reply: RawReply;
  try {
    reply = await client.forward(request.body, headers, { method: request.method });
  } catch (e) {
    if (e instanceof ShotgunTransportError) throw unreachableFault(e);
    throw e;
  }
  const out: Record<string, string> = {};
  for (const name of RETURNED_REPLY_HEADERS) {
    const v = reply.headers[name];
    if (v !== undefined) out[name] = v;
  }
  return { status: reply.status, headers: out, body: reply.body };
}

function unreachableFault(e: ShotgunTransportError): ShotgunFault {
  const site = new URL(e.details.url).origin;
  const what = e.kind === 'timeout' ? 'did not answer in time' : e.kind === 'not-sent' ? 'could not be reached' : 'dropped the connection';
  const applied =
    e.details.mayHaveReachedSite && e.kind !== 'not-sent' && !isIdempotentMethod(e.details.method)
      ? ' The request may have been applied; check before repeating it.'
      : '';
  return new ShotgunFault(`fpt-cache: the Shotgun site ${site} ${what} (${e.details.method}).${applied}`, ErrorCode.UPSTREAM_UNAVAILABLE);
}
