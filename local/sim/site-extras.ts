// The sim's JSON-RPC methods beyond entity reads and writes, by name: following, work schedules, preferences, subscriptions, activity stream, text search, pages, project visits.
import { z } from 'zod';
import { ErrorCode, ShotgunFault, formatDateTime } from '../../shared/site/index.js';
import type { SiteSchema } from '../../shared/schema/index.js';
import type { Actor } from './auth.js';
import type { SiteStore, StoredEntity } from './store.js';
import type { CallerFields } from './caller-fields.js';
import { SiteFollows } from './follows.js';
import { WorkSchedule } from './work-schedule.js';
import { SitePreferences } from './preferences.js';
import { activityStream } from './activity-stream.js';
import { textSearch, type ReadAs } from './text-search.js';
import { exportPage } from './pages.js';
import { parseParams } from './rpc-params.js';

/** What a method gets: who calls, its params[1], and a read as that caller. */
export interface ExtraCall {
  actor: Actor;
  params: unknown;
  read: ReadAs;
}
type Handler = (c: ExtraCall) => unknown;

export interface ExtrasDeps {
  schema: SiteSchema;
  store: SiteStore;
  callerFields: CallerFields;
  now: () => Date;
  project: (type: string, rec: StoredEntity, fields: string[]) => Record<string, unknown>;
}

const VisitSchema = z.looseObject({ project_id: z.number().int(), user_id: z.number().int().nullish() });

export class SiteExtras {
  private readonly handlers: ReadonlyMap<string, Handler>;

  constructor(d: ExtrasDeps) {
    const follows = new SiteFollows(d.schema, d.store);
    const schedule = new WorkSchedule();
    const prefs = new SitePreferences(d.store);
    this.handlers = new Map<string, Handler>([
      ['follow', (c) => follows.follow(c.params)],
      ['unfollow', (c) => follows.unfollow(c.params)],
      ['followers', (c) => follows.followers(c.params)],
      ['following', (c) => follows.following(c.params)],
      ['work_schedule_read', (c) => schedule.read(c.params)],
      ['work_schedule_update', (c) => schedule.update(c.params)],
      ['preferences_read', (c) => prefs.read(c.params)],
      ['user_subscriptions_read', () => prefs.subscriptionsRead()],
      ['user_subscriptions_create', (c) => prefs.subscriptionsCreate(c.params)],
      ['activity_stream', (c) => activityStream(d, c.params)],
      ['query_display_name_cache', (c) => textSearch(d.schema, c.read, c.params)],
      ['export_page', (c) => exportPage(d.store, c.params)],
      ['update_project_last_accessed_by_current_user', (c) => visit(d, c)],
    ]);
  }

  has(method: string): boolean {
    return this.handlers.has(method);
  }

  call(method: string, c: ExtraCall): unknown {
    const h = this.handlers.get(method);
    if (!h) throw new ShotgunFault(`Unknown method '${method}'`, ErrorCode.API);
    return h(c);
  }
}

/** A visit of a project's page: its last_accessed_by_current_user for the given user, or the caller (a HumanUser). */
function visit(d: ExtrasDeps, c: ExtraCall): Record<string, unknown> {
  const p = parseParams('update_project_last_accessed_by_current_user', VisitSchema, c.params);
  const project = d.store.get('Project', p.project_id);
  if (!project || project.retired)
    throw new ShotgunFault(
      `API update_project_last_accessed_by_current_user() Entity of type [Project] with id=${p.project_id} does not exist.`,
      ErrorCode.RECORD_NOT_FOUND,
    );
  const userId = p.user_id ?? (c.actor.user.type === 'HumanUser' ? c.actor.user.id : undefined);
  const user = userId === undefined ? undefined : d.store.get('HumanUser', userId);
  if (!user || user.retired)
    throw new ShotgunFault(
      'API update_project_last_accessed_by_current_user() needs a user: pass user, or call as a person (login, session or sudo_as_login)',
      ErrorCode.API,
    );
  const at = formatDateTime(d.now());
  d.callerFields.set({ user: user.id, project: project.id, visitedAt: at });
  return { type: 'Project', id: project.id, last_accessed_by_current_user: at };
}
