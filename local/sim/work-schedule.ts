// Work schedules on the simulated site: work_schedule_read / work_schedule_update with studio, project and user exceptions over a Monday-to-Friday week.
import { z } from 'zod';
import { parseParams } from './rpc-params.js';
import { DATE_RE, ErrorCode, ShotgunFault } from '../../shared/site/index.js';

const LinkSchema = z.looseObject({ type: z.string().min(1), id: z.number().int() });
const Day = z.string().regex(DATE_RE, 'a date as YYYY-MM-DD');
const ReadSchema = z.looseObject({ start_date: Day, end_date: Day, project: LinkSchema.nullish(), user: LinkSchema.nullish() });
const UpdateSchema = z.looseObject({
  date: Day,
  working: z.boolean(),
  description: z.string().nullish(),
  project: LinkSchema.nullish(),
  user: LinkSchema.nullish(),
});
/** Longest range one read may span (a guard; hosted sites' limit is unknown). */
const MAX_DAYS = 3660;

interface Exception {
  working: boolean;
  description: string | null;
}

export class WorkSchedule {
  /** `${date}|${project id or ''}|${user id or ''}` -> the exception set for that day. */
  private readonly exceptions = new Map<string, Exception>();

  read(params: unknown): Record<string, { reason: string; working: boolean; description: string | null }> {
    const p = parseParams('work_schedule_read', ReadSchema, params);
    const out: Record<string, { reason: string; working: boolean; description: string | null }> = {};
    const end = Date.parse(`${p.end_date}T00:00:00Z`);
    let day = Date.parse(`${p.start_date}T00:00:00Z`);
    if (Number.isNaN(day) || Number.isNaN(end) || end < day) throw new ShotgunFault('API work_schedule_read() end_date is before start_date', ErrorCode.API);
    if ((end - day) / 86_400_000 > MAX_DAYS) throw new ShotgunFault(`API work_schedule_read() a range of more than ${MAX_DAYS} days`, ErrorCode.API);
    for (; day <= end; day += 86_400_000) {
      const date = new Date(day).toISOString().slice(0, 10);
      const user = p.user ? this.exceptions.get(`${date}||${p.user.id}`) : undefined;
      const project = p.project ? this.exceptions.get(`${date}|${p.project.id}|`) : undefined;
      const studio = this.exceptions.get(`${date}||`);
      const [reason, e] = user
        ? ['USER_EXCEPTION', user]
        : project
          ? ['PROJECT_EXCEPTION', project]
          : studio
            ? ['STUDIO_EXCEPTION', studio]
            : ['STUDIO_WORK_WEEK', undefined];
      const weekday = new Date(day).getUTCDay();
      out[date] = e ? { reason, working: e.working, description: e.description } : { reason, working: weekday !== 0 && weekday !== 6, description: null };
    }
    return out;
  }

  update(params: unknown): Record<string, unknown> {
    const p = parseParams('work_schedule_update', UpdateSchema, params);
    if (p.project && p.user) throw new ShotgunFault('API work_schedule_update() a day is a project or a user exception, not both', ErrorCode.API);
    this.exceptions.set(`${p.date}|${p.project?.id ?? ''}|${p.user?.id ?? ''}`, { working: p.working, description: p.description ?? null });
    return { date: p.date, description: p.description ?? null, project: p.project ?? null, user: p.user ?? null, working: p.working };
  }
}
