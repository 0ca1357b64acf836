import { startSimSite } from '../local/sim/server.js';
import { loadCachedSchema } from '../shared/schema/index.js';
import { Calibration } from '../shared/sync/calibration.js';
import { ShotgunClient } from '../shared/site/index.js';
const schema = loadCachedSchema('schema/default.yml');
const site = await startSimSite({ port: 0, entities: 300, seed: 13 });
const client = new ShotgunClient({ url: site.url, scriptName: site.credentials.scriptName, scriptKey: site.credentials.scriptKey } as never);
for (const sem of [{}, { multiNegation: 'some' }, { multiNegation: 'none-nonempty', emptyOperand: 'ignored', inNullScalar: 'sql', inNullLink: 'ignored' }, { multiNegation: 'some-or-empty', emptyOperand: 'none', inNullScalar: 'ignored', inNullLink: 'sql', negationNulls: 'exclude' }]) {
  site.control.reset(); site.control.setSemantics(sem as never);
  const t = Date.now();
  const { records } = await new Calibration(client, schema).run();
  console.log(JSON.stringify(sem), Date.now() - t, 'ms');
  for (const k of ['negationNulls', 'multiNegation', 'emptyOperand', 'inNullScalar', 'inNullLink'] as const) console.log(' ', k, records[k].value, records[k].status, '|', records[k].probe, '|', records[k].evidence);
}
await site.close();
