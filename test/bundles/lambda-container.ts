// A Lambda container for one function's bundle: a read-only copy of the asset as task root, the Lambda environment, the template's timeout, frozen between invocations, peak RSS and logs recorded.
import { fork, type ChildProcess } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const BOOTSTRAP = fileURLToPath(new URL('./runtime/bootstrap.mjs', import.meta.url));

/** What a container needs of a function's definition (test/bundles/template.ts reads it off the template). */
export interface FunctionShape {
  /** Function name (AWS_LAMBDA_FUNCTION_NAME, what Ref resolves to) and ARN. */
  name: string;
  arn: string;
  assetDir: string;
  handler: string;
  runtime: string;
  memoryMb: number;
  timeoutS: number;
}

export interface ContainerSpec extends FunctionShape {
  /** The function's own environment (the template's, resolved), plus the role's credentials. */
  environment: Record<string, string>;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string };
}

export interface InvokeResult<R = unknown> {
  ok: boolean;
  value?: R;
  error?: { errorType: string; errorMessage: string; stack?: string[] };
  durationMs: number;
}

export interface Violation {
  kind: string;
  op?: string;
  path?: string;
  detail?: string;
}

type Message = { type: string; [k: string]: any };

/** Runtimes still running: killed when this process exits, so a frozen (SIGSTOPped) container never outlives the suite. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** Files of a directory with size and mtime: compared after the run to catch writes that went around the guard. */
function listing(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const s = statSync(p);
        out.set(relative(dir, p), `${s.size}:${s.mtimeMs}`);
      }
    }
  };
  walk(dir);
  return out;
}

function chmodTree(dir: string, mode: (isDir: boolean) => number): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) chmodTree(p, mode);
    chmodSync(p, mode(e.isDirectory()));
  }
  chmodSync(dir, mode(true));
}

export class LambdaContainer {
  readonly logs: string[] = [];
  readonly violations: Violation[] = [];
  /** Peak resident set size of the container so far, in MB. */
  peakRssMb = 0;
  initMs = 0;
  invocations = 0;
  private child?: ChildProcess;
  private pending?: { resolve: (r: InvokeResult) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };
  private readonly sandbox: string;
  private readonly taskRoot: string;
  private before = new Map<string, string>();
  private exited = false;

  private constructor(readonly spec: ContainerSpec) {
    // Under the OS temp directory, where no node_modules lies above: nothing resolves from outside the bundle.
    this.sandbox = mkdtempSync(join(tmpdir(), 'fpt-lambda-'));
    this.taskRoot = join(this.sandbox, 'task');
  }

  /** Copies the asset into a read-only task root, starts the runtime and runs the init phase (the module's top level). */
  static async start(spec: ContainerSpec): Promise<LambdaContainer> {
    const c = new LambdaContainer(spec);
    try {
      await c.boot();
    } catch (e) {
      await c.stop();
      throw e;
    }
    return c;
  }

  get root(): string {
    return this.taskRoot;
  }

  private async boot(): Promise<void> {
    const s = this.spec;
    cpSync(s.assetDir, this.taskRoot, { recursive: true });
    chmodTree(this.taskRoot, (d) => (d ? 0o555 : 0o444));
    this.before = listing(this.taskRoot);
    const env: Record<string, string> = {
      PATH: '/usr/local/bin:/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_EXECUTION_ENV: `AWS_Lambda_${s.runtime}`,
      AWS_LAMBDA_FUNCTION_NAME: s.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(s.memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${s.name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `local/[$LATEST]${randomUUID().replace(/-/g, '')}`,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      LAMBDA_TASK_ROOT: this.taskRoot,
      LAMBDA_RUNTIME_DIR: '/var/runtime',
      _HANDLER: s.handler,
      AWS_ACCESS_KEY_ID: s.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s.credentials.secretAccessKey,
      AWS_SESSION_TOKEN: s.credentials.sessionToken,
      // Paths under /var/task (SCHEMA) name files of the task root.
      ...Object.fromEntries(Object.entries(s.environment).map(([k, v]) => [k, v.replace(/(^|[=:,\s])\/var\/task(?=\/|$)/g, `$1${this.taskRoot}`)])),
    };
    const child = fork(BOOTSTRAP, [], { cwd: this.taskRoot, env, execArgv: [], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    this.child = child;
    live.add(child);
    const lines = (stream: NodeJS.ReadableStream | null) => {
      let rest = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (d: string) => {
        const parts = (rest + d).split('\n');
        rest = parts.pop() ?? '';
        this.logs.push(...parts.filter(Boolean));
      });
    };
    lines(child.stdout);
    lines(child.stderr);
    const ready = new Promise<void>((resolve, reject) => {
      child.on('message', (m: Message) => {
        if (typeof m.maxRssKb === 'number') this.peakRssMb = Math.max(this.peakRssMb, m.maxRssKb / 1024);
        if (m.type === 'ready') {
          this.initMs = m.initMs;
          resolve();
        }
        if (m.type === 'init-error') reject(new Error(`${s.name} init failed: ${m.error.errorType}: ${m.error.errorMessage}`));
        if (m.type === 'violation') this.violations.push({ kind: m.kind, op: m.op, path: m.path });
        if (m.type === 'crash') this.violations.push({ kind: 'crash', detail: `${m.error.errorType}: ${m.error.errorMessage}` });
        if (m.type === 'result' && this.pending) {
          const p = this.pending;
          this.pending = undefined;
          clearTimeout(p.timer);
          this.freeze();
          p.resolve({ ok: m.ok, value: m.value, error: m.error, durationMs: m.durationMs });
        }
      });
      child.on('exit', (code, signal) => {
        this.exited = true;
        live.delete(child);
        const e = new Error(`${s.name}: the runtime exited (${signal ?? code}) ${this.logs.slice(-5).join(' | ')}`);
        reject(e);
        if (this.pending) {
          clearTimeout(this.pending.timer);
          this.pending.reject(e);
          this.pending = undefined;
        }
      });
    });
    // Lambda's init phase has 10 s (on-demand); here the machine is shared, so the template timeout bounds it.
    const limit = setTimeout(() => child.kill('SIGKILL'), Math.max(10, s.timeoutS) * 1000);
    try {
      await ready;
    } finally {
      clearTimeout(limit);
    }
    this.freeze();
  }

  /** Lambda freezes the execution environment between invocations: nothing runs in the background. */
  private freeze(): void {
    if (!this.exited) this.child?.kill('SIGSTOP');
  }
  private thaw(): void {
    if (!this.exited) this.child?.kill('SIGCONT');
  }

  /** One invocation with the template's timeout: a run past it is killed, as Lambda does ("Task timed out"). */
  invoke<R = unknown>(event: unknown): Promise<InvokeResult<R>> {
    if (this.exited) return Promise.reject(new Error(`${this.spec.name}: the container is gone`));
    if (this.pending) return Promise.reject(new Error(`${this.spec.name}: one invocation at a time per container`));
    const timeoutMs = this.spec.timeoutS * 1000;
    this.invocations++;
    return new Promise<InvokeResult<R>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        this.child?.kill('SIGKILL');
        reject(new Error(`${this.spec.name}: Task timed out after ${this.spec.timeoutS}.00 seconds`));
      }, timeoutMs);
      this.pending = { resolve: resolve as (r: InvokeResult) => void, reject, timer };
      this.thaw();
      this.child!.send({
        type: 'invoke',
        event,
        timeoutMs,
        functionArn: this.spec.arn,
        requestId: randomUUID(),
        traceId: `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomUUID().replace(/-/g, '').slice(0, 24)};Sampled=0`,
      });
    });
  }

  /** The invocation's value, or an error naming the function when it failed. */
  async call<R = unknown>(event: unknown): Promise<R> {
    const r = await this.invoke<R>(event);
    if (!r.ok) throw new Error(`${this.spec.name} failed: ${r.error?.errorType}: ${r.error?.errorMessage}\n${(r.error?.stack ?? []).join('\n')}`);
    return r.value as R;
  }

  /** Log lines that are JSON objects (Powertools' structured lines and EMF documents). */
  jsonLogs(): Array<Record<string, unknown>> {
    return this.logs.flatMap((l) => {
      try {
        const v = JSON.parse(l) as unknown;
        return v && typeof v === 'object' ? [v as Record<string, unknown>] : [];
      } catch {
        return [];
      }
    });
  }

  /** Stops the runtime, records any change to the task root that slipped past the write guard, removes the sandbox. */
  async stop(): Promise<void> {
    if (this.child && !this.exited) {
      const gone = new Promise<void>((r) => this.child!.once('exit', () => r()));
      this.thaw();
      this.child.kill('SIGKILL');
      await gone;
    }
    if (existsSync(this.taskRoot)) {
      const after = listing(this.taskRoot);
      for (const [f, v] of after)
        if (this.before.get(f) !== v) this.violations.push({ kind: 'write', path: join(this.taskRoot, f), detail: 'task root changed' });
      for (const f of this.before.keys())
        if (!after.has(f)) this.violations.push({ kind: 'write', path: join(this.taskRoot, f), detail: 'file removed from the task root' });
      chmodTree(this.taskRoot, (d) => (d ? 0o755 : 0o644));
    }
    rmSync(this.sandbox, { recursive: true, force: true });
  }
}
