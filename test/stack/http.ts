// Test helper: raw HTTP requests (node:http, no automatic inflation) so tests see exactly what went over the wire.
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Bytes as received. */
  raw: Buffer;
  /** Bytes after undoing content-encoding: gzip. */
  body: Buffer;
  json(): unknown;
}

export function httpRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string | string[]>; body?: Buffer | string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'POST', headers: opts.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body = res.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, raw, body, json: () => JSON.parse(body.toString('utf8')) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** POST a JSON-RPC body the way shotgun_api3 does (its headers, its encoding). */
export function postRpc(url: string, payload: unknown, extraHeaders: Record<string, string> = {}): Promise<RawResponse> {
  return httpRequest(url, {
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'shotgun-json (3.10.0); Python 3.11 (Linux)',
      'accept-encoding': 'gzip, deflate',
      connection: 'keep-alive',
      ...extraHeaders,
    },
    body: Buffer.from(JSON.stringify(payload), 'utf8'),
  });
}
