// A local stand-in for API Gateway HTTP API: HTTP requests to payload v2 events for the API Lambda, and its results back to HTTP.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { invokeLocal, type LambdaHandler, type LocalFunction } from './lambda-invoke.js';

/** API Gateway HTTP API limits: 10 MB request payload, 30 s integration timeout; Lambda: 6 MB synchronous response. */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
export const MAX_LAMBDA_RESPONSE_BYTES = 6 * 1024 * 1024;
/** Lambda's 6 MB synchronous request payload: the whole event, a binary body base64-encoded in it (about 4.5 MB of upload). */
export const MAX_LAMBDA_REQUEST_BYTES = 6 * 1024 * 1024;
export const INTEGRATION_TIMEOUT_MS = 30_000;

/** GET routes of shotgun_api3's file transfers (downloads, thumbnails), relayed by the API Lambda (shared/site/file-transfer.ts). */
export const FILE_TRANSFER_GET_ROUTES = ['/upload', '/thumbnail', '/file_serve'] as const;

/**
 * The routes the CDK app gives the API Lambda (infra/constructs/cache-api.ts): POST /api3/json, POST /{prefix+}
 * (a base URL with a path prefix; also the upload forms), GET /status and GET /upload|thumbnail|file_serve/{proxy+}.
 * Anything else is API Gateway's own 404.
 */
export function matchRoute(method: string, path: string): { routeKey: string; pathParameters?: Record<string, string> } | undefined {
  if (method === 'POST') {
    if (path === '/api3/json') return { routeKey: 'POST /api3/json' };
    if (path.length > 1) return { routeKey: 'POST /{prefix+}', pathParameters: { prefix: decodeURIComponent(path.slice(1)) } };
  }
  if (method === 'GET' && path === '/status') return { routeKey: 'GET /status' };
  if (method === 'GET') {
    for (const base of FILE_TRANSFER_GET_ROUTES) {
      if (path.startsWith(`${base}/`) && path.length > base.length + 1) {
        return { routeKey: `GET ${base}/{proxy+}`, pathParameters: { proxy: decodeURIComponent(path.slice(base.length + 1)) } };
      }
    }
  }
  return undefined;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** requestContext.time, e.g. "12/Mar/2020:19:03:58 +0000". */
function requestTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** Content types API Gateway hands to Lambda as text; anything else (or any content-encoding) arrives base64-encoded. */
function isTextual(contentType: string | undefined, contentEncoding: string | undefined): boolean {
  if (contentEncoding && contentEncoding.toLowerCase() !== 'identity') return false;
  if (!contentType) return true;
  const t = contentType.split(';')[0].trim().toLowerCase();
  return (
    t.startsWith('text/') ||
    t === 'application/json' ||
    t.endsWith('+json') ||
    t === 'application/javascript' ||
    t === 'application/xml' ||
    t.endsWith('+xml') ||
    t === 'application/x-www-form-urlencoded'
  );
}

export interface EventSource {
  method: string;
  url: string;
  httpVersion: string;
  rawHeaders: string[];
  sourceIp: string;
  localPort: number;
}

/** The payload v2 event API Gateway would send for this request. */
export function toApiGatewayEvent(req: EventSource, body: Buffer, now = new Date()): APIGatewayProxyEventV2 {
  const q = req.url.indexOf('?');
  const rawPath = q < 0 ? req.url : req.url.slice(0, q);
  const rawQueryString = q < 0 ? '' : req.url.slice(q + 1);
  const route = matchRoute(req.method, rawPath) ?? { routeKey: '$default' };
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    headers[name] = name in headers ? `${headers[name]},${req.rawHeaders[i + 1]}` : req.rawHeaders[i + 1];
  }
  let cookies: string[] | undefined;
  if (headers.cookie !== undefined) {
    cookies = headers.cookie
      .split(/;\s*|,/)
      .map((c) => c.trim())
      .filter(Boolean);
    delete headers.cookie;
  }
  headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${req.sourceIp}` : req.sourceIp;
  headers['x-forwarded-port'] ??= String(req.localPort);
  headers['x-forwarded-proto'] ??= 'http';
  headers['x-amzn-trace-id'] ??= `Root=1-${Math.floor(now.getTime() / 1000).toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)}`;

  let queryStringParameters: Record<string, string> | undefined;
  if (rawQueryString) {
    queryStringParameters = {};
    for (const [k, v] of new URLSearchParams(rawQueryString)) {
      queryStringParameters[k] = k in queryStringParameters ? `${queryStringParameters[k]},${v}` : v;
    }
  }
  const domainName = (headers.host ?? 'localhost').replace(/:\d+$/, '');
  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: route.routeKey,
    rawPath,
    rawQueryString,
    headers,
    requestContext: {
      accountId: '123456789012',
      apiId: 'local',
      domainName,
      domainPrefix: domainName.split('.')[0],
      http: {
        method: req.method,
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: route.routeKey,
      stage: '$default',
      time: requestTime(now),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: false,
  };
  if (cookies) event.cookies = cookies;
  if (route.pathParameters) event.pathParameters = route.pathParameters;
  if (queryStringParameters) event.queryStringParameters = queryStringParameters;
  if (body.length > 0) {
    const text = isTextual(headers['content-type'], headers['content-encoding']) && isUtf8(body);
    event.body = text ? body.toString('utf8') : body.toString('base64');
    event.isBase64Encoded = !text;
  }
  return event;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  cookies: string[];
  body: Buffer;
}

/** What API Gateway sends back for a Lambda result (payload v2, including the inferred shapes). */
export function fromLambdaResult(result: APIGatewayProxyResultV2 | undefined): HttpResult {
  const json = { 'content-type': 'application/json' };
  if (result === undefined || result === null) return { status: 200, headers: json, cookies: [], body: Buffer.alloc(0) };
  if (typeof result === 'string') return { status: 200, headers: json, cookies: [], body: Buffer.from(result, 'utf8') };
  if (typeof result !== 'object' || !('statusCode' in result) || result.statusCode === undefined) {
    return { status: 200, headers: json, cookies: [], body: Buffer.from(JSON.stringify(result), 'utf8') };
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k.toLowerCase()] = String(v);
  headers['content-type'] ??= 'application/json';
  const body = result.body === undefined ? Buffer.alloc(0) : Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8');
  return { status: result.statusCode, headers, cookies: result.cookies ?? [], body };
}

const message = (status: number, text: string): HttpResult => ({
  status,
  headers: { 'content-type': 'application/json' },
  cookies: [],
  body: Buffer.from(JSON.stringify({ message: text })),
});

export interface LocalApiGatewayOptions {
  port: number;
  host?: string;
  fn: LocalFunction;
  handler: LambdaHandler<APIGatewayProxyEventV2, APIGatewayProxyResultV2>;
  /** Answers GET /status itself (the local stack's fuller status) instead of the handler. */
  status?: () => Promise<unknown>;
  /** Told about handler failures (the API Gateway client only ever sees a 500). */
  onError?: (error: unknown) => void;
}

export interface LocalApiGateway {
  url: string;
  port: number;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function write(res: ServerResponse, r: HttpResult): void {
  const headers: Record<string, string | string[]> = { ...r.headers, 'content-length': String(r.body.length) };
  delete headers['transfer-encoding'];
  if (r.cookies.length) headers['set-cookie'] = r.cookies;
  res.writeHead(r.status, headers);
  res.end(r.body);
}

/** Serves the CDK app's routes through the handler (GET /status from `status` when given), 404 otherwise (as API Gateway words it). */
export async function startLocalApiGateway(opts: LocalApiGatewayOptions): Promise<LocalApiGateway> {
  const fn = { ...opts.fn, timeoutMs: Math.min(opts.fn.timeoutMs ?? INTEGRATION_TIMEOUT_MS, INTEGRATION_TIMEOUT_MS) };
  // handle answers its own failures (a 500, or the socket destroyed after headers), so the server only starts it.
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'GET' && path === '/status' && opts.status) {
        req.resume();
        return write(res, {
          status: 200,
          headers: { 'content-type': 'application/json' },
          cookies: [],
          body: Buffer.from(JSON.stringify(await opts.status())),
        });
      }
      if (!matchRoute(req.method ?? 'GET', path)) {
        req.resume();
        return write(res, message(404, 'Not Found'));
      }
      const body = await readBody(req, MAX_REQUEST_BYTES);
      if (!body) return write(res, message(413, 'Request Entity Too Large'));
      const event = toApiGatewayEvent(
        {
          method: req.method ?? 'GET',
          url: req.url ?? '/',
          httpVersion: req.httpVersion,
          rawHeaders: req.rawHeaders,
          sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
          localPort: req.socket.localPort ?? 0,
        },
        body,
      );
      // API Gateway answers 413 when the event it would invoke the function with is over Lambda's request limit.
      if (Buffer.byteLength(JSON.stringify(event)) > MAX_LAMBDA_REQUEST_BYTES) return write(res, message(413, 'Request Entity Too Large'));
      let result: APIGatewayProxyResultV2;
      try {
        result = await invokeLocal(fn, opts.handler, event);
      } catch (e) {
        opts.onError?.(e);
        return write(res, message(500, 'Internal Server Error'));
      }
      if (Buffer.byteLength(JSON.stringify(result ?? null)) > MAX_LAMBDA_RESPONSE_BYTES) {
        opts.onError?.(new Error(`${fn.name} response exceeds Lambda's 6 MB synchronous payload limit`));
        return write(res, message(500, 'Internal Server Error'));
      }
      write(res, fromLambdaResult(result));
    } catch (e) {
      opts.onError?.(e);
      if (!res.headersSent) write(res, message(500, 'Internal Server Error'));
      else res.destroy();
    }
  };
  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });
  // shotgun_api3 (httplib2) does not retry a call on a kept-alive socket the server closed while idle, so keep them open long.
  server.keepAliveTimeout = 10 * 60_000;
  server.headersTimeout = 60_000;
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
