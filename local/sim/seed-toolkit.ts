// Seed data for the types Toolkit reads (pipeline configurations, storages, statuses, software, filesystem locations, published-file dependencies, replies) and the site's shapes of url values.
import { formatDateTime, type Link } from '../../shared/site/index.js';
import type { SiteSchema } from '../../shared/schema/index.js';
import type { SiteStore, StoredEntity } from './store.js';
import { Prng } from './prng.js';

/** Where each Toolkit type's id sequence starts on a fresh seed. */
export const TOOLKIT_ID_BASE: Record<string, number> = {
  PipelineConfiguration: 3,
  LocalStorage: 1,
  FilesystemLocation: 880,
  PublishedFileDependency: 540,
  Status: 20,
  Software: 30,
  Reply: 2600,
};

/** The statuses every site ships (code, name, bg_color). */
const STATUSES: Array<[string, string, string]> = [
  ['wtg', 'Waiting to Start', '200,200,200'],
  ['rdy', 'Ready to Start', '230,230,110'],
  ['ip', 'In Progress', '110,180,230'],
  ['rev', 'Pending Review', '240,160,60'],
  ['fin', 'Final', '110,200,110'],
  ['hld', 'On Hold', '200,110,110'],
  ['omt', 'Omit', '140,140,140'],
  ['apr', 'Approved', '60,180,60'],
  ['rej', 'Rejected', '220,60,60'],
  ['cmpt', 'Complete', '90,160,90'],
  ['opn', 'Open', '230,200,90'],
  ['clsd', 'Closed', '120,120,120'],
  ['na', 'N/A', '180,180,180'],
  ['vwd', 'Viewed', '150,150,220'],
];
const SOFTWARE: Array<[string, string, string]> = [
  ['Maya', 'tk-maya', '/usr/autodesk/maya2025/bin/maya'],
  ['Nuke', 'tk-nuke', '/usr/local/Nuke15.1v2/Nuke15.1'],
  ['Houdini', 'tk-houdini', '/opt/hfs20.5/bin/houdini'],
  ['Blender', 'tk-blender', '/usr/bin/blender'],
];
const DAY = 86_400_000;

/**
 * Adds Toolkit's types to a seeded store, deterministically from `seed` (its own random stream, so the rest of the
 * seed is unchanged), and gives PublishedFile.path the local-file-link shape a site returns (local_path_* per OS,
 * a local_storage link, an Attachment id) and Version.sg_uploaded_movie the upload shape (a file_serve URL).
 */
export function seedToolkit(schema: SiteSchema, store: SiteStore, seed: number, epoch: number): void {
  if (!schema.hasType('PipelineConfiguration')) return;
  const r = new Prng(seed * 31 + 14);
  for (const [t, base] of Object.entries(TOOLKIT_ID_BASE)) if (schema.hasType(t)) store.setNextId(t, base);
  const people = store
    .all('HumanUser')
    .filter((u) => u.values.sg_status_list !== 'dis')
    .map(link);
  const admin = people[0];
  const at = (daysAgo: number) => formatDateTime(new Date(epoch - Math.floor((daysAgo * DAY) / 1000) * 1000));
  const add = (type: string, values: Record<string, unknown>, daysAgo = 600): StoredEntity => {
    const stamped: Record<string, unknown> = { ...values, created_at: at(daysAgo) };
    if (schema.field(type, 'updated_at')) Object.assign(stamped, { updated_at: at(Math.max(0, daysAgo - 3)), created_by: admin, updated_by: admin });
    for (const k of Object.keys(stamped))
      if (stamped[k] === undefined || (Array.isArray(stamped[k]) && (stamped[k] as unknown[]).length === 0)) delete stamped[k];
    if (!admin) {
      delete stamped.created_by;
      delete stamped.updated_by;
    }
    const rec: StoredEntity = { type, id: store.allocateId(type), retired: false, values: stamped };
    store.insert(rec);
    return rec;
  };
  let attachment = 51_000;

  const primary = add(
    'LocalStorage',
    { code: 'primary', description: 'Project roots', linux_path: '/mnt/projects', mac_path: '/Volumes/projects', windows_path: 'P:\\', uuid: r.uuid() },
    900,
  );
  add('LocalStorage', { code: 'renders', linux_path: '/mnt/renders', mac_path: '/Volumes/renders', windows_path: 'R:\\', uuid: r.uuid() }, 900);
  for (const [code, name, bg] of STATUSES) add('Status', { code, name, bg_color: bg, system: code === 'na' }, 950);
  const groups = store.all('Group').map(link);
  const projects = store.all('Project');
  const configs = new Map<number, StoredEntity>();
  for (const p of projects) {
    const tank = String(p.values.tank_name);
    configs.set(
      p.id,
      add(
        'PipelineConfiguration',
        {
          code: 'Primary',
          project: link(p),
          description: `${p.values.name} pipeline`,
          linux_path: `/mnt/pipeline/${tank}`,
          mac_path: `/Volumes/pipeline/${tank}`,
          windows_path: `P:\\pipeline\\${tank}`,
        },
        500,
      ),
    );
    if (people.length > 1 && r.chance(0.5))
      add('PipelineConfiguration', { code: `Dev ${people[1].id}`, project: link(p), users: [people[1]], linux_path: `/home/dev/${tank}` }, 100);
  }
  for (const [code, engine, path] of SOFTWARE) {
    add(
      'Software',
      {
        code,
        engine,
        version_names: '',
        products: '',
        group_name: code,
        group_default: true,
        sg_status_list: 'act',
        description: `${code} launcher`,
        linux_path: path,
        mac_path: `/Applications/${code}.app`,
        windows_path: `C:\\Program Files\\${code}\\${code}.exe`,
        projects: r.chance(0.5) ? projects.slice(0, 1).map(link) : undefined,
        user_restrictions: r.chance(0.3) && groups.length ? [groups[0]] : undefined,
      },
      700,
    );
  }
  for (const type of ['Sequence', 'Shot', 'Asset']) {
    for (const e of store.all(type)) {
      const p = e.values.project as Link | undefined;
      if (!p || !r.chance(0.5)) continue;
      const code = String(e.values.code);
      const path = `/mnt/projects/${code}`;
      add(
        'FilesystemLocation',
        {
          code,
          entity: link(e),
          linked_entity_id: e.id,
          linked_entity_type: type,
          project: p,
          is_primary: true,
          pipeline_configuration: configs.has(p.id) ? link(configs.get(p.id)!) : undefined,
          configuration_metadata: '',
          path: localLink(path, code, primary, ++attachment),
        },
        300,
      );
    }
  }
  const pfs = store.all('PublishedFile');
  for (const f of pfs) {
    const v = f.values.path as Record<string, unknown> | undefined;
    if (v && typeof v.local_path_linux === 'string') f.values.path = localLink(v.local_path_linux, String(v.name), primary, ++attachment);
    for (const up of (f.values.upstream_published_files as Link[] | undefined) ?? [])
      add('PublishedFileDependency', { published_file: link(f), dependent_published_file: up });
  }
  for (const v of store.all('Version')) {
    const m = v.values.sg_uploaded_movie as Record<string, unknown> | undefined;
    if (m)
      v.values.sg_uploaded_movie = { ...m, url: `https://sim.shotgunstudio.com/file_serve/attachment/${++attachment}`, type: 'Attachment', id: attachment };
  }
  for (const n of store.all('Note')) {
    if (!people.length || !r.chance(0.4)) continue;
    const reply = add('Reply', { content: r.pick(['Done.', 'Will fix tomorrow.', 'Agreed.', 'See v002.']), entity: link(n), user: r.pick(people) }, 10);
    n.values.replies = [...((n.values.replies as Link[] | undefined) ?? []), link(reply)];
  }
}

const link = (e: StoredEntity): Link => ({ type: e.type, id: e.id });

/** A local file link as the site returns it (the client adds `local_path` and a file:// `url` for its own OS). */
function localLink(linuxPath: string, name: string, storage: StoredEntity, attachmentId: number): Record<string, unknown> {
  const rel = linuxPath.replace(/^\/mnt\/projects\/?/, '');
  return {
    content_type: null,
    link_type: 'local',
    name,
    local_storage: { type: 'LocalStorage', id: storage.id, name: storage.values.code },
    local_path_linux: linuxPath,
    local_path_mac: `/Volumes/projects/${rel}`,
    local_path_windows: `P:\\${rel.replaceAll('/', '\\')}`,
    type: 'Attachment',
    id: attachmentId,
  };
}
