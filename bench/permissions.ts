// Benchmark of permission views: what verifying each caller's own view costs (extra site calls) and the hit ratio each kind of caller keeps, over one mixed read workload.
import { Logger } from '@aws-lambda-powertools/logger';
import { createApiHandler, type CacheDeps } from '../functions/api/app.js';
import { startLocalApiGateway } from '../local/api-gateway.js';
import { API_FUNCTION } from '../local/functions.js';
import { DEFAULT_SCRIPT, DEFAULT_USER_PASSWORD } from '../local/sim/credentials.js';
import { SEEDED_PROFILE_LOGINS } from '../local/sim/permissions.js';
import { prng } from '../local/sim/prng.js';
import { MemoryApiMetrics, parseAccessRules } from '../shared/reads/index.js';
import { readParams as read, wireCondition as cond } from '../shared/site/index.js';
import { postRpc } from '../test/stack/http.js';
import { table } from './measure.js';
import { withImportedCache } from './fixtures.js';

const REQUESTS = 300;
const SITE_LATENCY_MS = 20;
const TTL_S = 600;
const SCRIPT = { script_name: DEFAULT_SCRIPT.name, script_key: DEFAULT_SCRIPT.key };
const user = (login: string) => ({ user_login: login, user_password: DEFAULT_USER_PASSWORD });

/** A tool-like mix: the types and fields artists' tools read most, filtered by project, status or id. */
const SHAPES: Array<[string, string[]]> = [
  ['Shot', ['code', 'sg_status_list', 'project', 'sg_sequence']],
  ['Shot', ['code', 'description', 'sg_cut_in']],
  ['Task', ['content', 'sg_status_list', 'entity', 'step', 'task_assignees']],
  ['Task', ['content', 'due_date', 'start_date']],
  ['Version', ['code', 'entity', 'user', 'sg_status_list']],
  ['Asset', ['code', 'sg_asset_type', 'project']],
  ['Project', ['name', 'sg_status']],
  ['HumanUser', ['login', 'name']],
  ['Sequence', ['code', 'project']],
];

export async function benchPermissions(): Promise<string> {
  return withImportedCache(
    { entities: 300, seed: 11, latencyMs: SITE_LATENCY_MS, tablePrefix: 'bench-perm-' },
    async ({ site, ddb, client, schema, tables }) => {
      const projects = (await client.call<{ entities: Array<{ id: number }> }>('read', read('Project', [], ['id']))).entities.map((p) => p.id);
      const rand = prng(7);
      const sequence = Array.from({ length: REQUESTS }, () => {
        const [type, fields] = SHAPES[Math.floor(rand() * SHAPES.length)];
        const conditions =
          type !== 'Project' && type !== 'HumanUser' && rand() < 0.6
            ? [cond('project', 'is', { type: 'Project', id: projects[Math.floor(rand() * projects.length)] })]
            : [];
        if (rand() < 0.3) conditions.push(cond('id', 'greater_than', Math.floor(rand() * 5000)));
        return read(type, conditions, fields, { paging: { entities_per_page: 50, current_page: 1 } });
      });
      const callers: Array<[string, Record<string, unknown>]> = [
        ["the cache's script (trusted)", SCRIPT],
        ['unrestricted lead (probed)', user(SEEDED_PROFILE_LOGINS.lead)],
        ['restricted artist (1 project, 2 hidden fields)', user(SEEDED_PROFILE_LOGINS.restrictedArtist)],
        ['vendor (row rules on Task, Version, Note)', user(SEEDED_PROFILE_LOGINS.vendor)],
      ];
      const rows: Array<Array<string | number>> = [];
      for (const [label, auth] of callers) {
        const metrics = new MemoryApiMetrics();
        const cache: CacheDeps = {
          schema,
          ddb,
          tables,
          accessRules: parseAccessRules(undefined),
          scriptAuth: async () => SCRIPT,
          responseCache: { enabled: false },
        };
        const handler = createApiHandler({
          shotgun: { url: site.url, timeoutMs: 25_000, maxAttempts: 3 },
          logger: new Logger({ serviceName: 'fpt-cache-bench', logLevel: 'SILENT' }),
          metrics,
          cache,
          api: { permissionViewTtlMs: TTL_S * 1000 },
        });
        const gw = await startLocalApiGateway({ port: 0, fn: API_FUNCTION.fn, handler });
        try {
          site.control.resetStats();
          let hits = 0;
          for (const params of sequence) {
            const r = await postRpc(`${gw.url}/api3/json`, { method_name: 'read', params: [auth, params] });
            if (r.headers['x-fpt-cache'] === 'hit') hits++;
          }
          const byMethod = site.control.stats().byMethod as Record<string, number>;
          const siteCalls = Object.values(byMethod).reduce((a, b) => a + b, 0);
          const probes = metrics.counts.PermissionProbes;
          // Each probe asks the site twice (as the caller and as the script); a continuously active caller re-probes each type once per TTL.
          const perHour = probes * 2 * (3600 / TTL_S);
          rows.push([label, `${((100 * hits) / REQUESTS).toFixed(1)} %`, siteCalls, probes, probes * 2, perHour]);
        } finally {
          await gw.close();
        }
      }
      return [
        '## Permission views',
        '',
        `${REQUESTS} reads through the API as each caller (the same sequence: ${SHAPES.length} tool-like shapes over Shot, Task, Version, Asset, Project, HumanUser, Sequence, 60 % confined to a project; the simulated site at ${SITE_LATENCY_MS} ms with its seeded permission profiles; PERMISSION_VIEW_TTL_SECONDS ${TTL_S}). A probe asks the site twice (as the caller, as the script); extra calls per hour assume a caller active the whole hour, re-probing each type it reads once per TTL. Every answer is the site's answer for that caller (test/api/permissions.test.ts, test/reads/generated.test.ts).`,
        '',
        table(['caller', 'hit ratio', 'site calls', 'probes (types touched)', 'extra site calls (probes)', 'extra site calls per hour'], rows),
        '',
      ].join('\n');
    },
  );
}
