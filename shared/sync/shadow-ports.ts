// The shadow verifier's ports over a sync context: the read engine's answer now, the site's, where the sync stands, and the stale-or-wrong classification with its repair.
//
// Shared by the verifier function (verdicts on samples) and the reconciler (re-checks that lift a quarantine).
import { ReadEngine } from '../query/index.js';
import { ShadowVersions, type ShadowVerifierDeps } from '../shadow/index.js';
import { EntityRefresher, fetchable } from './entity-refresh.js';
import type { SyncContext } from './sync-context.js';

export type ShadowPorts = Omit<ShadowVerifierDeps, 'settleMs' | 'roundMs' | 'minQuietRounds' | 'now' | 'sleep'>;

/** `onRepair`: told how many entities a repair re-read and wrote. */
export function shadowPorts(ctx: SyncContext, opts: { onRepair?: (n: number) => void } = {}): ShadowPorts {
  const readiness = ctx.readiness.snapshots(2_000);
  const engine = new ReadEngine(ctx.store, ctx.schema, { readiness });
  const refresher = new EntityRefresher({ schema: ctx.schema, store: ctx.store, fetcher: ctx.fetcher, events: ctx.events, lease: ctx.lease });
  const versions = new ShadowVersions({
    schema: ctx.schema,
    store: ctx.store,
    fetcher: ctx.fetcher,
    events: ctx.events,
    async refresh(type, ids) {
      const r = await refresher.refresh(type, ids, fetchable(ctx.schema, await readiness(), type));
      return r.written + r.removed;
    },
  });
  return {
    async cacheAnswer(method, params) {
      const out = method === 'summarize' ? await engine.summarize(params) : await engine.read(params);
      return out.served ? { results: out.result } : undefined;
    },
    siteAnswer: (method, params) => ctx.client.call(method, params, { idempotent: true }),
    siteHead: () => ctx.events.latestId(),
    cursorHead: async () => (await ctx.lease.read()).cursor?.maxSeen ?? 0,
    classify: (type, differences, cache, site) => versions.classify(type, differences, cache, site),
    async repair(entities) {
      const n = await versions.repair(entities);
      opts.onRepair?.(n);
      return n;
    },
  };
}
