import { describe, expect, it } from 'vitest';
import { advance, backlogIds, initialCursor, messageGroupId, owningEntity, type EventRow } from '../../shared/sync/index.js';

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
    const backRef = ev(3, { entity: null, event_type: 'Shotgun_Shot_Change', meta: { entity_type: 'Task', entity_id: 5, actual_attribute_changed: 'Task.entity' } });
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
