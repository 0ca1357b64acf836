// Benchmark of the response cache: hit ratio and site calls of a mixed read workload through the API, with RESPONSE_CACHE on and off.
import { Logger } from '@aws-lambda-powertools/logger';
import { createApiHandler, type CacheDeps } from '../functions/api/app.js';
import { startLocalApiGateway } from '../local/api-gateway.js';
import { API_FUNCTION } from '../local/functions.js';
import { DEFAULT_SCRIPT } from '../local/sim/credentials.js';
import { parseAccessRules, MemoryApiMetrics } from '../shared/reads/index.js';
import { firstPage, readParams as read, wireCondition as cond } from '../shared/site/index.js';
import { postRpc } from '../test/stack/http.js';
import { ms, table } from './measure.js';
import { withImportedCache } from './fixtures.js';
import { prng } from '../local/sim/prng.js';

/** Requests per configuration (bounded: the whole section takes seconds). */
const REQUESTS = 300;
const PLANNABLE_SHARE = 0.7;
/** Distinct unplannable request shapes the workload repeats. */
const UNPLANNABLE_SHAPES = 12;
/** A write-through of a Shot every this many requests (invalidates the Shot replies kept so far). */
const WRITE_EVERY = 100;
const SITE_LATENCY_MS = 20;
const AUTH = { script_name: DEFAULT_SCRIPT.name, script_key: DEFAULT_SCRIPT.key };

interface Run {
  label: string;
  hits: number;
  responseHits: number;
  siteReads: number;
  meanMs: number;
}

export async function benchResponseCache(): Promise<string> {
  return withImportedCache(
    { entities: 300, seed: 11, latencyMs: SITE_LATENCY_MS, tablePrefix: 'bench-respcache-' },
    async ({ site, ddb, client, schema, tables }) => {
      const shots = (await client.call<{ entities: Array<{ id: number }> }>('read', read('Shot', [], ['id'], firstPage(50)))).entities.map((e) => e.id);

      // The same sequence for both runs: 70 % plannable (a Shot by id), 30 % from a small set of unplannable shapes.
      const unplannable = (i: number) =>
        i % 3 === 0
          ? read('Shot', [cond('id', 'is', shots[i % shots.length])], ['code', 'sg_editorial_data'])
          : i % 3 === 1
            ? read('Icon', [cond('id', 'greater_than', i)], ['code'])
            : read('Shot', [cond('id', 'greater_than', i)], ['code', 'sg_editorial_data'], firstPage(5));
      const rand = prng(42);
      const sequence = Array.from({ length: REQUESTS }, () =>
        rand() < PLANNABLE_SHARE
          ? read('Shot', [cond('id', 'is', shots[Math.floor(rand() * shots.length)])], ['code', 'sg_status_list'])
          : unplannable(Math.floor(rand() * UNPLANNABLE_SHAPES)),
      );

      const runs: Run[] = [];
      for (const enabled of [false, true]) {
        const metrics = new MemoryApiMetrics();
        const cache: CacheDeps = {
          schema,
          ddb,
          tables,
          accessRules: parseAccessRules(undefined),
          scriptAuth: async () => AUTH,
          responseCache: { enabled },
        };
        const handler = createApiHandler({
          shotgun: { url: site.url, timeoutMs: 25_000, maxAttempts: 3 },
          logger: new Logger({ serviceName: 'fpt-cache-bench', logLevel: 'SILENT' }),
          metrics,
          cache,
        });
        const gw = await startLocalApiGateway({ port: 0, fn: API_FUNCTION.fn, handler });
        try {
          const url = `${gw.url}/api3/json`;
          await postRpc(url, { method_name: 'read', params: [AUTH, sequence[0]] }); // the credential's first check
          site.control.resetStats();
          let hits = 0;
          const t0 = performance.now();
          for (let i = 0; i < sequence.length; i++) {
            if (i > 0 && i % WRITE_EVERY === 0) {
              await postRpc(url, {
                method_name: 'update',
                params: [AUTH, { type: 'Shot', id: shots[0], fields: [{ field_name: 'description', value: `bench ${enabled} ${i}` }] }],
              });
            }
            const r = await postRpc(url, { method_name: 'read', params: [AUTH, sequence[i]] });
            if (r.headers['x-fpt-cache'] === 'hit') hits++;
          }
          const meanMs = (performance.now() - t0) / sequence.length;
          const siteReads = (site.control.stats().byMethod as Record<string, number>).read ?? 0;
          runs.push({ label: enabled ? 'on' : 'off (RESPONSE_CACHE=off)', hits, responseHits: metrics.counts.ResponseCacheHit, siteReads, meanMs });
        } finally {
          await gw.close();
        }
      }
      const rows = runs.map((r) => [r.label, `${((100 * r.hits) / REQUESTS).toFixed(1)} %`, r.responseHits, r.siteReads, ms(r.meanMs)]);
      return [
        '## Response cache',
        '',
        `${REQUESTS} reads through the API (local HTTP -> handler -> DynamoDB Local; the simulated site at ${SITE_LATENCY_MS} ms): ${Math.round(PLANNABLE_SHARE * 100)} % plannable (a Shot by id), the rest drawn from ${UNPLANNABLE_SHAPES} repeated unplannable shapes (Shot.sg_editorial_data, a serializable field the cache does not keep, by id and paged; Icon, an uncached type); a write-through of a Shot every ${WRITE_EVERY} requests. The same sequence for both runs.`,
        '',
        table(['response cache', 'hit ratio', 'response-cache hits', 'site reads', 'mean ms/request'], rows),
        '',
      ].join('\n');
    },
  );
}
