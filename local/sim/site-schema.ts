// The simulated site's production schema: loads site-schema.yml and declares which link fields are two sides of one connection.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { SiteSchema } from '../../shared/schema/index.js';

export const SITE_SCHEMA_PATH = new URL('./site-schema.yml', import.meta.url);

let cached: SiteSchema | undefined;

/** The sim's schema (parsed once per process; SiteSchema is immutable). */
export function loadSiteSchema(): SiteSchema {
  cached ??= SiteSchema.parse(parseYaml(readFileSync(SITE_SCHEMA_PATH, 'utf8')), 'local/sim/site-schema.yml');
  return cached;
}

/**
 * Pairs of link fields that are the two sides of one connection, as on a real site (where the pair is only
 * known to the private schema). Writing one side changes the other and logs a back-reference Change there.
 * A polymorphic side (Task.entity) pairs with one field per target type.
 */
export const CONNECTIONS: ReadonlyArray<readonly [string, string]> = [
  ['Shot.sg_sequence', 'Sequence.shots'],
  ['Task.entity', 'Shot.tasks'],
  ['Task.entity', 'Asset.tasks'],
  ['Task.entity', 'Sequence.tasks'],
  ['Shot.assets', 'Asset.shots'],
  ['Sequence.assets', 'Asset.sequences'],
  ['Asset.parents', 'Asset.assets'],
  ['Task.upstream_tasks', 'Task.downstream_tasks'],
  ['Note.tasks', 'Task.notes'],
  ['Note.note_links', 'Shot.notes'],
  ['Note.note_links', 'Asset.notes'],
  ['Note.note_links', 'Sequence.notes'],
  ['Note.note_links', 'Version.notes'],
  ['Note.note_links', 'PublishedFile.notes'],
  ['Version.playlists', 'Playlist.versions'],
  ['PublishedFile.version', 'Version.published_files'],
  ['PublishedFile.upstream_published_files', 'PublishedFile.downstream_published_files'],
  ['Group.users', 'HumanUser.groups'],
  ['Project.users', 'HumanUser.projects'],
  ['Reply.entity', 'Note.replies'],
];

/** Lookup of the other side of a connection: (type, field, target type) -> the target type's field. */
export class Connections {
  private readonly map = new Map<string, string>();

  constructor(schema: SiteSchema, pairs: ReadonlyArray<readonly [string, string]> = CONNECTIONS) {
    for (const [a, b] of pairs) {
      const [ta, fa] = split(a);
      const [tb, fb] = split(b);
      for (const [t, f, other] of [
        [ta, fa, tb],
        [tb, fb, ta],
      ] as const) {
        const def = schema.field(t, f);
        if (!def || (def.data_type !== 'entity' && def.data_type !== 'multi_entity') || !def.valid_types?.includes(other)) {
          throw new Error(`local/sim/site-schema.ts: connection ${a} <-> ${b}: ${t}.${f} is not a link field to ${other}`);
        }
      }
      this.map.set(`${ta}.${fa}>${tb}`, fb);
      this.map.set(`${tb}.${fb}>${ta}`, fa);
    }
  }

  /** The field of `targetType` that mirrors `type.field`, or undefined when the link has no other side. */
  reverse(type: string, field: string, targetType: string): string | undefined {
    return this.map.get(`${type}.${field}>${targetType}`);
  }
}

function split(s: string): [string, string] {
  const i = s.indexOf('.');
  return [s.slice(0, i), s.slice(i + 1)];
}
