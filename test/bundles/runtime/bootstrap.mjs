// The bundle test's Lambda runtime stand-in (a child process): a read-only filesystem outside /tmp, Node's own modules only, and
// the task root's handler invoked once per message from the parent with a Lambda-like context. Plain JavaScript: no tsx, no loaders.
import fs from 'node:fs';
import { register, syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { resolve as resolvePath, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

const env = process.env;
const taskRoot = resolvePath(env.LAMBDA_TASK_ROOT);
const send = (m) => process.send(m);
// Peak RSS of this process: VmHWM (getrusage's maxrss would carry the parent's peak over fork and exec).
const maxRssKb = () => {
  try {
    return Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
  } catch {
    return process.resourceUsage().maxRSS;
  }
};
const errorOf = (e) => ({
  errorType: e?.name ?? 'Error',
  errorMessage: e?.message ?? String(e),
  code: e?.code,
  stack: String(e?.stack ?? '')
    .split('\n')
    .slice(0, 8),
});

// ---- Lambda's filesystem: read-only except /tmp. Every write elsewhere fails with EROFS and is reported to the parent.
const writable = [...new Set([resolvePath('/tmp'), resolvePath(tmpdir())])];
const asPath = (p) => resolvePath(p instanceof URL ? fileURLToPath(p) : Buffer.isBuffer(p) ? p.toString() : String(p));
function writableAt(p) {
  const abs = asPath(p);
  if (abs === taskRoot || abs.startsWith(taskRoot + sep)) return false;
  return writable.some((w) => abs === w || abs.startsWith(w + sep));
}
function refusal(op, p) {
  send({ type: 'violation', kind: 'write', op, path: asPath(p) });
  return Object.assign(new Error(`EROFS: read-only file system, ${op} '${asPath(p)}'`), { code: 'EROFS', errno: -30, syscall: op, path: asPath(p) });
}
const { O_WRONLY, O_RDWR, O_CREAT, O_APPEND, O_TRUNC } = fs.constants;
const writesWith = (flags) =>
  flags !== undefined &&
  flags !== null &&
  (typeof flags === 'number' ? (flags & (O_WRONLY | O_RDWR | O_CREAT | O_APPEND | O_TRUNC)) !== 0 : /[wa+]/.test(String(flags)));
function guard(obj, name, badPath) {
  const original = obj[name];
  if (typeof original !== 'function') return;
  obj[name] = function guarded(...args) {
    const bad = badPath(args);
    if (bad === undefined) return original.apply(this, args);
    const e = refusal(name, bad);
    const callback = args[args.length - 1];
    if (obj === fs.promises) return Promise.reject(e);
    if (!name.endsWith('Sync') && typeof callback === 'function') return void process.nextTick(callback, e);
    throw e;
  };
}
/** Operation -> the argument positions that name a path it writes. */
const WRITES = {
  writeFile: [0],
  appendFile: [0],
  mkdir: [0],
  mkdtemp: [0],
  rm: [0],
  rmdir: [0],
  unlink: [0],
  rename: [0, 1],
  copyFile: [1],
  cp: [1],
  symlink: [1],
  link: [1],
  truncate: [0],
  chmod: [0],
  chown: [0],
  lchown: [0],
  utimes: [0],
  lutimes: [0],
};
for (const [name, positions] of Object.entries(WRITES)) {
  const bad = (args) => positions.map((i) => args[i]).find((p) => p !== undefined && typeof p !== 'number' && !writableAt(p));
  for (const [obj, n] of [
    [fs, name],
    [fs, `${name}Sync`],
    [fs.promises, name],
  ])
    guard(obj, n, bad);
}
const openBad = (args) => (typeof args[0] !== 'number' && writesWith(args[1]) && !writableAt(args[0]) ? args[0] : undefined);
for (const [obj, n] of [
  [fs, 'open'],
  [fs, 'openSync'],
  [fs.promises, 'open'],
])
  guard(obj, n, openBad);
guard(fs, 'createWriteStream', (args) => (typeof args[0] === 'number' || writableAt(args[0]) ? undefined : args[0]));
syncBuiltinESMExports();

// ---- Modules: Node's built-ins and the task root's own files (runtime/hooks.mjs).
register('./hooks.mjs', import.meta.url, { data: { taskRoot, runtime: env.AWS_EXECUTION_ENV ?? 'Lambda' } });

// The parent is gone (the suite stopped): so is the container.
process.on('disconnect', () => process.exit(0));
process.on('unhandledRejection', (e) => {
  send({ type: 'crash', error: { ...errorOf(e), errorType: 'Runtime.UnhandledPromiseRejection' } });
  process.exit(128);
});
process.on('uncaughtException', (e) => {
  send({ type: 'crash', error: errorOf(e) });
  process.exit(129);
});

// ---- Init: the handler's module from the task root (index.mjs, .js or .cjs), as the Node.js runtime looks for it.
let handler;
const t0 = performance.now();
try {
  const [moduleName, exportName] = [env._HANDLER.slice(0, env._HANDLER.lastIndexOf('.')), env._HANDLER.slice(env._HANDLER.lastIndexOf('.') + 1)];
  const file = ['.mjs', '.js', '.cjs'].map((ext) => resolvePath(taskRoot, moduleName + ext)).find((f) => fs.existsSync(f));
  if (!file) throw Object.assign(new Error(`Cannot find module '${moduleName}' in ${taskRoot}`), { name: 'Runtime.ImportModuleError' });
  const mod = await import(pathToFileURL(file).href);
  handler = mod[exportName];
  if (typeof handler !== 'function') throw Object.assign(new Error(`${env._HANDLER} is undefined or not exported`), { name: 'Runtime.HandlerNotFound' });
  send({ type: 'ready', initMs: performance.now() - t0, maxRssKb: maxRssKb() });
} catch (e) {
  send({ type: 'init-error', error: errorOf(e), initMs: performance.now() - t0, maxRssKb: maxRssKb() });
}

// ---- Invocations, one at a time, as the runtime API hands them out.
process.on('message', async (m) => {
  if (m?.type !== 'invoke' || !handler) return;
  const started = Date.now();
  const deadline = started + m.timeoutMs;
  const unsupported = () => {
    throw new Error('callback-style completion is not supported');
  };
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: m.functionArn,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: m.requestId,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
  env._X_AMZN_TRACE_ID = m.traceId;
  try {
    const value = await handler(m.event, context);
    // The runtime returns the JSON serialization of the value (undefined becomes null).
    const wire = JSON.stringify(value ?? null);
    send({ type: 'result', requestId: m.requestId, ok: true, value: JSON.parse(wire), durationMs: Date.now() - started, maxRssKb: maxRssKb() });
  } catch (e) {
    send({ type: 'result', requestId: m.requestId, ok: false, error: errorOf(e), durationMs: Date.now() - started, maxRssKb: maxRssKb() });
  }
});
