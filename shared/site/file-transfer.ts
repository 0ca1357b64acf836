// File transfer paths (/upload/*, /thumbnail/*, /file_serve/*): relayed to the site without following its redirects, or redirected there.
//
// shotgun_api3 sends these to the host of its base URL (protocol.md §2.3), so with the cache as base URL they reach
// the cache. A bare redirect does not work for all of them: the client posts its forms with urllib, which refuses to
// follow a 307 for a POST (HTTPError) and turns a 302 into a body-less GET, and downloads carry the `_session_id`
// cookie only to the host it was set for. So each request is relayed to the same path on the site (method, body,
// content-type, cookies), the site's answer comes back as it is — including its own redirects (hosted sites answer
// file_serve with a redirect to signed storage, and S3 uploads only send small forms through here) — and only a
// download whose bytes would not fit a Lambda reply becomes a 302 to the site. Large non-S3 uploads (bodies above
// the Lambda request limit) cannot go through the cache; hosted sites use S3 direct uploads.
export const FILE_TRANSFER_PREFIXES = ['/upload/', '/thumbnail/', '/file_serve/'] as const;

export function isFileTransferPath(path: string): boolean {
  return FILE_TRANSFER_PREFIXES.some((p) => path.startsWith(p));
}

/** Request headers carried to the site (the body's encoding, the download cookie, range requests). */
const FORWARDED = ['content-type', 'user-agent', 'accept', 'range', 'if-none-match', 'if-modified-since'] as const;
/** Site reply headers carried back. */
const RETURNED = [
  'content-type',
  'content-disposition',
  'location',
  'cache-control',
  'content-range',
  'accept-ranges',
  'etag',
  'last-modified',
  'expires',
] as const;

export interface TransferRequest {
  method: string;
  /** Path and query, e.g. `/file_serve/attachment/12?x=1`. */
  pathAndQuery: string;
  headers: Record<string, string | undefined>;
  cookies?: string[];
  body?: Buffer;
}

export type TransferReply = { kind: 'relay'; status: number; headers: Record<string, string>; body: Buffer } | { kind: 'redirect'; location: string };

/** The same path on the site (its origin; the base URL's path prefix does not apply to these paths). */
export function siteTransferUrl(siteUrl: string, pathAndQuery: string): string {
  return new URL(pathAndQuery, new URL(siteUrl).origin).toString();
}

/**
 * Relays one transfer request. `maxBodyBytes`: a larger reply body is not relayed (a GET becomes a redirect to the
 * site, anything else a 502). Throws when the site cannot be reached (the caller answers 502).
 */
export async function relayTransfer(siteUrl: string, req: TransferRequest, opts: { maxBodyBytes: number; timeoutMs: number }): Promise<TransferReply> {
  const url = siteTransferUrl(siteUrl, req.pathAndQuery);
  const headers: Record<string, string> = {};
  for (const h of FORWARDED) {
    const v = req.headers[h];
    if (v !== undefined) headers[h] = v;
  }
  if (req.cookies?.length) headers.cookie = req.cookies.join('; ');
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && req.body !== undefined && req.body.length > 0;
  const res = await fetch(url, {
    method: req.method,
    headers,
    body: hasBody ? req.body : undefined,
    redirect: 'manual',
    signal: AbortSignal.timeout(opts.timeoutMs),
  });
  const length = Number(res.headers.get('content-length') ?? NaN);
  const tooBig = () =>
    req.method === 'GET' || req.method === 'HEAD'
      ? { kind: 'redirect' as const, location: url }
      : {
          kind: 'relay' as const,
          status: 502,
          headers: { 'content-type': 'text/plain; charset=utf-8' },
          body: Buffer.from("fpt-cache: the site's reply is too large to relay\n"),
        };
  if (length > opts.maxBodyBytes) {
    await res.body?.cancel();
    return tooBig();
  }
  const body = Buffer.from(await res.arrayBuffer());
  if (body.length > opts.maxBodyBytes) return tooBig();
  const out: Record<string, string> = {};
  for (const h of RETURNED) {
    const v = res.headers.get(h);
    if (v !== null) out[h] = v;
  }
  return { kind: 'relay', status: res.status, headers: out, body };
}
