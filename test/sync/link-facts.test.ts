// Link facts pushed by one entity's event while the target's own events are applied (issue 24): a push of what an older read of the target showed must not win.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deleteParams, reviveParams, updateParams } from '../../shared/site/index.js';
import { EventApplier, type EventRow } from '../../shared/sync/index.js';
import type { EntityStore } from '../../shared/store/index.js';
import { both, cond, importAll, readParams, schema, startRig, type Rig } from './helpers.js';

type Row = Record<string, any>;
let rig: Rig;

beforeAll(async () => {
  rig = await startRig('link-facts', { entities: 60, seed: 17 });
  expect((await importAll(rig)).complete).toBe(true);
}, 120_000);
afterAll(() => rig?.close());

const find = async (type: string, conditions: unknown[], fields: string[]) =>
  (await rig.sg.call<{ entities: Row[] }>('read', readParams(type, conditions, fields))).entities;

it('a Shot revived while a Sequence event pushes the retired flag it read before ends with every link showing it active', async () => {
  // A Shot that a Task links, and a Sequence of its project it is not in.
  const task = (await find('Task', [], ['entity'])).find((t) => t.entity?.type === 'Shot')!;
  const [shot] = await find('Shot', [cond('id', 'is', task.entity.id)], ['sg_sequence', 'project']);
  const other = (await find('Sequence', [cond('project', 'is', shot.project)], ['code'])).find((s) => s.id !== shot.sg_sequence?.id)!;
  expect(other).toBeDefined();
  const after = await rig.ctx.events.latestId();

  // On the site: the Shot retired, revived, then moved into the other Sequence (a back-reference Change of its shots).
  await rig.sg.call('delete', deleteParams('Shot', shot.id));
  await rig.sg.call('revive', reviveParams('Shot', shot.id));
  await rig.sg.call('update', updateParams('Shot', shot.id, { sg_sequence: { type: 'Sequence', id: other.id } }));
  const events = await rig.ctx.events.readAfter(after, 500);
  const at = (type: string) => events.findIndex((e) => e.event_type === type);
  const retirement = events.slice(0, at('Shotgun_Shot_Retirement') + 1);
  const revival = events.slice(retirement.length, at('Shotgun_Shot_Revival') + 1);
  const backRef = events.find((e) => e.event_type === 'Shotgun_Sequence_Change' && e.entity?.id === other.id)!;
  expect(retirement.length && revival.length && backRef).toBeTruthy();

  // The store as the consumer uses it, with the pushes of `retired: true` into links to the Shot held at a gate.
  let reached!: () => void;
  const held = new Promise<void>((r) => (reached = r));
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const real = rig.ctx.store;
  const store = new Proxy(real, {
    get(target, p) {
      if (p === 'propagateLinkFacts')
        return async (...args: Parameters<EntityStore['propagateLinkFacts']>) => {
          const [to, facts] = args;
          if (to.type === 'Shot' && to.id === shot.id && facts.retired === true && armed) {
            armed = false;
            reached();
            await gate;
          }
          return real.propagateLinkFacts(...args);
        };
      const v = Reflect.get(target, p, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  let armed = false;
  const applier = new EventApplier({ schema, store, fetcher: rig.ctx.fetcher, events: rig.ctx.events });
  const apply = async (evs: EventRow[]) => {
    for (const ev of evs) await applier.apply(ev);
  };

  // The Shot's group: its retirement applied. The Sequence's group: its back-reference re-reads the shots (the Shot is
  // active again on the site, a new link), finds the stored Shot retired and pushes that; held until the Shot's group
  // has applied the revival (and pushed `retired: false`), then let go.
  await apply(retirement);
  armed = true;
  const sequenceGroup = apply([backRef]);
  await Promise.race([held, sequenceGroup.then(() => expect.fail('the back-reference pushed no retired flag of the Shot'))]);
  await apply(revival);
  release();
  await sequenceGroup;
  await apply(events.filter((e) => !retirement.includes(e) && !revival.includes(e) && e !== backRef));

  // Every link to the Shot shows it active, as the site does.
  const taskRead = await both(rig, readParams('Task', [cond('id', 'is', task.id)], ['entity']));
  expect(JSON.stringify(taskRead.cache)).toBe(JSON.stringify(taskRead.site));
  const sequenceRead = await both(rig, readParams('Sequence', [cond('id', 'is', other.id)], ['shots']));
  expect(JSON.stringify(sequenceRead.cache)).toBe(JSON.stringify(sequenceRead.site));
  const stored = await real.get('Task', task.id);
  expect(stored!.links.find((l) => l.type === 'Shot' && l.id === shot.id)?.retired).toBe(false);
}, 60_000);
