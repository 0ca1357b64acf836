// The local API Gateway: HTTP requests to payload v2 events and Lambda results back to HTTP, as API Gateway HTTP API does.
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from 'aws-lambda';
import { fromLambdaResult, startLocalApiGateway, type LocalApiGateway } from '../../local/api-gateway.js';
import { httpRequest } from './http.js';

let gw: LocalApiGateway;
const events: APIGatewayProxyEventV2[] = [];
/** What the handler answers next (by request path suffix). */
let answer: (event: APIGatewayProxyEventV2) => APIGatewayProxyResultV2 | Promise<APIGatewayProxyResultV2> = () => ({ statusCode: 200, body: '{}' });

beforeAll(async () => {
  gw = await startLocalApiGateway({
    port: 0,
    fn: { name: 'test-api' },
    handler: async (event, context) => {
      events.push(event);
      expect(context.functionName).toBe('test-api');
      expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
      return answer(event);
    },
    onError: () => {},
  });
});
afterAll(async () => {
  await gw.close();
});

const lastEvent = () => events[events.length - 1];

describe('request -> payload v2 event', () => {
  it('carries method, paths, query, lower-cased and comma-joined headers, cookies, and a text body', async () => {
    answer = () => ({ statusCode: 200, body: '{}' });
    const sentAfter = Date.now();
    await httpRequest(`${gw.url}/studio/api3/json?a=1&b=x%20y&a=2`, {
      headers: { 'Content-Type': 'application/json; charset=utf-8', 'X-Thing': ['one', 'two'], Cookie: 'c1=v1; c2=v2', 'User-Agent': 'shotgun-json (3.10.0)' },
      body: '{"method_name":"info","params":[]}',
    });
    const e = lastEvent();
    expect(e).toMatchObject({
      version: '2.0',
      routeKey: 'POST /{prefix+}',
      pathParameters: { prefix: 'studio/api3/json' },
      rawPath: '/studio/api3/json',
      rawQueryString: 'a=1&b=x%20y&a=2',
      queryStringParameters: { a: '1,2', b: 'x y' },
      cookies: ['c1=v1', 'c2=v2'],
      body: '{"method_name":"info","params":[]}',
      isBase64Encoded: false,
      requestContext: {
        accountId: '123456789012',
        stage: '$default',
        routeKey: 'POST /{prefix+}',
        http: { method: 'POST', path: '/studio/api3/json', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'shotgun-json (3.10.0)' },
      },
    });
    expect(e.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(e.headers['x-thing']).toBe('one,two');
    expect(e.headers.cookie).toBeUndefined();
    expect(e.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(e.headers['x-forwarded-proto']).toBe('http');
    expect(Object.keys(e.headers).every((k) => k === k.toLowerCase())).toBe(true);
    expect(e.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(e.requestContext.timeEpoch).toBeGreaterThanOrEqual(sentAfter);
    expect(e.requestContext.timeEpoch).toBeLessThanOrEqual(Date.now());
  });

  it("uses the CDK app's route keys", async () => {
    await httpRequest(`${gw.url}/api3/json`, { body: '{}' });
    expect(lastEvent()).toMatchObject({ routeKey: 'POST /api3/json', requestContext: { routeKey: 'POST /api3/json' } });
    expect(lastEvent().pathParameters).toBeUndefined();
    await httpRequest(`${gw.url}/status`, { method: 'GET' });
    expect(lastEvent()).toMatchObject({ routeKey: 'GET /status', rawPath: '/status', requestContext: { http: { method: 'GET' } } });
  });

  it('base64-encodes binary and content-encoded bodies, byte for byte', async () => {
    const bytes = Buffer.from([0, 255, 1, 254, 0x80, 0x81]);
    await httpRequest(`${gw.url}/api3/json`, { headers: { 'content-type': 'application/octet-stream' }, body: bytes });
    expect(lastEvent().isBase64Encoded).toBe(true);
    expect(Buffer.from(lastEvent().body!, 'base64').equals(bytes)).toBe(true);

    const zipped = gzipSync('{"method_name":"info"}');
    await httpRequest(`${gw.url}/api3/json`, { headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: zipped });
    expect(lastEvent().isBase64Encoded).toBe(true);
    expect(Buffer.from(lastEvent().body!, 'base64').equals(zipped)).toBe(true);
  });

  it('omits the body of an empty request', async () => {
    await httpRequest(`${gw.url}/api3/json`, { headers: { 'content-type': 'application/json' } });
    expect(lastEvent().body).toBeUndefined();
    expect(lastEvent().isBase64Encoded).toBe(false);
  });
});

describe('Lambda result -> HTTP response', () => {
  it('decodes base64 bodies (a gzip reply reaches the client as gzip bytes)', async () => {
    const json = JSON.stringify({ results: { big: 'x'.repeat(5000) } });
    answer = () => ({
      statusCode: 200,
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(json).toString('base64'),
      isBase64Encoded: true,
    });
    const r = await httpRequest(`${gw.url}/api3/json`, { body: '{}' });
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(r.body.toString()).toBe(json);
    expect(Number(r.headers['content-length'])).toBe(r.raw.length);
  });

  it('defaults content-type to application/json, writes cookies, keeps the status', async () => {
    answer = () => ({ statusCode: 201, headers: { 'X-Custom': 'yes' }, cookies: ['a=1; Path=/', 'b=2'], body: '[]' });
    const r = await httpRequest(`${gw.url}/api3/json`, { body: '{}' });
    expect(r.status).toBe(201);
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['x-custom']).toBe('yes');
    expect(r.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2']);
    expect(r.body.toString()).toBe('[]');
  });

  it('infers a 200 JSON reply from a result without statusCode, as API Gateway does', () => {
    expect(fromLambdaResult({ hello: 'world' } as unknown as APIGatewayProxyResultV2)).toMatchObject({
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
    expect(fromLambdaResult({ hello: 'world' } as unknown as APIGatewayProxyResultV2).body.toString()).toBe('{"hello":"world"}');
    expect(fromLambdaResult('plain').body.toString()).toBe('plain');
  });

  it("answers a failing handler with 500 and unknown paths with 404, in API Gateway's words", async () => {
    answer = () => {
      throw new Error('handler bug');
    };
    const failed = await httpRequest(`${gw.url}/api3/json`, { body: '{}' });
    expect(failed.status).toBe(500);
    expect(failed.json()).toEqual({ message: 'Internal Server Error' });
    const before = events.length;
    const missing = await httpRequest(`${gw.url}/elsewhere`, { method: 'GET' });
    expect(missing.status).toBe(404);
    expect(missing.json()).toEqual({ message: 'Not Found' });
    expect(events.length).toBe(before);
  });
});
