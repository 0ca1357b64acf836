// Benchmark of the rebuild after a trimmed event log against a full re-import on the same gap: wall time and site reads.
//
//   npm run bench -- rebuild   (benchRebuild(entities = 3000, gapWrites = 300))
//
// Real handlers' code paths (the importer with its rebuilder) against DynamoDB Local and the simulated site over HTTP.
// The site is set to move updated_at on back-references and revives and the facts are recorded as learned, so every
// type is rebuilt by scan and id diff (the tests prove the learning; this measures the cost).
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startDynamoDbLocal } from '../local/dynamodb-local.js';
import { freePort } from '../local/ports.js';
import { DEFAULT_SCRIPT } from '../local/sim/credentials.js';
import { startSimSite } from '../local/sim/server.js';
import { loadCachedSchema } from '../shared/schema/index.js';
import { batchParams, deleteParams, readParams, ShotgunClient } from '../shared/site/index.js';
import { ensureTables, RebuildState, SiteBehaviour, tableNames } from '../shared/store/index.js';
import { CLOCK_MARGIN_MS, importerFor, syncContextFromEnv } from '../shared/sync/index.js';
import { importAlone, syncEnv } from './fixtures.js';

export async function benchRebuild(entities = 3000, gapWrites = 300): Promise<string> {
  const schema = loadCachedSchema('schema/default.yml');
  const ddbLocal = await startDynamoDbLocal({ port: await freePort() });
  const site = await startSimSite({ port: 0, entities, stamps: { backRefBumpsUpdatedAt: true, reviveBumpsUpdatedAt: true } });
  const tables = tableNames(`bench-rebuild-${Date.now()}-`);
  const ddb = new DynamoDBClient({ endpoint: ddbLocal.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await ensureTables(ddb, tables);
  const noSqs = { queueUrl: 'http://127.0.0.1:1/q', dlqUrl: 'http://127.0.0.1:1/d', endpoint: 'http://127.0.0.1:1' };
  const env = syncEnv({ siteUrl: site.url, tables, sqs: noSqs, dynamodbEndpoint: ddbLocal.endpoint }, { POWERTOOLS_LOG_LEVEL: 'CRITICAL' });
  const ctx = await syncContextFromEnv(env, { schema });
  const sg = new ShotgunClient({ url: site.url, scriptName: DEFAULT_SCRIPT.name, scriptKey: DEFAULT_SCRIPT.key, health: false });
  const reads = () => {
    const st = site.control.stats() as { readsByType: Record<string, number>; idReadsByType: Record<string, number> };
    const sum = (m: Record<string, number>) => Object.entries(m).reduce((n, [t, v]) => (t === 'EventLogEntry' ? n : n + v), 0);
    return { all: sum(st.readsByType), ids: sum(st.idReadsByType) };
  };
  const measure = async (fn: () => Promise<unknown>) => {
    const r0 = reads();
    const t0 = Date.now();
    await fn();
    const r1 = reads();
    return { s: (Date.now() - t0) / 1000, reads: r1.all - r0.all, idReads: r1.ids - r0.ids };
  };
  try {
    await importAlone(ctx).run();
    const behaviour = new SiteBehaviour(ctx.doc, tables.state);
    await behaviour.set('backRef', 'bumps');
    await behaviour.set('revive', 'bumps');
    const since = Date.now() - CLOCK_MARGIN_MS;
    // The gap: direct edits in batches of 50, every tenth a relink of its Sequence, then a few retirements.
    const shots = (
      await sg.call<{ entities: Array<{ id: number }> }>('read', readParams('Shot', [], ['id'], { paging: { entities_per_page: 500, current_page: 1 } }))
    ).entities;
    const seqs = (await sg.call<{ entities: Array<{ id: number }> }>('read', readParams('Sequence', [], ['id']))).entities;
    for (let i = 0; i < gapWrites; i += 50) {
      const reqs = Array.from({ length: Math.min(50, gapWrites - i) }, (_, j) => {
        const k = i + j;
        const data = k % 10 === 0 ? { sg_sequence: { type: 'Sequence', id: seqs[k % seqs.length].id } } : { description: `gap ${k}` };
        return { request_type: 'update' as const, entity_type: 'Shot', entity_id: shots[k % shots.length].id, data };
      });
      await sg.call('batch', batchParams(reqs));
    }
    for (let i = 0; i < 5; i++) await sg.call('delete', deleteParams('Shot', shots[shots.length - 1 - i].id));

    const state = new RebuildState(ctx.doc, tables.state);
    await state.request({ since, reason: 'bench', at: Date.now() });
    const t0 = Date.now();
    const log = process.env.BENCH_LOG
      ? (m: string, x?: Record<string, unknown>) =>
          process.stderr.write(`${((Date.now() - t0) / 1000).toFixed(1)}s ${m} ${JSON.stringify(x ?? {}).slice(0, 200)}\n`)
      : undefined;
    const rebuild = await measure(() => importerFor(ctx, { log }).run());
    await ctx.importState.requestFull('bench: the same gap re-imported');
    const full = await measure(() => importerFor(ctx).run());
    const row = (what: string, m: typeof rebuild) =>
      `| ${what} | **${m.s.toFixed(1)} s**; ${m.reads} entity reads (${m.idReads} of \`id\` alone, ${m.reads - m.idReads} with fields) |`;
    return [
      '## Rebuild after a trimmed event log (bench/rebuild.ts)',
      '',
      `One run, ${entities} entities, a gap of ${gapWrites} Shot writes (every tenth a relink) and 5 retirements; every type rebuilt by scan`,
      'and id diff (back-references and revives recorded as moving updated_at). Same machine caveats as above.',
      '',
      '| what | figure |',
      '|---|---|',
      row('rebuild: uncached targets, updated_at scans from the last seen event less 10 min, id diffs', rebuild),
      row('full re-import of the same state', full),
      `| ratio | the rebuild takes **${((rebuild.s / full.s) * 100).toFixed(0)} %** of the re-import's time |`,
      '',
    ].join('\n');
  } finally {
    ctx.destroy();
    ddb.destroy();
    await site.close();
    await ddbLocal.stop();
  }
}
