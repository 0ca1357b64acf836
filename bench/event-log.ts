// Benchmark of tk-core's path-cache reads of EventLogEntry answered from the kept event log (the real poller, local SQS, DynamoDB Local) against the simulated site at 150 ms.
import { Logger } from '@aws-lambda-powertools/logger';
import { createApiHandler } from '../functions/api/app.js';
import { startLocalApiGateway, type LocalApiGateway } from '../local/api-gateway.js';
import { API_FUNCTION } from '../local/functions.js';
import { DEFAULT_SCRIPT } from '../local/sim/credentials.js';
import { startLocalSqs, type LocalSqs } from '../local/sqs-local.js';
import { createParams, readParams as read, wireCondition as cond } from '../shared/site/index.js';
import { benchPoller, type ImportedCache, withImportedCache } from './fixtures.js';
import { postRpc } from '../test/stack/http.js';
import { measure, ms, table } from './measure.js';

const SITE_LATENCY_MS = 150;
const EVENTS = 200;
const AUTH = { script_name: DEFAULT_SCRIPT.name, script_key: DEFAULT_SCRIPT.key };
const TK = cond('event_type', 'in', 'Toolkit_Folders_Create', 'Toolkit_Folders_Delete');

export async function benchEventLog(): Promise<string> {
  const sqs = await startLocalSqs({ port: 0 });
  try {
    return await withImportedCache({ entities: 300, seed: 9, latencyMs: 0, tablePrefix: 'bench-event-log-' }, (c) => measureReads(c, sqs));
  } finally {
    await sqs.close();
  }
}

async function measureReads(c: ImportedCache, sqs: LocalSqs): Promise<string> {
  const { site, ddb, client, schema, tables } = c;
  const logger = new Logger({ serviceName: 'fpt-cache-bench', logLevel: 'SILENT' });
  let api: LocalApiGateway | undefined;
  try {
    const poll = await benchPoller(c, sqs, logger);
    api = await startLocalApiGateway({
      port: 0,
      fn: API_FUNCTION.fn,
      handler: createApiHandler({
        shotgun: { url: site.url, timeoutMs: 25_000, maxAttempts: 3 },
        logger,
        cache: { schema, ddb, tables, accessRules: {}, scriptAuth: async () => AUTH },
      }),
    });
    await poll();
    const project = (await client.call<{ entities: Array<{ type: string; id: number }> }>('read', read('Project', [], ['id']))).entities[0];
    let first = 0;
    for (let i = 0; i < EVENTS; i++) {
      const e = await client.call<{ id: number }>(
        'create',
        createParams('EventLogEntry', {
          event_type: i % 4 === 3 ? 'Toolkit_Folders_Delete' : 'Toolkit_Folders_Create',
          description: 'Toolkit bench',
          project,
          meta: { core_api_version: 'HEAD', sg_folder_ids: [i, i + 1] },
        }),
      );
      first ||= e.id;
    }
    await poll();
    const shapes = [
      {
        name: `incremental sync: ${EVENTS} events after the marker (find, id asc)`,
        params: read('EventLogEntry', [TK, cond('id', 'greater_than', first - 1), cond('project', 'is', project)], ['id', 'meta', 'event_type'], {
          sorts: [{ field_name: 'id', direction: 'asc' }],
          return_paging_info_without_counts: true,
        }),
      },
      {
        name: 'incremental sync: nothing new (one row)',
        params: read('EventLogEntry', [TK, cond('id', 'greater_than', first + EVENTS - 2), cond('project', 'is', project)], ['id', 'meta', 'event_type'], {
          sorts: [{ field_name: 'id', direction: 'asc' }],
          return_paging_info_without_counts: true,
        }),
      },
      {
        name: 'full sync marker (find_one, id desc)',
        params: read('EventLogEntry', [TK, cond('project', 'is', project)], ['id'], {
          sorts: [{ field_name: 'id', direction: 'desc' }],
          paging: { entities_per_page: 1, current_page: 1 },
        }),
      },
    ];
    site.control.setLatency(SITE_LATENCY_MS);
    const rows: Array<Array<string | number>> = [];
    for (const s of shapes) {
      const payload = { method_name: 'read', params: [AUTH, s.params] };
      const viaCache = await postRpc(`${api.url}/api3/json`, payload);
      const direct = await postRpc(`${site.url}/api3/json`, payload);
      const identical = viaCache.body.equals(direct.body) ? 'yes' : 'NO';
      const c = await measure(() => postRpc(`${api!.url}/api3/json`, payload), { iterations: 40 });
      const d = await measure(() => postRpc(`${site.url}/api3/json`, payload), { iterations: 10, warmup: 1 });
      rows.push([
        s.name,
        `${viaCache.headers['x-fpt-cache']} (${viaCache.headers['x-fpt-cache-reason']})`,
        identical,
        `${ms(c.p50)} / ${ms(c.p99)}`,
        `${ms(d.p50)} / ${ms(d.p99)}`,
      ]);
    }
    site.control.setLatency(0);
    return [
      '## EventLogEntry path-cache reads from the kept event log (issue 14 item 6)',
      '',
      `tk-core's path-cache reads (python/tank/path_cache.py shapes) after the real poller kept ${EVENTS} Toolkit_Folders_* events of one project, ` +
        `through the cached API and straight to the simulated site at ${SITE_LATENCY_MS} ms latency. Identical: byte for byte. p50 / p99 in ms (40 calls through the cache, 10 to the site).`,
      '',
      table(['read', 'answered', 'identical', 'through the cache', 'straight to the site'], rows),
      '',
    ].join('\n');
  } finally {
    await api?.close();
  }
}
