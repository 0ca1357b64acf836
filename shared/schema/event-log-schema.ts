// The schema piece for reads of the kept event log: EventLogEntry's fields and data types as sites have them, with the cached Project type its links reach.
import type { CachedSchema } from './cached-schema.js';
import { type EntityTypeDef, SiteSchema } from './schema-model.js';

/** EventLogEntry as a site's schema_read reports it (reference/schema-sample.json; the image fields left out: never kept). */
export const EVENT_LOG_ENTRY_TYPE: EntityTypeDef = {
  display_name: 'Event Log Entry',
  identifier: 'description',
  fields: {
    id: { data_type: 'number', name: 'Id', editable: false },
    event_type: { data_type: 'text', name: 'Event Type', editable: false },
    attribute_name: { data_type: 'text', name: 'Attribute Name', editable: false },
    description: { data_type: 'text', name: 'Event Summary', editable: false },
    entity: { data_type: 'entity', name: 'Link', editable: false },
    meta: { data_type: 'serializable', name: 'Meta Data', editable: false },
    project: { data_type: 'entity', name: 'Project', editable: false, valid_types: ['Project'] },
    user: { data_type: 'entity', name: 'Who', editable: false, valid_types: ['HumanUser', 'ApiUser'] },
    session_uuid: { data_type: 'uuid', name: 'Session UUID', editable: false },
    created_at: { data_type: 'date_time', name: 'Date Created', editable: false },
  },
};

/**
 * The schema the semantics model answers kept-log reads with: EventLogEntry plus the cached Project type (the
 * `project` filter's target, and `include_archived_projects`), with only `fields` of EventLogEntry (default all);
 * undefined when Project is not cached.
 */
export function eventLogSchema(cached: CachedSchema, fields: readonly string[] = Object.keys(EVENT_LOG_ENTRY_TYPE.fields)): SiteSchema | undefined {
  const project = cached.site.type('Project');
  if (!project) return undefined;
  const kept = Object.fromEntries(Object.entries(EVENT_LOG_ENTRY_TYPE.fields).filter(([f]) => fields.includes(f)));
  return new SiteSchema({
    source: 'event log (kept)',
    types: { EventLogEntry: { ...EVENT_LOG_ENTRY_TYPE, fields: kept }, Project: project },
    link_targets: cached.site.file.link_targets,
  });
}
