// Following on the simulated site: follow / unfollow / followers / following, as a hosted site answers them (a user follows any entity; kept in memory).
import { z } from 'zod';
import { parseParams } from './rpc-params.js';
import { ErrorCode, ShotgunFault, type Link } from '../../shared/site/index.js';
import type { SiteSchema } from '../../shared/schema/index.js';
import type { SiteStore, StoredEntity } from './store.js';

const LinkSchema = z.looseObject({ type: z.string().min(1), id: z.number().int() });
const FollowSchema = z.looseObject({ user: LinkSchema, entity: LinkSchema });
const FollowersSchema = z.looseObject({ entity: LinkSchema });
const FollowingSchema = z.looseObject({ user: LinkSchema, project: LinkSchema.nullish(), entity_type: z.string().nullish() });

const key = (l: Link) => `${l.type}#${l.id}`;

export class SiteFollows {
  /** user key -> followed entity keys, in follow order. */
  private readonly byUser = new Map<string, Set<string>>();

  constructor(
    private readonly schema: SiteSchema,
    private readonly store: SiteStore,
  ) {}

  follow(params: unknown): Record<string, unknown> {
    const p = parseParams('follow', FollowSchema, params);
    const user = this.active('follow', p.user, true);
    const entity = this.active('follow', p.entity, false);
    const set = this.byUser.get(key(user)) ?? new Set<string>();
    set.add(key(entity));
    this.byUser.set(key(user), set);
    return { followed: true, user: this.link(user), entity: this.link(entity) };
  }

  unfollow(params: unknown): Record<string, unknown> {
    const p = parseParams('unfollow', FollowSchema, params);
    const user = this.active('unfollow', p.user, true);
    const entity = this.active('unfollow', p.entity, false);
    this.byUser.get(key(user))?.delete(key(entity));
    return { unfollowed: true, user: this.link(user), entity: this.link(entity) };
  }

  followers(params: unknown): Array<Record<string, unknown>> {
    const p = parseParams('followers', FollowersSchema, params);
    const entity = this.active('followers', p.entity, false);
    const out: Array<Record<string, unknown>> = [];
    for (const [u, set] of this.byUser) {
      if (!set.has(key(entity))) continue;
      const rec = this.record(u);
      if (rec && !rec.retired) out.push({ ...this.link(rec), status: rec.values.sg_status_list ?? null });
    }
    return out;
  }

  following(params: unknown): Array<Record<string, unknown>> {
    const p = parseParams('following', FollowingSchema, params);
    const user = this.active('following', p.user, true);
    const out: Array<Record<string, unknown>> = [];
    for (const k of this.byUser.get(key(user)) ?? []) {
      const rec = this.record(k);
      if (!rec || rec.retired) continue;
      if (p.entity_type && rec.type !== p.entity_type) continue;
      if (p.project && (rec.values.project as Link | undefined)?.id !== p.project.id) continue;
      out.push(this.link(rec));
    }
    return out;
  }

  private active(method: string, l: Link, user: boolean): StoredEntity {
    if (user && l.type !== 'HumanUser') throw new ShotgunFault(`API ${method}() user must be a HumanUser, not ${l.type}`, ErrorCode.API);
    const rec = this.schema.hasType(l.type) ? this.store.get(l.type, l.id) : undefined;
    if (!rec || rec.retired) throw new ShotgunFault(`API ${method}() Entity of type [${l.type}] with id=${l.id} does not exist.`, ErrorCode.RECORD_NOT_FOUND);
    return rec;
  }

  private record(k: string): StoredEntity | undefined {
    const [type, id] = k.split('#');
    return this.store.get(type, Number(id));
  }

  private link(rec: StoredEntity): Record<string, unknown> {
    const ident = this.schema.type(rec.type)?.identifier;
    return { type: rec.type, id: rec.id, name: ident ? (rec.values[ident] ?? null) : null };
  }
}
