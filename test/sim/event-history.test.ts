// The seeded EventLogEntry history (SIM_EVENT_HISTORY): rows below the first real event, synthesized by id, read like real ones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimSite } from '../../local/sim/server.js';
import type { TestShotgun } from '../support/api3-client.js';
import { EVENT_FIELDS, eventsAfter, lastEventId, scriptClient, startTestSite } from '../support/sim-site.js';

let site: SimSite;
let sg: TestShotgun;

beforeAll(async () => {
  site = await startTestSite({ entities: 400, eventHistory: 3 });
  sg = await scriptClient(site);
});
afterAll(async () => {
  await site.close();
});

describe('seeded event history', () => {
  it('has several rows per entity, below the next event id, the same for the same seed', async () => {
    const stats = site.control.stats();
    const counts = stats.entities as Record<string, number>;
    expect(counts.EventLogEntry).toBe(1200);
    const last = await lastEventId(sg);
    expect(last).toBe((stats.nextEventId as number) - 1);
    const again = await startTestSite({ entities: 400, eventHistory: 3 });
    try {
      const a = await eventsAfter(sg, last - 300);
      expect(await eventsAfter(await scriptClient(again), last - 300)).toEqual(a);
    } finally {
      await again.close();
    }
  });

  it('reads page by id like real rows, oldest first, with entities of seeded types and times that follow the ids', async () => {
    const last = await lastEventId(sg);
    const first = last - 1199;
    const page = await eventsAfter(sg, first - 1000);
    expect(page.map((e) => e.id)).toEqual(Array.from({ length: 500 }, (_, i) => first + i));
    for (const e of page) {
      expect(e.event_type).toMatch(/^Shotgun_(Version|PublishedFile|Note|Task|Shot|Asset|Playlist|Sequence)_(New|Change)$/);
      expect(Object.keys(e).sort()).toEqual([...EVENT_FIELDS, 'type'].sort());
      expect((e.user as { type: string }).type).toBe('HumanUser');
    }
    // Links name their entity (null for the few retired since, as real rows show them).
    expect(page.filter((e) => (e.entity as { name?: unknown } | null)?.name).length).toBeGreaterThan(450);
    const times = page.map((e) => Date.parse(String(e.created_at)));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    const one = await sg.findOne('EventLogEntry', [['id', 'is', first + 7]], ['event_type', 'meta']);
    expect(one).toMatchObject({ id: first + 7, event_type: page[7].event_type, meta: page[7].meta });
  });

  it('puts real events after the history, and a poll crosses from one to the other', async () => {
    const last = await lastEventId(sg);
    const shot = await sg.findOne('Shot', [], ['id']);
    await sg.update('Shot', shot!.id as number, { description: 'after the history' });
    const rows = await eventsAfter(sg, last - 2);
    expect(rows[0].id).toBe(last - 1);
    expect(rows[1].id).toBe(last);
    expect(rows[2]).toMatchObject({ id: last + 1, event_type: 'Shotgun_Shot_Change', attribute_name: 'description' });
  });

  it('loses its oldest rows to retention like real ones', async () => {
    const last = await lastEventId(sg);
    const before = (site.control.stats().entities as Record<string, number>).EventLogEntry;
    site.chaos.apply({ trimBelow: last - 100 });
    expect((site.control.stats().entities as Record<string, number>).EventLogEntry).toBeLessThan(before);
    expect((await eventsAfter(sg, 0))[0].id).toBe(last - 100);
  });
});
