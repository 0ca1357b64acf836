// Relative date windows for in_last / in_next / in_calendar_*: instants in UTC (the simulated site's timezone), as canonical strings.
import { formatDateTime } from '../site/index.js';

export const DATE_UNITS = ['HOUR', 'DAY', 'WEEK', 'MONTH', 'YEAR'] as const;
export type DateUnit = (typeof DATE_UNITS)[number];
export type CalendarUnit = 'day' | 'week' | 'month' | 'year';

/** ISO 8601 and PostgreSQL date_trunc('week'): weeks start on Monday (getUTCDay() === 1). See docs/semantics.md. */
export const WEEK_STARTS_ON = 1;

/**
 * A window of instants, both ends inclusive, as canonical strings so that canonical stored values compare
 * with plain string comparison: date_time bounds "YYYY-MM-DDTHH:MM:SSZ", date bounds "YYYY-MM-DD".
 */
export interface Window {
  from: string;
  to: string;
}

/** `now` truncated to whole seconds: stored date_times have no fractions. */
export function truncateToSecond(now: Date): Date {
  return new Date(Math.floor(now.getTime() / 1000) * 1000);
}

export function dateString(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/**
 * `d` moved by `n` units. HOUR/DAY/WEEK are fixed lengths (UTC has no DST); MONTH/YEAR are calendar steps
 * that clamp to the last day of a shorter month, as PostgreSQL's timestamp ± interval does.
 */
export function shiftUtc(d: Date, n: number, unit: DateUnit): Date {
  switch (unit) {
    case 'HOUR':
      return new Date(d.getTime() + n * 3_600_000);
    case 'DAY':
      return new Date(d.getTime() + n * 86_400_000);
    case 'WEEK':
      return new Date(d.getTime() + n * 7 * 86_400_000);
    case 'MONTH':
      return addMonths(d, n);
    case 'YEAR':
      return addMonths(d, 12 * n);
  }
}

function addMonths(d: Date, n: number): Date {
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + n;
  const ty = y + Math.floor(m / 12);
  const tm = ((m % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(ty, tm + 1, 0)).getUTCDate();
  const day = Math.min(d.getUTCDate(), lastDay);
  return new Date(Date.UTC(ty, tm, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()));
}

/**
 * in_last n UNIT: [now - n units, now]; in_next n UNIT: [now, now + n units]. For a date field the window is
 * the UTC calendar days those instants fall on, both inclusive (so "in_last 1 DAY" is yesterday and today).
 */
export function relativeWindow(op: 'in_last' | 'in_next', n: number, unit: DateUnit, now: Date, forDate: boolean): Window {
  const t = truncateToSecond(now);
  const other = shiftUtc(t, op === 'in_last' ? -n : n, unit);
  const [a, b] = op === 'in_last' ? [other, t] : [t, other];
  // A negative n turns the window around; keep from <= to.
  const [lo, hi] = a.getTime() <= b.getTime() ? [a, b] : [b, a];
  return forDate ? { from: dateString(lo), to: dateString(hi) } : { from: formatDateTime(lo), to: formatDateTime(hi) };
}

/** Start of the UTC calendar unit containing `d`. */
function startOf(d: Date, unit: CalendarUnit): Date {
  const y = d.getUTCFullYear();
  switch (unit) {
    case 'day':
      return new Date(Date.UTC(y, d.getUTCMonth(), d.getUTCDate()));
    case 'week': {
      const back = (d.getUTCDay() - WEEK_STARTS_ON + 7) % 7;
      return new Date(Date.UTC(y, d.getUTCMonth(), d.getUTCDate() - back));
    }
    case 'month':
      return new Date(Date.UTC(y, d.getUTCMonth(), 1));
    case 'year':
      return new Date(Date.UTC(y, 0, 1));
  }
}

function stepCalendar(start: Date, unit: CalendarUnit, n: number): Date {
  switch (unit) {
    case 'day':
      return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate() + n));
    case 'week':
      return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate() + 7 * n));
    case 'month':
      return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + n, 1));
    case 'year':
      return new Date(Date.UTC(start.getUTCFullYear() + n, 0, 1));
  }
}

/**
 * in_calendar_<unit> offset: the whole UTC calendar day/week/month/year `offset` units from the one containing
 * `now` (0 = current, -1 = previous). Both ends inclusive: for date_time the last second of the unit.
 */
export function calendarWindow(unit: CalendarUnit, offset: number, now: Date, forDate: boolean): Window {
  const start = stepCalendar(startOf(now, unit), unit, offset);
  const endExclusive = stepCalendar(start, unit, 1);
  const last = new Date(endExclusive.getTime() - 1000);
  return forDate ? { from: dateString(start), to: dateString(last) } : { from: formatDateTime(start), to: formatDateTime(last) };
}
