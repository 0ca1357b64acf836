// The simulated site in a process of its own (npm start): its work never shares the cache's event loop, as a hosted site's never does.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SimSite } from './sim/server.js';

/** What the stack needs of a simulated site it does not hold in memory. */
export type SimHandle = Pick<SimSite, 'url' | 'port' | 'credentials' | 'close'>;

const CLI = join(dirname(fileURLToPath(import.meta.url)), 'cli.ts');

/**
 * Runs `local/cli.ts sim` (SIM_PORT, SIM_*, DATA_DIR from `env`) in its own process group, so a Ctrl-C reaches the
 * stack alone, which stops it last (its consumer drains the queue by re-reading from the site). It stops by itself
 * when the stack's process is gone (local/launcher-watch.ts), and saves its snapshot on SIGTERM as `npm run sim` does.
 */
export async function startSimProcess(env: NodeJS.ProcessEnv, opts: { timeoutMs?: number } = {}): Promise<SimHandle> {
  const childEnv: NodeJS.ProcessEnv = { ...env };
  delete childEnv.npm_command; // its launcher is the stack's process, not npm
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'sim'], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const started = await new Promise<{ url: string; scriptName: string; scriptKey: string }>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`the simulated site did not start within ${opts.timeoutMs ?? 600_000} ms`)), opts.timeoutMs ?? 600_000);
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(e);
    };
    child.once('exit', (code) => fail(new Error(`the simulated site exited (${code}) before it started: ${stderr.trim().split('\n').slice(-3).join(' ')}`)));
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const url = /simulated Shotgun site at (\S+)/.exec(stdout)?.[1];
      const creds = /script_name="([^"]+)", api_key="([^"]+)"/.exec(stdout);
      if (url && creds) {
        clearTimeout(timer);
        resolve({ url, scriptName: creds[1], scriptKey: creds[2] });
      }
    });
  });
  // Started: its banner is read and nothing more is kept; its warnings and errors go where the stack's do.
  child.stdout.removeAllListeners('data');
  child.stdout.resume();
  child.stderr.removeAllListeners('data');
  child.stderr.pipe(process.stderr);
  return {
    url: started.url,
    port: Number(new URL(started.url).port),
    credentials: { scriptName: started.scriptName, scriptKey: started.scriptKey },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
