// Test helpers for the simulated site: start one on an ephemeral port, connect clients with each credential kind, read the event log.
import { startSimSite, type SimSite, type SimSiteOptions } from '../../local/sim/server.js';
import { DEFAULT_SCRIPT, DEFAULT_USER_PASSWORD, NO_EVENTS_SCRIPT } from '../../local/sim/credentials.js';
import { TestShotgun, type TestClientOptions } from './api3-client.js';

/** The fields shotgunEvents asks for when it polls. */
export const EVENT_FIELDS = ['id', 'event_type', 'attribute_name', 'meta', 'entity', 'user', 'project', 'session_uuid', 'created_at', 'description'];

export function startTestSite(opts: SimSiteOptions = {}): Promise<SimSite> {
  return startSimSite({ port: 0, ...opts });
}

export function scriptClient(site: SimSite, opts: TestClientOptions = {}): Promise<TestShotgun> {
  return TestShotgun.connect(site.url, { scriptName: DEFAULT_SCRIPT.name, apiKey: DEFAULT_SCRIPT.key }, opts);
}

export function noEventsClient(site: SimSite, opts: TestClientOptions = {}): Promise<TestShotgun> {
  return TestShotgun.connect(site.url, { scriptName: NO_EVENTS_SCRIPT.name, apiKey: NO_EVENTS_SCRIPT.key }, opts);
}

export function userClient(site: SimSite, login: string, opts: TestClientOptions = {}): Promise<TestShotgun> {
  return TestShotgun.connect(site.url, { login, password: DEFAULT_USER_PASSWORD }, opts);
}

/** The newest event id (shotgunEvents' startup find_one, order id desc), or 0. */
export async function lastEventId(sg: TestShotgun): Promise<number> {
  const e = await sg.findOne('EventLogEntry', [], ['id'], [{ column: 'id', direction: 'desc' }]);
  return e ? (e.id as number) : 0;
}

/** Events with id > `after`, ascending (shotgunEvents' poll). */
export function eventsAfter(sg: TestShotgun, after: number, fields: string[] = EVENT_FIELDS): Promise<Array<Record<string, any>>> {
  return sg.find('EventLogEntry', [['id', 'greater_than', after]], fields, [{ column: 'id', direction: 'asc' }], { limit: 500 });
}
