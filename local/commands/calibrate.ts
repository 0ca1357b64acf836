// `fpt-cache calibrate`: measures the site's read rules with read-only probes (shared/calibration.ts), stores them, and shows each as measured or assumed.
import type { RuleName, RuleRecord } from '../../shared/semantics/index.js';
import { calibrationFor, syncContextFromEnv } from '../../shared/sync/index.js';
import type { FunctionEnv } from '../functions.js';
import { cliSyncEnv } from '../sync-local.js';
import { CommandUsageError } from './sync.js';

export const CALIBRATE_USAGE = `usage: fpt-cache calibrate [--show]

Runs read-only probes, as the cache's script, that establish how the site sorts NULLs and text, how it sorts entity
fields, what an empty "or" group matches, whether negations match NULL rows, what a negation through a multi-entity
path means, what an empty "contains" operand and a None among "in" values match, and what a missing return field
gives; stores the rules the read path follows and shows each one as measured (with its probe) or assumed (the
documented default, when the data cannot decide; reads decided by the operand rules pass until those are measured).
--show prints the stored rules without probing.`;

const out = (line = '') => process.stdout.write(`${line}\n`);

/** One line per rule, then its probe and evidence. */
export function ruleLines(report: Record<RuleName, RuleRecord>): string[] {
  const lines: string[] = [];
  for (const [name, r] of Object.entries(report)) {
    lines.push(`  ${name.padEnd(19)} ${r.value.padEnd(17)} ${r.status}${r.at ? ` (${r.at})` : ''}`);
    if (r.probe) lines.push(`      probe: ${r.probe}`);
    if (r.evidence) lines.push(`      found: ${r.evidence}`);
  }
  return lines;
}

export async function calibrateCommand(argv: string[], env: FunctionEnv): Promise<number> {
  const unknown = argv.filter((a) => a !== '--show');
  if (unknown.length) throw new CommandUsageError(`unknown argument ${unknown[0]}\n\n${CALIBRATE_USAGE}`);
  const ctx = await syncContextFromEnv(cliSyncEnv(env));
  try {
    if (argv.includes('--show')) {
      out('fpt-cache calibrate: the stored site rules');
      for (const l of ruleLines((await ctx.readiness.load()).siteRules.report())) out(l);
      return 0;
    }
    out(`fpt-cache calibrate: probing ${ctx.client.endpoint}`);
    const { rules } = await calibrationFor(ctx)();
    for (const l of ruleLines(rules.report())) out(l);
    const unmatched = Object.entries(rules.report())
      .filter(([, r]) => r.status === 'unmatched')
      .map(([n]) => n);
    if (unmatched.length)
      out(`fpt-cache calibrate: the site behaves unlike any modelled rule for ${unmatched.join(', ')}: reads that depend on them pass through`);
    return 0;
  } finally {
    ctx.destroy();
  }
}
