// `npm run bench`: runs every benchmark section in turn and writes the figures to docs/benchmarks.md.
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

type Section = { name: string; run: () => Promise<string> };

/** Sections load lazily so one that is missing or failing does not stop the others. */
const SECTIONS: Section[] = [
  { name: 'engine', run: async () => (await import('./engine.js')).benchEngine() },
  { name: 'api', run: async () => (await import('./api.js' as string)).benchApi() },
  { name: 'reply-memo', run: async () => (await import('./reply-memo.js' as string)).benchReplyMemo() },
  { name: 'sync', run: async () => (await import('./sync.js' as string)).benchSync() },
  { name: 'burst', run: async () => (await import('./burst.js' as string)).benchBurst() },
  { name: 'response-cache', run: async () => (await import('./response-cache.js' as string)).benchResponseCache() },
  { name: 'shadow', run: async () => (await import('./shadow.js' as string)).benchShadow() },
  { name: 'toolkit', run: async () => (await import('./toolkit.js' as string)).benchToolkit() },
  { name: 'event-log', run: async () => (await import('./event-log.js' as string)).benchEventLog() },
  { name: 'permissions', run: async () => (await import('./permissions.js' as string)).benchPermissions() },
  { name: 'outage', run: async () => (await import('./outage.js' as string)).benchOutage() },
  { name: 'rebuild', run: async () => (await import('./rebuild.js' as string)).benchRebuild() },
  { name: 'bundles', run: async () => (await import('./bundles.js' as string)).benchBundles() },
];

/** `--scale [sizes]`: the Scale section alone (long), spliced into docs/benchmarks.md in place of the previous one. */
async function scale(sizes: string | undefined): Promise<void> {
  const { benchScale } = await import('./scale.js');
  const section = await benchScale(sizes ? sizes.split(',').map(Number) : undefined);
  const doc = readFileSync('docs/benchmarks.md', 'utf8');
  const at = doc.indexOf('\n## Scale');
  const end = at < 0 ? -1 : doc.indexOf('\n## ', at + 1);
  writeFileSync('docs/benchmarks.md', at < 0 ? `${doc.trimEnd()}\n\n${section}` : `${doc.slice(0, at + 1)}${section}${end < 0 ? '' : doc.slice(end)}`);
  process.stdout.write(section + '\n');
  process.exit(0);
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  if (only[0] === '--scale') return scale(only[1]);
  const parts: string[] = [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}. Everything runs on this one machine over loopback: DynamoDB Local, the local SQS, the simulated site. Figures are for comparison between configurations on the same machine, not AWS latencies.`,
    '',
  ];
  let failed = 0;
  for (const s of SECTIONS) {
    if (only.length && !only.includes(s.name)) continue;
    const t0 = Date.now();
    process.stderr.write(`bench: ${s.name} ...\n`);
    try {
      parts.push(await s.run());
      process.stderr.write(`bench: ${s.name} done in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
    } catch (e) {
      failed++;
      const msg = (e as Error).message.split('\n')[0];
      parts.push(`## ${s.name}\n\nNot measured in this run: ${msg}\n`);
      process.stderr.write(`bench: ${s.name} failed: ${msg}\n`);
    }
  }
  const out = parts.join('\n');
  if (!only.length) writeFileSync('docs/benchmarks.md', out);
  process.stdout.write(out + '\n');
  process.exit(failed ? 1 : 0);
}

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
void main();
