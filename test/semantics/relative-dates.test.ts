// Relative date operators (in_last / in_next / in_calendar_*) on date and date_time fields, and the window arithmetic.
import { describe, expect, it } from 'vitest';
import { calendarWindow, relativeWindow, shiftUtc } from '../../shared/semantics/index.js';
import { c, expectFault, ids } from './fixture.js';

// now = Friday 2024-03-15T12:00:00.250Z (see fixture)
describe('date field (sg_due: 1 03-10, 2 03-14, 3 unset, 4 02-29, 5 03-16, 7 2023-12-31, 8 03-17)', () => {
  it('date in_last / in_next cover whole days, today inclusive', () => {
    expect(ids('Shot', c('sg_due', 'in_last', 1, 'DAY'))).toEqual([2]);
    expect(ids('Shot', c('sg_due', 'in_last', 7, 'DAY'))).toEqual([1, 2]);
    expect(ids('Shot', c('sg_due', 'in_next', 2, 'DAY'))).toEqual([5, 8]);
    expect(ids('Shot', c('sg_due', 'in_last', 1, 'MONTH'))).toEqual([1, 2, 4]);
    expect(ids('Shot', c('sg_due', 'in_last', 1, 'YEAR'))).toEqual([1, 2, 4, 7]);
    expect(ids('Shot', c('sg_due', 'in_last', 1, 'WEEK'))).toEqual([1, 2]);
  });
  it('date not_in_last is the complement (unset rows included)', () => {
    expect(ids('Shot', c('sg_due', 'not_in_last', 7, 'DAY'))).toEqual([3, 4, 5, 7, 8]);
    expect(ids('Shot', c('sg_due', 'not_in_next', 2, 'DAY'))).toEqual([1, 2, 3, 4, 7]);
  });
  it('date in_calendar_day / week (Monday start) / month / year with offsets', () => {
    expect(ids('Shot', c('sg_due', 'in_calendar_day', 0))).toEqual([]);
    expect(ids('Shot', c('sg_due', 'in_calendar_day', 1))).toEqual([5]);
    expect(ids('Shot', c('sg_due', 'in_calendar_day', -1))).toEqual([2]);
    expect(ids('Shot', c('sg_due', 'in_calendar_week', 0))).toEqual([2, 5, 8]);
    expect(ids('Shot', c('sg_due', 'in_calendar_week', -1))).toEqual([1]);
    expect(ids('Shot', c('sg_due', 'in_calendar_month', 0))).toEqual([1, 2, 5, 8]);
    expect(ids('Shot', c('sg_due', 'in_calendar_month', -1))).toEqual([4]);
    expect(ids('Shot', c('sg_due', 'in_calendar_year', -1))).toEqual([7]);
    expect(ids('Shot', c('sg_due', 'in_calendar_year', 0))).toEqual([1, 2, 4, 5, 8]);
  });
});

describe('date_time field (sg_started_at: 1 03-15T10:00, 2 03-14T23:59:59, 4 03-11T00:00, 5 03-16T12:00, 7 2023-12-31T23:00)', () => {
  it('date_time in_last / in_next are instant windows, both ends inclusive', () => {
    expect(ids('Shot', c('sg_started_at', 'in_last', 1, 'DAY'))).toEqual([1, 2]);
    expect(ids('Shot', c('sg_started_at', 'in_last', 2, 'HOUR'))).toEqual([1]);
    expect(ids('Shot', c('sg_started_at', 'in_last', 1, 'HOUR'))).toEqual([]);
    expect(ids('Shot', c('sg_started_at', 'in_next', 1, 'DAY'))).toEqual([5]);
    expect(ids('Shot', c('sg_started_at', 'in_last', 1, 'day'))).toEqual([1, 2]);
  });
  it('date_time in_calendar_* cover whole UTC days/weeks/years', () => {
    expect(ids('Shot', c('sg_started_at', 'in_calendar_day', 0))).toEqual([1]);
    expect(ids('Shot', c('sg_started_at', 'in_calendar_day', -1))).toEqual([2]);
    expect(ids('Shot', c('sg_started_at', 'in_calendar_week', 0))).toEqual([1, 2, 4, 5]);
    expect(ids('Shot', c('sg_started_at', 'in_calendar_week', -1))).toEqual([]);
    expect(ids('Shot', c('sg_started_at', 'in_calendar_year', -1))).toEqual([7]);
  });
  it('relative operator faults: shape, unit, offset', () => {
    expectFault(() => ids('Shot', c('sg_due', 'in_last', 7)), /'in_last' expects \[n, "HOUR"\|"DAY"\|"WEEK"\|"MONTH"\|"YEAR"\]/);
    expectFault(() => ids('Shot', c('sg_due', 'in_last', '7', 'DAY')), /'in_last' expects \[n/);
    expectFault(
      () => ids('Shot', c('sg_due', 'in_next', 7, 'FORTNIGHT')),
      "API read() Shot.sg_due: 'in_next' unit must be one of HOUR, DAY, WEEK, MONTH, YEAR, got 'FORTNIGHT'",
    );
    expectFault(() => ids('Shot', c('sg_due', 'in_calendar_day', 'today')), "API read() Shot.sg_due: 'in_calendar_day' expects an integer offset, got 'today'");
    expectFault(() => ids('Shot', c('sg_cut_in', 'in_last', 1, 'DAY')), /operator 'in_last' is not valid for a number field/);
  });
});

describe('window arithmetic', () => {
  it('MONTH and YEAR steps clamp to the end of a shorter month', () => {
    expect(shiftUtc(new Date('2024-03-31T10:00:00Z'), -1, 'MONTH').toISOString()).toBe('2024-02-29T10:00:00.000Z');
    expect(shiftUtc(new Date('2023-03-31T10:00:00Z'), -1, 'MONTH').toISOString()).toBe('2023-02-28T10:00:00.000Z');
    expect(shiftUtc(new Date('2024-02-29T00:00:00Z'), 1, 'YEAR').toISOString()).toBe('2025-02-28T00:00:00.000Z');
    expect(shiftUtc(new Date('2024-01-31T00:00:00Z'), 13, 'MONTH').toISOString()).toBe('2025-02-28T00:00:00.000Z');
  });
  it('calendar week starts on Monday, also when now is a Sunday or a Monday midnight', () => {
    expect(calendarWindow('week', 0, new Date('2024-03-17T10:00:00Z'), true)).toEqual({ from: '2024-03-11', to: '2024-03-17' });
    expect(calendarWindow('week', 0, new Date('2024-03-11T00:00:00Z'), false)).toEqual({ from: '2024-03-11T00:00:00Z', to: '2024-03-17T23:59:59Z' });
  });
  it('calendar month offset crosses a year boundary', () => {
    expect(calendarWindow('month', -1, new Date('2024-01-15T00:00:00Z'), false)).toEqual({ from: '2023-12-01T00:00:00Z', to: '2023-12-31T23:59:59Z' });
    expect(calendarWindow('year', 1, new Date('2024-06-01T00:00:00Z'), true)).toEqual({ from: '2025-01-01', to: '2025-12-31' });
  });
  it('relative window truncates now to the second', () => {
    expect(relativeWindow('in_last', 1, 'HOUR', new Date('2024-03-15T12:00:00.999Z'), false)).toEqual({
      from: '2024-03-15T11:00:00Z',
      to: '2024-03-15T12:00:00Z',
    });
    expect(relativeWindow('in_next', 1, 'DAY', new Date('2024-03-15T23:30:00Z'), true)).toEqual({ from: '2024-03-15', to: '2024-03-16' });
  });
});
