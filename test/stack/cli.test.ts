// The command line as an operator runs it: usage and exit codes, one-line errors, and `start` serving until SIGTERM with nothing left behind.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCachedSchema } from '../../shared/schema/index.js';
import { httpRequest } from './http.js';
import { waitFor } from './wait.js';

const root = join(import.meta.dirname, '..', '..');
// The operator's own command (bin/fpt-cache.js: tsx loaded in-process, so signals reach the CLI with no relay).
const bin = join(root, 'bin', 'fpt-cache.js');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'fpt-cache-cli-'));
  dirs.push(d);
  return d;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI's own environment: no inherited stack variables, every port ephemeral. */
function cliEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    PORT: '0',
    SIM_PORT: '0',
    DYNAMODB_PORT: '0',
    SQS_PORT: '0',
    SIM_ENTITIES: '40',
  };
  return { ...env, ...extra };
}

function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: cliEnv({ DATA_DIR: tempDir(), ...env }) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** stderr minus Node's own runtime warnings (the AWS SDK's Node-version notice), which are not ours to print. */
const ourLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('fpt-cache'));

describe('fpt-cache command line', () => {
  it('prints usage for help (exit 0) and for an unknown command or flag (exit 2)', async () => {
    const [help, unknown, badFlag] = await Promise.all([run(['help']), run(['frobnicate']), run(['start', '--frob'])]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^\s+start\s/m);
    expect(help.stdout).toMatch(/^\s+sim\s/m);
    expect(help.stdout).toMatch(/--fresh/);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/);
    expect(unknown.stderr).toMatch(/usage: fpt-cache/);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/unknown flag --frob/);
  });

  it('writes the cached-schema YAML with schema dump, and gives usage for a bad subcommand', async () => {
    const outFile = join(tempDir(), 'dump.yml');
    // An absolute --from: as long as the checkout's own path, which the written file must carry whatever its length.
    const from = join(root, 'local', 'sim', 'site-schema.yml');
    const [dump, bad] = await Promise.all([run(['schema', 'dump', '--from', from, '--types', 'Shot,Task', '--out', outFile]), run(['schema', 'frob'])]);
    expect(dump.code).toBe(0);
    const written = readFileSync(outFile, 'utf8');
    expect(written).toMatch(/^ {2}Shot:$/m);
    expect(written).toMatch(/^ {2}Task:$/m);
    expect(written).not.toMatch(/^ {2}Asset:$/m);
    expect(parseCachedSchema(written, outFile).site.file.source).toBe(`fpt-cache schema dump of ${from}`);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/usage: fpt-cache schema dump/);
  });

  it('fails on a taken port or a half-configured upstream with one line and no stack trace', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const [port, upstream] = await Promise.all([
        run(['start'], { PORT: String(taken) }),
        run(['start'], { SHOTGUN_URL: 'https://example.shotgunstudio.com' }),
      ]);
      expect(port.code).toBe(1);
      expect(ourLines(port.stderr)).toEqual([`fpt-cache: port ${taken} is already in use: set PORT to another port`]);
      expect(port.stderr).not.toMatch(/\n\s+at /);
      expect(upstream.code).toBe(1);
      expect(ourLines(upstream.stderr)).toEqual([
        'fpt-cache: SHOTGUN_URL names a real site: set SHOTGUN_SCRIPT_NAME and SHOTGUN_SCRIPT_KEY to its script credentials too',
      ]);
    } finally {
      blocker.close();
    }
  });

  it('starts the stack, tells where to point shotgun_api3, and stops everything on SIGTERM', async () => {
    const child = spawn(process.execPath, [bin, 'start'], { cwd: root, env: cliEnv({ DATA_DIR: tempDir() }) });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.resume();
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    try {
      await waitFor('the ready banner', () => stdout.includes('Ctrl-C stops it.'), 100_000);
      const api = /API\s+(http:\/\/127\.0\.0\.1:\d+)\/api3\/json/.exec(stdout)![1];
      const ddbPort = /DynamoDB\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)![1];
      expect(stdout).toContain(`Shotgun("${api}", script_name="fpt-cache", api_key="fpt-cache-local-key")`);
      // Ready once every cached type is imported and the poller follows the log (the import runs after start).
      const status = await waitFor(
        'the stack ready',
        async () => {
          const st = (await httpRequest(`${api}/status`, { method: 'GET' })).json() as { ready: boolean };
          if (!st.ready) await new Promise((r) => setTimeout(r, 200));
          return st.ready ? st : undefined;
        },
        90_000,
      );
      expect(status.ready).toBe(true);
      const jvm = () =>
        execFileSync('ps', ['-eo', 'args='])
          .toString()
          .split('\n')
          .filter((l) => l.includes('DynamoDBLocal.jar') && l.includes(`-port ${ddbPort} `));
      expect(jvm().length).toBeGreaterThan(0);
      // The simulated site runs in a process of its own (local/sim-process.ts), a child of the stack's.
      const sims = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(child.pid)])
        .toString()
        .split('\n')
        .filter((l) => l.includes('cli.ts sim'))
        .map((l) => Number(l.trim().split(/\s+/)[0]));
      expect(sims).toHaveLength(1);
      const alive = (pid: number) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(jvm()).toEqual([]);
      expect(sims.filter(alive)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  }, 120_000); // a DynamoDB Local JVM start on two busy cores
});
