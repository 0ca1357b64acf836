// The activity stream of an entity on the simulated site (activity_stream): built from its event log, newest first, as a hosted site's stream shows creations and status changes.
//
// Updates are the entity's own creation, the creation of entities linking to it (a Note on a Shot, a Version of an
// Asset) and changes of its status (not those inside its creation). Each carries the event's id, creator, time and
// meta, and its primary entity with type, id, name and status plus the `entity_fields` asked for that type.
// ASSUMPTION: hosted streams also show replies, publishes and notes' attachments; their exact set is not documented.
import { z } from 'zod';
import { ErrorCode, ShotgunFault, type Link } from '../../shared/site/index.js';
import type { SiteSchema } from '../../shared/schema/index.js';
import { parseParams } from './rpc-params.js';
import type { SiteStore, StoredEntity } from './store.js';

const ParamsSchema = z.looseObject({
  type: z.string().min(1),
  id: z.number().int(),
  min_id: z.number().int().nullish(),
  max_id: z.number().int().nullish(),
  limit: z.number().int().positive().nullish(),
  entity_fields: z.record(z.string(), z.array(z.string())).nullish(),
});
/** Updates per read when no limit is given (ASSUMPTION: the hosted default is not documented). */
const DEFAULT_LIMIT = 25;

export interface ActivityDeps {
  schema: SiteSchema;
  store: SiteStore;
  /** Projects fields (deep ones too) of one record, as a read would return them. */
  project: (type: string, rec: StoredEntity, fields: string[]) => Record<string, unknown>;
}

export function activityStream(d: ActivityDeps, params: unknown): Record<string, unknown> {
  const p = parseParams('activity_stream', ParamsSchema, params);
  const target = d.schema.hasType(p.type) ? d.store.get(p.type, p.id) : undefined;
  if (!target) throw new ShotgunFault(`API activity_stream() Entity of type [${p.type}] with id=${p.id} does not exist.`, ErrorCode.RECORD_NOT_FOUND);
  const updates: Array<Record<string, unknown>> = [];
  for (const ev of d.store.all('EventLogEntry')) {
    if (p.min_id != null && ev.id < p.min_id) continue;
    if (p.max_id != null && ev.id > p.max_id) continue;
    const kind = updateKind(d, ev, target);
    if (!kind) continue;
    const primary = d.store.get(kind.primary.type, kind.primary.id);
    if (!primary) continue;
    updates.push({
      id: ev.id,
      update_type: kind.type,
      meta: structuredClone(ev.values.meta ?? {}),
      read: false,
      created_at: String(ev.values.created_at ?? '')
        .replace('T', ' ')
        .replace(/Z$/, ' UTC'),
      created_by: creator(d, ev.values.user as Link | undefined),
      primary_entity: { ...summary(d, primary), ...d.project(primary.type, primary, p.entity_fields?.[primary.type] ?? []) },
    });
  }
  updates.sort((a, b) => (b.id as number) - (a.id as number));
  const page = updates.slice(0, p.limit ?? DEFAULT_LIMIT);
  const ids = page.map((u) => u.id as number);
  return {
    entity_type: p.type,
    entity_id: p.id,
    updates: page,
    earliest_update_id: ids.length ? Math.min(...ids) : null,
    latest_update_id: ids.length ? Math.max(...ids) : null,
  };
}

function updateKind(d: ActivityDeps, ev: StoredEntity, target: StoredEntity): { type: string; primary: Link } | undefined {
  const entity = ev.values.entity as Link | undefined;
  const meta = (ev.values.meta ?? {}) as Record<string, unknown>;
  if (!entity) return undefined;
  const self = entity.type === target.type && entity.id === target.id;
  if (meta.type === 'new_entity') {
    if (self) return { type: 'create', primary: entity };
    const rec = d.store.get(entity.type, entity.id);
    return rec && linksTo(rec, target) ? { type: 'create', primary: entity } : undefined;
  }
  if (self && meta.type === 'attribute_change' && meta.attribute_name === 'sg_status_list' && !meta.in_create) return { type: 'update', primary: entity };
  return undefined;
}

function linksTo(rec: StoredEntity, target: StoredEntity): boolean {
  const is = (v: unknown) => typeof v === 'object' && v !== null && (v as Link).type === target.type && (v as Link).id === target.id;
  return Object.values(rec.values).some((v) => (Array.isArray(v) ? v.some(is) : is(v)));
}

function summary(d: ActivityDeps, rec: StoredEntity): Record<string, unknown> {
  const ident = d.schema.type(rec.type)?.identifier;
  return { type: rec.type, id: rec.id, name: ident ? (rec.values[ident] ?? null) : null, status: rec.values.sg_status_list ?? null };
}

function creator(d: ActivityDeps, user: Link | undefined): Record<string, unknown> | null {
  const rec = user && d.store.get(user.type, user.id);
  if (!rec) return null;
  const name = rec.type === 'ApiUser' ? rec.values.firstname : rec.values.name;
  return { type: rec.type, id: rec.id, name: name ?? null, status: rec.values.sg_status_list ?? 'act', image: null };
}
