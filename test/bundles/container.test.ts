// The bundle test's instruments can fail: a missing file, a module the runtime lacks, a write outside /tmp, memory, a timeout, a frozen container, a call the role does not allow.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startAwsEndpoint, type Identity } from './aws-endpoint.js';
import { LambdaContainer, type ContainerSpec } from './lambda-container.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function asset(files: Record<string, string>): string {
  const d = mkdtempSync(join(tmpdir(), 'fpt-asset-'));
  dirs.push(d);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(d, name, '..'), { recursive: true });
    writeFileSync(join(d, name), text);
  }
  return d;
}

const spec = (assetDir: string, o: Partial<ContainerSpec> = {}): ContainerSpec => ({
  name: 'probe',
  arn: 'arn:aws:lambda:us-east-1:123456789012:function:probe',
  assetDir,
  handler: 'index.handler',
  runtime: 'nodejs24.x',
  memoryMb: 128,
  timeoutS: 5,
  environment: {},
  credentials: { accessKeyId: 'AKIDPROBE', secretAccessKey: 'x', sessionToken: 't' },
  ...o,
});

async function withContainer<T>(s: ContainerSpec, f: (c: LambdaContainer) => Promise<T>): Promise<{ value: T; c: LambdaContainer }> {
  const c = await LambdaContainer.start(s);
  try {
    return { value: await f(c), c };
  } finally {
    await c.stop();
  }
}

describe('the Lambda container', () => {
  it('runs the handler with a Lambda-like context and environment; /tmp is writable', async () => {
    const dir = asset({
      'index.mjs': `import { writeFileSync, readFileSync } from 'node:fs';
      export const handler = async (event, context) => {
        writeFileSync('/tmp/fpt-probe-' + context.awsRequestId, 'x');
        return { event, name: context.functionName, memory: context.memoryLimitInMB, remaining: context.getRemainingTimeInMillis(),
          root: process.env.LAMBDA_TASK_ROOT, cwd: process.cwd(), schema: readFileSync('schema/a.yml', 'utf8') };
      };`,
      'schema/a.yml': 'types: {}\n',
    });
    const { value, c } = await withContainer(spec(dir), (x) => x.call<Record<string, unknown>>({ hello: 1 }));
    expect(value).toMatchObject({ event: { hello: 1 }, name: 'probe', memory: '128', schema: 'types: {}\n' });
    expect(value.remaining).toBeGreaterThan(3000);
    expect(value.remaining).toBeLessThanOrEqual(5000);
    expect(value.cwd).toBe(value.root);
    expect(c.violations).toEqual([]);
    expect(c.peakRssMb).toBeGreaterThan(10);
  });

  it('refuses writes to the task root and outside /tmp (EROFS), and reports them even when the code swallows the error', async () => {
    const outside = `/fpt-bundle-probe-${process.pid}`;
    const dir = asset({
      'index.mjs': `import { writeFileSync } from 'node:fs'; import { mkdir } from 'node:fs/promises';
      export const handler = async () => {
        const codes = [];
        try { writeFileSync('cache.json', '{}'); } catch (e) { codes.push(e.code); }
        try { await mkdir(${JSON.stringify(outside)}); } catch (e) { codes.push(e.code); }
        return codes;
      };`,
    });
    const { value, c } = await withContainer(spec(dir), (x) => x.call<string[]>({}));
    expect(value).toEqual(['EROFS', 'EROFS']);
    expect(c.violations.map((v) => [v.op, v.path])).toEqual([
      ['writeFileSync', join(c.root, 'cache.json')],
      ['mkdir', outside],
    ]);
    expect(existsSync(outside)).toBe(false);
  });

  it('fails at init on a file missing from the asset', async () => {
    const dir = asset({ 'index.mjs': `import { x } from './lib/missing.mjs'; export const handler = async () => x;` });
    await expect(LambdaContainer.start(spec(dir))).rejects.toThrow(/init failed: .*missing\.mjs/);
  });

  it('fails at init on a module the runtime does not provide (nothing from node_modules, not even the AWS SDK)', async () => {
    const dir = asset({ 'index.mjs': `import { S3Client } from '@aws-sdk/client-s3'; export const handler = async () => String(S3Client);` });
    await expect(LambdaContainer.start(spec(dir))).rejects.toThrow(/Cannot find package '@aws-sdk\/client-s3'.*built-in modules only/);
  });

  it('fails at init when the handler is not exported', async () => {
    const dir = asset({ 'index.mjs': 'export const main = async () => 1;' });
    await expect(LambdaContainer.start(spec(dir))).rejects.toThrow(/index\.handler is undefined or not exported/);
  });

  it('measures peak RSS (a function that holds 100 MB is over 60 % of 128 MB)', async () => {
    const dir = asset({
      'index.mjs': 'const keep = []; export const handler = async () => { keep.push(Buffer.alloc(100 * 1024 * 1024, 1)); return keep.length; };',
    });
    const { c } = await withContainer(spec(dir), (x) => x.call({}));
    expect(c.peakRssMb).toBeGreaterThan(0.6 * 128);
  });

  it('kills an invocation past the timeout', async () => {
    const dir = asset({ 'index.mjs': 'export const handler = () => new Promise((r) => setTimeout(r, 5000));' });
    await expect(withContainer(spec(dir, { timeoutS: 1 }), (x) => x.call({}))).rejects.toThrow(/Task timed out after 1.00 seconds/);
  });

  it('freezes the container between invocations: timers do not run while it waits', async () => {
    const dir = asset({ 'index.mjs': 'let ticks = 0; setInterval(() => { ticks++; }, 20); export const handler = async () => ticks;' });
    const { value } = await withContainer(spec(dir), async (x) => {
      const a = await x.call<number>({});
      await new Promise((r) => setTimeout(r, 600));
      return (await x.call<number>({})) - a;
    });
    expect(value).toBeLessThan(5);
  });
});

describe('the AWS endpoint', () => {
  it('answers a call the role does not allow with AccessDenied and records it', async () => {
    const identities = new Map<string, Identity>([
      [
        'AKIDPROBE',
        {
          fn: 'probe',
          statements: [
            { effect: 'Allow', actions: ['dynamodb:GetItem'], resources: ['arn:aws:dynamodb:us-east-1:123456789012:table/allowed'], hasCondition: false },
          ],
        },
      ],
    ]);
    const endpoint = await startAwsEndpoint({
      dynamodb: inject('dynamodbEndpoint'),
      sqs: 'http://127.0.0.1:9',
      identities,
      secrets: new Map(),
      functions: new Map(),
    });
    const ddb = new DynamoDBClient({
      endpoint: endpoint.url,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: { accessKeyId: 'AKIDPROBE', secretAccessKey: 'x' },
    });
    try {
      const get = (table: string) => ddb.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'a' } } }));
      await expect(get('allowed')).rejects.toThrow(/non-existent table|not found/i);
      await expect(get('other')).rejects.toMatchObject({ name: 'AccessDeniedException' });
      expect(endpoint.calls.map((x) => [x.action, x.resource.split(':').pop(), x.allowed])).toEqual([
        ['dynamodb:GetItem', 'table/allowed', true],
        ['dynamodb:GetItem', 'table/other', false],
      ]);
    } finally {
      ddb.destroy();
      await endpoint.close();
    }
  });
});
