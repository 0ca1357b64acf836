// The one-machine stack: two side by side, state across a restart, --fresh, the consumer wiring, /status, and nothing left running.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { startStack, type LocalStack } from '../../local/stack.js';
import { PortInUseError } from '../../local/ports.js';
import { ConfigError } from '../../shared/config.js';
import { authParams, createParams, findPlan, rpcPayload } from '../../shared/site/index.js';
import { httpRequest, postRpc } from './http.js';
import { waitFor } from './wait.js';

const dirs: string[] = [];
const running = new Set<LocalStack>();
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'fpt-cache-stack-'));
  dirs.push(d);
  return d;
}
async function start(dataDir: string, extra: Parameters<typeof startStack>[0] = {}): Promise<LocalStack> {
  const s = await startStack({ port: 0, simPort: 0, dynamodbPort: 0, sqsPort: 0, dataDir, env: { SIM_ENTITIES: '60' }, log: () => {}, ...extra });
  running.add(s);
  return s;
}
async function stop(s: LocalStack): Promise<void> {
  await s.stop();
  running.delete(s);
}
afterAll(async () => {
  for (const s of running) await s.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * Processes that outlived their stack: DynamoDB Local JVMs (and their guardian shells) on the given ports, and,
 * once no stack of this worker runs, any child process of this worker at all.
 */
function leftovers(ports: number[]): string[] {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,args=']).toString().split('\n').filter(Boolean);
  return rows.filter((row) => {
    const [pid, ppid, ...args] = row.trim().split(/\s+/);
    const cmd = args.join(' ');
    if (cmd.startsWith('ps ') || Number(pid) === process.pid) return false;
    if (ports.some((p) => cmd.includes('DynamoDBLocal.jar') && cmd.includes(`-port ${p} `))) return true;
    return running.size === 0 && Number(ppid) === process.pid;
  });
}

function documentClient(s: LocalStack): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: s.dynamodb.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  );
}

const auth = (s: LocalStack) => authParams({ scriptName: s.functionEnv.SHOTGUN_SCRIPT_NAME!, apiKey: s.functionEnv.SHOTGUN_SCRIPT_KEY! });
/** Reads through the API; with `expected`, until that many match (a cache hit sees a write once its event is applied). */
async function findShot(s: LocalStack, code: string, expected?: number): Promise<unknown[]> {
  const once = async () => {
    const r = await postRpc(
      `${s.apiUrl}/api3/json`,
      rpcPayload(
        'read',
        auth(s),
        findPlan({ type: 'Shot', filters: [['code', 'is', code]], fields: ['code'] }, { version: [8, 50, 0], recordsPerPage: 500 }).params,
      ),
    );
    expect(['hit', 'pass']).toContain(r.headers['x-fpt-cache']);
    return (r.json() as { results: { entities: unknown[] } }).results.entities;
  };
  if (expected === undefined) return once();
  return waitFor(
    `${expected} shot(s) ${code}`,
    async () => {
      const found = await once();
      if (found.length !== expected) await new Promise((r) => setTimeout(r, 200));
      return found.length === expected ? found : undefined;
    },
    60_000,
  );
}

describe('the one-machine stack', () => {
  it('runs two stacks side by side, keeps state across a restart, and wipes it with fresh', async () => {
    const dirA = tempDir();
    const dirB = tempDir();
    const received: string[] = [];
    const [a, b] = await Promise.all([
      start(dirA),
      start(dirB, {
        consumer: {
          fn: { name: 'test-consumer' },
          create: async () => async (event: SQSEvent) => {
            for (const r of event.Records) received.push(r.body);
          },
        },
      }),
    ]);
    expect(new Set([a.apiUrl, b.apiUrl, a.simUrl, b.simUrl]).size).toBe(4);
    expect(a.dynamodb.port).not.toBe(b.dynamodb.port);

    // GET /status over HTTP. Ready means every cached type imported and the poller following the log (the sync
    // pipeline's import runs in the background after start).
    type Status = { ready: boolean; upstream: string; components: Record<string, { ok: boolean }> };
    const status = await waitFor(
      'stack A ready',
      async () => {
        const s = (await httpRequest(`${a.apiUrl}/status`, { method: 'GET' })).json() as Status;
        if (!s.ready) await new Promise((r) => setTimeout(r, 200));
        return s.ready ? s : undefined;
      },
      90_000,
    );
    expect(status.ready).toBe(true);
    expect(status.upstream).toBe(a.simUrl);
    for (const c of ['dynamodb', 'sqs', 'site', 'api']) expect(status.components[c]?.ok).toBe(true);

    // A DATA_DIR serves one stack at a time.
    await expect(start(dirA)).rejects.toThrow(ConfigError);
    await expect(start(dirA)).rejects.toThrow(/DATA_DIR .* is in use by another stack/);

    // Write through A's API (to A's site) and into A's DynamoDB.
    const created = await postRpc(
      `${a.apiUrl}/api3/json`,
      rpcPayload('create', auth(a), createParams('Shot', { code: 'survives-restart', project: { type: 'Project', id: await firstProject(a) } })),
    );
    expect((created.json() as { results: { id: number } }).results.id).toBeGreaterThan(0);
    const ddbA = documentClient(a);
    await ddbA.send(new PutCommand({ TableName: a.tables.state, Item: { pk: 'test', sk: 'restart', value: 42 } }));
    ddbA.destroy();
    expect(await findShot(a, 'survives-restart', 1)).toHaveLength(1);
    expect(await findShot(b, 'survives-restart')).toHaveLength(0);

    // B's queue feeds B's consumer through the event source emulation.
    const sqs = new SQSClient({ endpoint: b.sqs.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    await sqs.send(new SendMessageCommand({ QueueUrl: b.sqs.queueUrl, MessageBody: 'hello', MessageGroupId: 'Shot#1', MessageDeduplicationId: '1' }));
    sqs.destroy();
    await waitFor('the consumer to get the message', () => received.includes('hello'));

    const portsA = [a.dynamodb.port];
    await stop(a);
    expect(leftovers(portsA)).toEqual([]);

    const again = await start(dirA);
    expect(await findShot(again, 'survives-restart', 1)).toHaveLength(1);
    const ddbAgain = documentClient(again);
    expect((await ddbAgain.send(new GetCommand({ TableName: again.tables.state, Key: { pk: 'test', sk: 'restart' } }))).Item?.value).toBe(42);
    ddbAgain.destroy();
    await stop(again);

    const fresh = await start(dirA, { fresh: true });
    expect(await findShot(fresh, 'survives-restart')).toHaveLength(0);
    const ddbFresh = documentClient(fresh);
    expect((await ddbFresh.send(new GetCommand({ TableName: fresh.tables.state, Key: { pk: 'test', sk: 'restart' } }))).Item).toBeUndefined();
    ddbFresh.destroy();

    const ports = [again.dynamodb.port, fresh.dynamodb.port, b.dynamodb.port];
    await stop(fresh);
    await stop(b);
    expect(leftovers(ports)).toEqual([]);
  }, 240_000); // four DynamoDB Local JVM starts; on two busy cores each can take 10 s or more

  it('refuses a taken port with a one-line error naming its variable, starting nothing', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const taken = (blocker.address() as { port: number }).port;
    try {
      for (const [option, variable] of [
        ['port', 'PORT'],
        ['simPort', 'SIM_PORT'],
        ['dynamodbPort', 'DYNAMODB_PORT'],
        ['sqsPort', 'SQS_PORT'],
      ] as const) {
        const e = await start(tempDir(), { [option]: taken }).then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(e).toBeInstanceOf(PortInUseError);
        expect((e as Error).message).toBe(`port ${taken} is already in use: set ${variable} to another port`);
      }
      expect(leftovers([])).toEqual([]);
    } finally {
      blocker.close();
    }
  });

  it('requires script credentials with a real upstream, and never wipes a directory that is not its own', async () => {
    await expect(start(tempDir(), { shotgunUrl: 'https://example.shotgunstudio.com' })).rejects.toThrow(/SHOTGUN_SCRIPT_NAME and SHOTGUN_SCRIPT_KEY/);
    const foreign = tempDir();
    writeFileSync(join(foreign, 'precious.txt'), 'keep me');
    await expect(start(foreign, { fresh: true })).rejects.toThrow(/not an fpt-cache data directory/);
  });
});

async function firstProject(s: LocalStack): Promise<number> {
  const r = await postRpc(
    `${s.apiUrl}/api3/json`,
    rpcPayload('read', auth(s), findPlan({ type: 'Project', limit: 1 }, { version: [8, 50, 0], recordsPerPage: 500 }).params),
  );
  return (r.json() as { results: { entities: Array<{ id: number }> } }).results.entities[0].id;
}
