// The `fpt-cache` command line (npm start / npm run sim / bin/fpt-cache.js): one entry per subcommand in COMMANDS.
import { ConfigError } from '../shared/config.js';
import { currentLaunchers, watchLaunchers } from './launcher-watch.js';
import { PortInUseError } from './ports.js';
import { startSimSite, simOptionsFromEnv } from './sim/server.js';
import { startStack, stackOptionsFromEnv } from './stack.js';

interface Command {
  /** Shown by `help`. */
  summary: string;
  /** Flags the command accepts. */
  flags?: Record<string, string>;
  /** The command parses its own arguments (flags with values): they reach it unchecked, as `positional`. */
  raw?: boolean;
  run(args: ParsedArgs): Promise<number | 'running'>;
}

interface ParsedArgs {
  flags: Set<string>;
  positional: string[];
}

class UsageError extends Error {}

const out = (line = '') => process.stdout.write(`${line}\n`);
// The AWS SDK's notice that Node 20 support ends in 2027 concerns this machine's Node, not the Lambda runtime
// (nodejs24.x): keep it out of the operator's terminal.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
/** Who started us, taken before any slow startup work (see local/launcher-watch.ts). */
const launchers = currentLaunchers();
const err = (line: string) => process.stderr.write(`${line}\n`);

/** Runs `stop` once on Ctrl-C, SIGTERM, SIGHUP or when its launcher exits, then exits 0; a second signal exits at once. */
function stopOnSignals(stop: () => Promise<void>): void {
  let stopping = false;
  /** Stops, then exits with `code`; a failed stop is reported and exits with `failedCode`. */
  const stopThenExit = (code: number, failedCode: number) =>
    stop().then(
      () => process.exit(code),
      (e) => {
        err(`fpt-cache: error while stopping: ${(e as Error).message}`);
        process.exit(failedCode);
      },
    );
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    out(`\nfpt-cache: ${signal}, stopping...`);
    void stopThenExit(0, 1);
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);
  watchLaunchers((pid) => {
    if (stopping) return;
    stopping = true;
    out(`fpt-cache: the process that started it (pid ${pid}) is gone or detached, stopping...`);
    void stopThenExit(0, 0);
  }, launchers);
  const crash = (e: unknown) => {
    err(`fpt-cache: crashed: ${(e as Error)?.message ?? String(e)}`);
    void stopThenExit(1, 1);
  };
  process.on('uncaughtException', crash);
  process.on('unhandledRejection', crash);
}

const COMMANDS: Record<string, Command> = {
  start: {
    summary: 'run the whole stack on this machine: API on PORT (8010), simulated site on SIM_PORT (8020) unless SHOTGUN_URL is set, DynamoDB Local, local SQS',
    flags: { '--fresh': 'wipe DATA_DIR (.fpt-cache/) first' },
    async run(args) {
      const stack = await startStack({ ...stackOptionsFromEnv(process.env), fresh: args.flags.has('--fresh'), simProcess: true });
      stopOnSignals(() => stack.stop());
      const base = stack.apiUrl;
      out(`fpt-cache: local stack ready in ${(stack.startupMs / 1000).toFixed(1)} s`);
      out(`  API          ${base}/api3/json  (status: ${base}/status)`);
      out(`  upstream     ${stack.simUrl ? `simulated site ${stack.simUrl}` : stack.upstream}`);
      out(`  DynamoDB     ${stack.dynamodb.endpoint}  (tables ${stack.tables.entities}, ${stack.tables.state}, ${stack.tables.refs})`);
      out(`  SQS          ${stack.sqs.queueUrl}`);
      out(`  data         ${stack.dataDir}`);
      out('');
      out('Point shotgun_api3 at it:');
      if (stack.sim) {
        out(`  Shotgun("${base}", script_name="${stack.functionEnv.SHOTGUN_SCRIPT_NAME}", api_key="${stack.functionEnv.SHOTGUN_SCRIPT_KEY}")`);
      } else {
        out(`  Shotgun("${base}", script_name="<your script>", api_key="<its key>")   # your own credentials pass through to ${stack.upstream}`);
      }
      out('Ctrl-C stops it.');
      return 'running';
    },
  },
  sim: {
    summary: 'run only the simulated Shotgun site (SIM_PORT, SIM_LATENCY_MS, SIM_ENTITIES, SIM_SEED, DATA_DIR)',
    async run() {
      const site = await startSimSite(simOptionsFromEnv(process.env));
      stopOnSignals(() => site.close());
      out(`fpt-cache: simulated Shotgun site at ${site.url}`);
      out(`  Shotgun("${site.url}", script_name="${site.credentials.scriptName}", api_key="${site.credentials.scriptKey}")`);
      out('Ctrl-C stops it.');
      return 'running';
    },
  },
  import: {
    summary: 'import what is not ready yet from the site into the cache (--types A,B; --full), resuming from checkpoints; progress bar on a terminal',
    raw: true,
    async run(args) {
      const { importCommand } = await import('./commands/sync.js');
      return importCommand(args.positional, process.env);
    },
  },
  validate: {
    summary: 'compare the cache with the site: counts per type and N entities field by field (--types A,B; --data N|all); exit 1 on drift',
    raw: true,
    async run(args) {
      const { validateCommand } = await import('./commands/sync.js');
      return validateCommand(args.positional, process.env);
    },
  },
  calibrate: {
    summary:
      "measure the site's read rules (NULL and text order, entity sort key, empty or, negation and NULL, missing fields) with read-only probes; --show prints the stored ones",
    raw: true,
    async run(args) {
      const { calibrateCommand } = await import('./commands/calibrate.js');
      return calibrateCommand(args.positional, process.env);
    },
  },
  dlq: {
    summary: 'dlq replay: move dead-lettered events back onto the event queue',
    raw: true,
    async run(args) {
      const { dlqCommand } = await import('./commands/sync.js');
      return dlqCommand(args.positional, process.env);
    },
  },
  schema: {
    summary:
      "schema dump --types Shot,Task,... [--rules FILE] [--out FILE] [--from FILE]: write the cached-schema YAML from the site's schema_read (SHOTGUN_URL, SHOTGUN_SCRIPT_NAME, SHOTGUN_SCRIPT_KEY)",
    raw: true,
    async run(args) {
      const [sub, ...rest] = args.positional;
      if (sub !== 'dump') {
        err('fpt-cache: usage: fpt-cache schema dump --types Shot,Task,... [--rules FILE] [--out FILE]');
        return 2;
      }
      const { schemaDump } = await import('./commands/schema-dump.js');
      return schemaDump(rest, process.env);
    },
  },
  help: {
    summary: 'this text',
    async run() {
      out(usage());
      return 0;
    },
  },
};

function usage(): string {
  const lines = ['usage: fpt-cache <command> [flags]   (npm start = fpt-cache start; npm start -- --fresh)', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) {
    lines.push(`  ${name.padEnd(8)} ${c.summary}`);
    for (const [flag, text] of Object.entries(c.flags ?? {})) lines.push(`  ${''.padEnd(8)}   ${flag}  ${text}`);
  }
  lines.push(
    '',
    'environment: PORT SIM_PORT DYNAMODB_PORT SQS_PORT DATA_DIR SHOTGUN_URL SHOTGUN_SCRIPT_NAME SHOTGUN_SCRIPT_KEY',
    '             SCHEMA POLL_INTERVAL_MS SIM_LATENCY_MS SIM_ENTITIES SIM_SEED',
  );
  return lines.join('\n');
}

function parseArgs(command: Command, argv: string[]): ParsedArgs {
  const parsed: ParsedArgs = { flags: new Set(), positional: [] };
  if (command.raw) return { flags: parsed.flags, positional: [...argv] };
  for (const a of argv) {
    if (a.startsWith('-')) {
      if (!command.flags || !(a in command.flags)) throw new UsageError(`unknown flag ${a}`);
      parsed.flags.add(a);
    } else {
      parsed.positional.push(a);
    }
  }
  return parsed;
}

/** Runs the command line; resolves to an exit code, or 'running' for commands that serve until a signal. */
export async function main(argv: string[]): Promise<number | 'running'> {
  const [name = 'help', ...rest] = argv;
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    err(`fpt-cache: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(parseArgs(command, rest));
  } catch (e) {
    if (e instanceof UsageError) {
      err(`fpt-cache ${name}: ${e.message}\n\n${usage()}`);
      return 2;
    }
    // A command that parses its own arguments says what is wrong with them and how to call it.
    if ((e as Error)?.name === 'CommandUsageError') {
      err(`fpt-cache ${name}: ${(e as Error).message}`);
      return 2;
    }
    // Operator errors (a taken port, a missing variable) and any other startup failure: one line, no stack trace.
    const known = e instanceof PortInUseError || e instanceof ConfigError;
    err(`fpt-cache: ${known ? '' : `${name} failed: `}${(e as Error)?.message ?? String(e)}`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 'running') process.exit(code);
  },
  (e) => {
    err(`fpt-cache: ${(e as Error)?.message ?? String(e)}`);
    process.exit(1);
  },
);
