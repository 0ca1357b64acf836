// The "Scale" section of docs/benchmarks.md rendered from the scale benchmark's runs (bench/scale.ts).
import { ms, table } from './measure.js';
import type { ScaleRun } from './scale.js';

/** How the runs were made, for the section's text. */
export interface SectionSettings {
  disk: boolean;
  mix: string;
  reads: number;
  sweep: boolean;
}

/** The "Scale" section of docs/benchmarks.md from runs at each size. */
export function scaleSection(runs: ScaleRun[], o: SectionSettings, storage?: { size: number; memory: number; file: number }): string {
  const base = runs[0];
  const rows = runs.map((r) => [
    r.size.toLocaleString('en'),
    r.entities.toLocaleString('en'),
    r.seedS.toFixed(0),
    r.importS.toFixed(0),
    Math.round(r.importRate),
    `${r.importCpuMs.node.toFixed(2)} / ${r.importCpuMs.dynamo.toFixed(2)}`,
    `${(r.importRate / base.importRate).toFixed(2)}x`,
    `${r.burst.events} in ${r.burst.appliedS.toFixed(1)} s = ${Math.round(r.burst.rate)}/s`,
    r.burst.siteReads,
    r.reconcileS.toFixed(1),
    r.validateS.toFixed(1),
    r.rssNodeMB,
    r.rssDynamoMB,
    r.rssDynamoGcMB,
  ]);
  const readRows = runs.flatMap((r) =>
    r.reads.map((x, i) => {
      const b = base.reads[i];
      return [
        r.size.toLocaleString('en'),
        x.shape,
        x.returned,
        x.items,
        x.rcu.toFixed(1),
        ms(x.p50),
        ms(x.p99),
        `${(x.p50 / b.p50).toFixed(2)}x`,
        `${(x.p99 / b.p99).toFixed(2)}x`,
      ];
    }),
  );
  return [
    '## Scale (issue #25)',
    '',
    `\`npm run bench -- --scale\`: per size a fresh simulated site (no latency; SIM_MIX=${o.mix}), ${o.disk ? 'a file-backed DynamoDB Local (as `npm start` runs it)' : 'an in-memory DynamoDB Local (`npm start` runs it file-backed: see "Import: in-memory vs file-backed" below)'}, the local SQS and the functions' own handlers, all on this one machine (2 cores shared with other engineers' work while this ran: figures are noisy; ratios are against the smallest size in the same run).`,
    '',
    '- import: the importer alone (`fpt-cache import`), every cached type, 3 types at a time, 500 per page.',
    '- burst: single-field updates of distinct Tasks written through the site\'s `batch` (100 per call), the poller every 1 s, the consumer behind the FIFO emulation (batches of 10, 5 in flight); time from the first write until the last event is applied; "site reads" is every `read` the site answered meanwhile (the poller\'s event-log reads included).',
    `- reconcile: one pass, the updated_at scans of every type${o.sweep ? ' and the id sweep' : ' (the id sweep, once a day, not included)'}; validate: counts and the 20 most recently updated entities of every type, compared field by field.`,
    '- RSS: the bench process alone (site, importer, consumer, engine in one Node process) and DynamoDB Local, after the run; "after a full GC": DynamoDB Local once its JVM has collected (`jcmd GC.run`): its tables, which live in native memory (SQLite), and the live heap.',
    '- import CPU: CPU time per imported entity, of the bench process (site and importer) and of DynamoDB Local.',
    '',
    table(
      [
        'size (SIM_ENTITIES)',
        'cached entities',
        'seed s',
        'import s',
        'import /s',
        'import CPU ms/entity (node / DynamoDB Local)',
        'import rate vs first',
        'burst',
        'site reads in burst',
        'reconcile s',
        'validate s',
        'RSS node MB',
        'RSS DynamoDB Local MB',
        'after a full GC MB',
      ],
      rows,
    ),
    '',
    `Reads through the read engine in-process against DynamoDB Local (${o.reads} timed calls each, sequential, after warm-up); "items" and "RCU" are what one call read (ReturnConsumedCapacity):`,
    '',
    table(['size', 'shape', 'entities', 'items', 'RCU', 'p50 ms', 'p99 ms', 'p50 vs first', 'p99 vs first'], readRows),
    '',
    ...(storage
      ? [
          '### Import: in-memory vs file-backed DynamoDB Local',
          '',
          `The same import of SIM_ENTITIES=${storage.size.toLocaleString('en')} in this run, once into an in-memory DynamoDB Local and once into a file-backed one (\`-dbPath\`, what \`npm start\` runs): ${Math.round(storage.memory)} vs ${Math.round(storage.file)} entities/s, file-backed ${(storage.file / storage.memory).toFixed(2)}x in-memory.`,
          '',
        ]
      : []),
  ].join('\n');
}
