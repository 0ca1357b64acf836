// `fpt-cache import`, `fpt-cache validate`, `fpt-cache dlq replay`: the sync pipeline's operator commands, against a running local stack or AWS.
import { Logger } from '@aws-lambda-powertools/logger';
import {
  replayDeadLetters,
  importerFor,
  type ImportProgress,
  syncContextFromEnv,
  type SyncContext,
  validatorFor,
  type TypeValidation,
} from '../../shared/sync/index.js';
import { cliSyncEnv } from '../sync-local.js';
import type { FunctionEnv } from '../functions.js';

export const IMPORT_USAGE = `usage: fpt-cache import [--types Shot,Task,...] [--full]

Imports every cached type (or the listed ones) that is not ready yet from the site into the cache, and backfills
fields added to the schema since. Resumes an interrupted import from its checkpoints. --full re-imports every cached
type (they pass through until re-imported). With a running stack (npm start) whose importer is busy, shows its progress.
Targets the local stack (DYNAMODB_PORT, SIM_PORT or SHOTGUN_URL) unless ENTITIES_TABLE, STATE_TABLE and REFS_TABLE name deployed tables.`;

export const VALIDATE_USAGE = `usage: fpt-cache validate [--types Shot,Task,...] [--data N|all]

Compares the cache with the site: counts per type (active and retired), and field by field the N most recently
updated entities of each type (default 20; "all" compares every entity). Exits 1 when anything differs.`;

export const DLQ_USAGE = `usage: fpt-cache dlq replay

Moves every dead-lettered event back onto the event queue (EVENTS_DLQ_URL -> EVENTS_QUEUE_URL; locally the running
stack's queues on SQS_PORT).`;

const out = (line = '') => process.stdout.write(`${line}\n`);

type Flags = Map<string, string | true>;

function parseFlags(argv: string[], known: Record<string, 'value' | 'switch'>, usage: string): { flags: Flags; positional: string[] } {
  const flags: Flags = new Map();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('-')) {
      positional.push(arg);
      continue;
    }
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const kind = Object.hasOwn(known, flag) ? known[flag] : undefined;
    if (!kind) throw new CommandUsageError(`unknown flag ${flag}\n\n${usage}`);
    if (kind === 'switch') {
      flags.set(flag, true);
      continue;
    }
    const v = inline ?? argv[++i];
    if (v === undefined || v === '') throw new CommandUsageError(`${flag} needs a value\n\n${usage}`);
    flags.set(flag, v);
  }
  return { flags, positional };
}

/** A wrong command line: the CLI prints it with exit code 2. */
export class CommandUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandUsageError';
  }
}

const typesOf = (flags: Flags): string[] | undefined => {
  const v = flags.get('--types');
  return typeof v === 'string'
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;
};

async function context(env: FunctionEnv): Promise<SyncContext> {
  return syncContextFromEnv(cliSyncEnv(env));
}

const num = (n: number) => n.toLocaleString('en-US');
function duration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${Math.ceil(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.ceil(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Progress as a bar on a terminal (redrawn in place) or as a plain line every few seconds otherwise. */
export function progressRenderer(tty: boolean, write: (s: string) => void, now = Date.now): { update(p: ImportProgress): void; done(): void } {
  let lastLine = 0;
  let drawn = false;
  return {
    update(p) {
      const elapsed = Math.max(0.001, (now() - p.startedAt) / 1000);
      const rate = p.written / elapsed;
      const left = Math.max(0, p.total - p.done);
      const pct = p.total ? Math.min(100, Math.floor((p.done / p.total) * 100)) : 100;
      const running = Object.entries(p.types)
        .filter(([, t]) => t.pass !== 'done')
        .map(([n, t]) => `${n}${t.pass === 'retired' ? ' (retired)' : ''}`);
      const text = `${num(p.done)}/${num(p.total)} entities  ${pct}%  ${num(Math.round(rate))}/s  ETA ${rate > 0 ? duration(left / rate) : '?'}`;
      if (tty) {
        const width = 24;
        const fill = Math.round((pct / 100) * width);
        write(`\r\x1b[2K[${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${text}  ${running.slice(0, 3).join(', ')}`);
        drawn = true;
      } else if (now() - lastLine >= 5000 || left === 0) {
        lastLine = now();
        write(`import: ${text}${running.length ? `  (${running.join(', ')})` : ''}\n`);
      }
    },
    done() {
      if (drawn) write('\n');
    },
  };
}

export async function importCommand(argv: string[], env: FunctionEnv): Promise<number> {
  const { flags } = parseFlags(argv, { '--types': 'value', '--full': 'switch' }, IMPORT_USAGE);
  const ctx = await context(env);
  try {
    const logger = new Logger({ serviceName: 'fpt-cache-import', logLevel: 'WARN' });
    const importer = importerFor(ctx, { log: (m, x) => logger.info(m, x ?? {}) });
    if (flags.has('--full')) await ctx.importState.requestFull('fpt-cache import --full');
    const bar = progressRenderer(Boolean(process.stdout.isTTY), (s) => process.stdout.write(s));
    const started = Date.now();
    let waiting = false;
    for (;;) {
      const pageSize = Number(env.IMPORT_PAGE_SIZE);
      const outcome = await importer.run({
        types: typesOf(flags),
        onProgress: (p) => bar.update(p),
        ...(Number.isInteger(pageSize) && pageSize > 0 && pageSize <= 500 ? { pageSize } : {}),
      });
      if (outcome.complete) {
        bar.done();
        out(`fpt-cache import: complete (${num(outcome.written)} entities written in ${duration((Date.now() - started) / 1000)})`);
        return 0;
      }
      if (!outcome.busy) {
        bar.done();
        out('fpt-cache import: stopped before completion; run it again to resume');
        return 1;
      }
      // Another importer (the running stack's) holds the lease: show its progress from the checkpoints.
      if (!waiting) {
        out("fpt-cache import: another importer is running (the stack's); following its progress");
        waiting = true;
      }
      const cps = await ctx.importState.checkpoints();
      const run = await ctx.importState.run();
      if (run) {
        const types = Object.fromEntries(
          run.types.map((t) => {
            const c = cps.get(t)!;
            return [t, { pass: c?.pass ?? 'active', mode: c?.mode ?? 'full', done: c ? c.active + c.retired : 0, total: c?.total ?? 0 }];
          }),
        );
        const done = Object.values(types).reduce((n, t) => n + t.done, 0);
        bar.update({ types, done, total: Object.values(types).reduce((n, t) => n + Math.max(t.total, t.done), 0), written: done, startedAt: run.startedAt });
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  } finally {
    ctx.destroy();
  }
}

function typeLine(t: TypeValidation): string {
  const range = t.ids ? ` (ids ${num(t.ids.after + 1)}..${t.ids.upTo === undefined ? 'end' : num(t.ids.upTo)})` : '';
  const counts = `site ${num(t.site.active)}+${num(t.site.retired)} retired, cache ${num(t.cache.active)}+${num(t.cache.retired)} retired${range}`;
  if (!t.ready) return `  ${t.type.padEnd(16)} not ready (reads pass through)  ${counts}`;
  const countsDiffer = t.site.active !== t.cache.active || t.site.retired !== t.cache.retired;
  const status = countsDiffer || t.differing.length ? 'DRIFT' : 'ok';
  return `  ${t.type.padEnd(16)} ${status.padEnd(6)} ${counts}, ${num(t.compared)} compared, ${t.differing.length} differing`;
}

export async function validateCommand(argv: string[], env: FunctionEnv): Promise<number> {
  const { flags } = parseFlags(argv, { '--types': 'value', '--data': 'value' }, VALIDATE_USAGE);
  const rawData = flags.get('--data');
  let data: number | 'all' = 20;
  if (rawData === 'all') data = 'all';
  else if (typeof rawData === 'string') {
    data = Number(rawData);
    if (!Number.isInteger(data) || data < 0) throw new CommandUsageError(`--data must be a number or "all", not "${rawData}"\n\n${VALIDATE_USAGE}`);
  }
  const ctx = await context(env);
  try {
    const types = typesOf(flags);
    const unknown = (types ?? []).filter((t) => !ctx.schema.site.hasType(t));
    if (unknown.length) throw new CommandUsageError(`not cached types: ${unknown.join(', ')}`);
    const validator = validatorFor(ctx);
    out(`fpt-cache validate: ${ctx.client.endpoint} against the cache (${data === 'all' ? 'every entity' : `${data} most recently updated per type`})`);
    const report = await validator.run({ types, data, onType: (t) => out(typeLine(t)) });
    for (const t of report.types) {
      for (const d of t.differing.slice(0, 10)) out(`    ${t.type} ${d.id}${d.retired ? ' (retired)' : ''}: ${d.fields.join(', ')}`);
      if (t.differing.length > 10) out(`    ... and ${t.differing.length - 10} more`);
      if (t.cleared) out(`    ${t.type}: clean; back in service after its shadow mismatch`);
      else if (t.quarantined)
        out(`    ${t.type}: still served from the site (shadow mismatch); re-import it (fpt-cache import --full) or fix the drift, then validate again`);
    }
    out(report.drift ? `fpt-cache validate: DRIFT (${report.drift})` : 'fpt-cache validate: no drift');
    return report.drift ? 1 : 0;
  } finally {
    ctx.destroy();
  }
}

export async function dlqCommand(argv: string[], env: FunctionEnv): Promise<number> {
  const { positional } = parseFlags(argv, {}, DLQ_USAGE);
  if (positional[0] !== 'replay' || positional.length !== 1) throw new CommandUsageError(DLQ_USAGE);
  const ctx = await context(env);
  try {
    if (!ctx.queueUrl || !ctx.dlqUrl) throw new CommandUsageError(`EVENTS_QUEUE_URL and EVENTS_DLQ_URL must name the queues\n\n${DLQ_USAGE}`);
    const r = await replayDeadLetters(ctx.sqs, { dlqUrl: ctx.dlqUrl, queueUrl: ctx.queueUrl });
    out(`fpt-cache dlq replay: moved ${r.moved} message(s) back to the event queue${r.eventIds.length ? ` (events ${r.eventIds.join(', ')})` : ''}`);
    return 0;
  } finally {
    ctx.destroy();
  }
}
