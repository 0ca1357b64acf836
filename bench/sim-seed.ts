// The simulated site's seeding alone at a size: time, CPU, entities, the heap and RSS it leaves (node --expose-gc --import tsx bench/sim-seed.ts 1000000).
import { DEFAULT_SCRIPTS } from '../local/sim/credentials.js';
import { loadSiteSchema, Connections } from '../local/sim/site-schema.js';
import { SiteStore } from '../local/sim/store.js';
import { seedSite, type SeedMix } from '../local/sim/seed.js';
import { SiteSchema } from '../shared/schema/index.js';

const mb = (b: number) => Math.round(b / 2 ** 20);

/** Seeds a bare store (no HTTP server) and reports what it costs. */
export function benchSimSeed(size: number, mix: SeedMix = 'studio', eventHistory = 3): Record<string, number> {
  const schema = new SiteSchema(structuredClone(loadSiteSchema().file));
  const store = new SiteStore(schema.typeNames);
  const before = process.memoryUsage();
  const cpu0 = process.cpuUsage();
  const { counts, ms } = seedSite(schema, store, new Connections(schema), { seed: 1, entities: size, scripts: DEFAULT_SCRIPTS, mix, eventHistory });
  const cpu = process.cpuUsage(cpu0);
  globalThis.gc?.();
  const after = process.memoryUsage();
  const entities = Object.entries(counts).reduce((a, [t, n]) => (t === 'EventLogEntry' ? a : a + n), 0);
  // A poll page of the history (500 synthesized rows, from its middle) and the newest row, as the poller reads them.
  const h = store.history?.spec;
  const t1 = performance.now();
  const page = h ? store.eventRows(Math.floor((h.firstId + h.lastId) / 2), Infinity, 501, false).length : 0;
  store.eventRows(-Infinity, Infinity, 2, true);
  const pageMs = performance.now() - t1;
  return {
    size,
    entities,
    seedS: Math.round(ms / 100) / 10,
    cpuS: Math.round((cpu.user + cpu.system) / 1e5) / 10,
    heapMB: mb(after.heapUsed - before.heapUsed),
    rssMB: mb(after.rss),
    bytesPerEntity: Math.round((after.heapUsed - before.heapUsed) / entities),
    historyRows: counts.EventLogEntry ?? 0,
    historyPageRows: page,
    historyPageMs: Math.round(pageMs * 10) / 10,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sizes = (process.argv[2] ?? '200000').split(',').map(Number);
  const history = Number(process.env.SCALE_EVENT_HISTORY ?? 3);
  for (const s of sizes) console.log(JSON.stringify(benchSimSeed(s, (process.env.SCALE_MIX ?? 'studio') as SeedMix, history)));
}
