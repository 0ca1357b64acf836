import { describe, expect, it } from 'vitest';
import {
  advance,
  backlogIds,
  initialCursor,
  keptLogSettingsFromEnv,
  keptUntilS,
  knownIds,
  messageGroupId,
  nextKept,
  owningEntity,
  type EventRow,
} from '../../shared/sync/index.js';

const ev = (id: number, extra: Partial<EventRow> = {}): EventRow => ({ id, event_type: 'Shotgun_Shot_Change', entity: { type: 'Shot', id: 7 }, ...extra });
const ids = (rows: EventRow[]) => rows.map((r) => r.id);

describe('event-log cursor', () => {
  it('forwards new ids in order and records gaps as backlog', () => {
    const r = advance(initialCursor(10), [ev(14), ev(11), ev(12)], 1000, 60_000);
    expect(ids(r.forward)).toEqual([11, 12, 14]);
    expect(r.next.maxSeen).toBe(14);
    expect(backlogIds(r.next)).toEqual([13]);
    expect(r.newlyMissing).toEqual([13]);
  });

  it('forwards a late-committed id once, and never re-forwards seen ids', () => {
    const a = advance(initialCursor(10), [ev(11), ev(13)], 1000, 60_000);
    const b = advance(a.next, [ev(11), ev(12), ev(13), ev(14)], 2000, 60_000);
    expect(ids(b.forward)).toEqual([12, 14]);
    expect(backlogIds(b.next)).toEqual([]);
    const c = advance(b.next, [ev(12), ev(14)], 3000, 60_000);
    expect(c.forward).toEqual([]);
  });

  it('drops backlog ids after the timeout and reports them', () => {
    const a = advance(initialCursor(0), [ev(1), ev(4)], 0, 5000);
    expect(backlogIds(a.next)).toEqual([2, 3]);
    const b = advance(a.next, [ev(3)], 4999, 5000);
    expect(ids(b.forward)).toEqual([3]);
    expect(b.expired).toEqual([]);
    const c = advance(b.next, [], 5000, 5000);
    expect(c.expired).toEqual([2]);
    expect(backlogIds(c.next)).toEqual([]);
    expect(c.next.maxSeen).toBe(4);
  });

  it('keys messages by the owning entity, not by back-reference meta', () => {
    expect(messageGroupId(ev(1))).toBe('Shot#7');
    const retired = ev(2, { entity: null, event_type: 'Shotgun_Task_Change', meta: { entity_type: 'Task', entity_id: 99, attribute_name: 'content' } });
    expect(owningEntity(retired)).toEqual({ type: 'Task', id: 99 });
    const backRef = ev(3, {
      entity: null,
      event_type: 'Shotgun_Shot_Change',
      meta: { entity_type: 'Task', entity_id: 5, actual_attribute_changed: 'Task.entity' },
    });
    expect(owningEntity(backRef)).toBeNull();
    const backRefLive = ev(4, { entity: { type: 'Shot', id: 8 }, meta: { entity_type: 'Task', entity_id: 5, actual_attribute_changed: 'Task.entity' } });
    expect(messageGroupId(backRefLive)).toBe('Shot#8');
    expect(owningEntity(ev(5, { event_type: 'Toolkit_App_Startup' }))).toBeNull();
  });
});

describe('event-log cursor gaps', () => {
  it('does not backlog a gap too wide to be a late commit (an empty cursor before the first event)', () => {
    const r = advance(initialCursor(0), [ev(2_400_000), ev(2_400_002)], 0, 60_000);
    expect(ids(r.forward)).toEqual([2_400_000, 2_400_002]);
    expect(backlogIds(r.next)).toEqual([2_400_001]);
  });
});

describe('the kept event-log window', () => {
  const settings = { types: ['Toolkit_Folders_Delete', 'Toolkit_Folders_Create'], retentionMs: 16_000 };

  it('starts after the cursor it first moves, and is dropped when nothing is kept', () => {
    const prev = initialCursor(10);
    const step = advance(prev, [ev(11), ev(12)], 0, 60_000);
    const next = nextKept(prev, step.next, step.unseen, 0, settings);
    expect(next.kept).toEqual({ after: 10, types: ['Toolkit_Folders_Create', 'Toolkit_Folders_Delete'], marks: [[12, 0]] });
    expect(nextKept(next, next, 0, 1, undefined).kept).toBeUndefined();
    // Other types than kept so far: the window restarts at the cursor.
    expect(nextKept(next, next, 0, 1, { ...settings, types: ['Other'] }).kept?.after).toBe(12);
  });

  it('moves past ids given up on unseen (expired backlog ids, gaps too wide to backlog)', () => {
    let c = nextKept(initialCursor(0), advance(initialCursor(0), [ev(1), ev(4)], 0, 5000).next, 0, 0, settings);
    expect(c.kept?.after).toBe(0);
    const expired = advance(c, [], 5000, 5000);
    expect(expired.unseen).toBe(3);
    c = nextKept(c, expired.next, expired.unseen, 5000, settings);
    expect(c.kept?.after).toBe(3);
    const wide = advance(c, [ev(4000)], 5001, 5000);
    expect(wide.unseen).toBe(3999);
    expect(nextKept(c, wide.next, wide.unseen, 5001, settings).kept?.after).toBe(3999);
  });

  it('retention: one mark per interval; once a mark is older than the retention the watermark passes the next one', () => {
    let c = initialCursor(100);
    let id = 100;
    for (let t = 0; t <= 20_000; t += 500) {
      const step = advance(c, [ev(++id)], t, 60_000);
      c = nextKept(c, step.next, step.unseen, t, settings);
    }
    const kept = c.kept!;
    expect(kept.marks.length).toBeLessThanOrEqual(17);
    // Rows polled before now - retention may be gone (their TTL is retention + one interval): none lies above the watermark.
    const polledAt = (rowId: number) => (rowId - 101) * 500;
    for (let rowId = kept.after + 1; rowId <= c.maxSeen; rowId++) expect(polledAt(rowId) + 16_000 + 1000).toBeGreaterThan(20_000);
    expect(kept.after).toBeGreaterThan(100);
    expect(keptUntilS(0, 16_000)).toBe(17);
  });

  it('knows the ids in (after, maxSeen] outside the backlog', () => {
    const c = { maxSeen: 50, backlog: { 45: 0, 47: 0 }, kept: { after: 40, types: [], marks: [] } };
    expect(knownIds(c, 48, 100)).toEqual({ from: 48, to: 50 });
    expect(knownIds(c, 41, 100)).toEqual({ from: 41, to: 50, firstUnknown: 45, lastUnknown: 47, cause: 'backlog' });
    expect(knownIds(c, 30, 44)).toEqual({ from: 30, to: 44, firstUnknown: 30, lastUnknown: 40, cause: 'incomplete' });
    expect(knownIds(c, 60, 100)).toEqual({ from: 60, to: 50 });
  });
});

describe('kept event-log settings', () => {
  it("default to tk-core's path-cache types for 30 days; off keeps nothing; bad retention is refused", () => {
    expect(keptLogSettingsFromEnv({})).toEqual({ types: ['Toolkit_Folders_Create', 'Toolkit_Folders_Delete'], retentionMs: 30 * 86_400_000 });
    expect(keptLogSettingsFromEnv({ EVENT_LOG_KEEP_TYPES: 'off' })).toBeUndefined();
    expect(keptLogSettingsFromEnv({ EVENT_LOG_KEEP_TYPES: ' A , B,', EVENT_LOG_RETENTION_DAYS: '0.5' })).toEqual({
      types: ['A', 'B'],
      retentionMs: 43_200_000,
    });
    expect(() => keptLogSettingsFromEnv({ EVENT_LOG_RETENTION_DAYS: 'forever' })).toThrow(/EVENT_LOG_RETENTION_DAYS/);
  });
});
