// Seed data for the sim: a deterministic, realistic production (projects, shots, assets, tasks, versions, ...) at any scale, written without events.
import { formatDateTime, type Link } from '../../shared/site/index.js';
import type { SiteSchema } from '../../shared/schema/index.js';
import type { SiteStore, StoredEntity } from './store.js';
import type { Connections } from './site-schema.js';
import type { ScriptCredential } from './credentials.js';
import { Prng } from './prng.js';
import { SEEDED_PROFILE_LOGINS } from './permissions.js';
import { seedToolkit } from './seed-toolkit.js';
import { seededHistory } from './event-history.js';

export interface SeedOptions {
  seed: number;
  /** Approximate total number of entities (all types). */
  entities: number;
  scripts: readonly ScriptCredential[];
  /** The "present" of the seeded history: every timestamp is before it (default 2025-06-02T09:00:00Z). */
  epoch?: string;
  /** How the entities divide among the types (default `production`; see MIXES). */
  mix?: SeedMix;
  /** EventLogEntry rows of history per entity, synthesized when read (local/sim/event-history.ts); default 0: none. */
  eventHistory?: number;
}

/**
 * Shares of the production types. `production`: a show in progress, Tasks first (the tests' sites). `studio`: a
 * studio's site after years of work, where Versions, PublishedFiles, Notes and Tasks dominate (Autodesk calls
 * Versions "the fastest growing table").
 */
export const MIXES = {
  production: { seq: 0.02, shot: 0.16, asset: 0.07, task: 0.42, version: 0.18, pf: 0.1, note: 0.04, playlist: 0.01 },
  studio: { seq: 0.004, shot: 0.05, asset: 0.03, task: 0.24, version: 0.28, pf: 0.25, note: 0.13, playlist: 0.006 },
} as const;
export type SeedMix = keyof typeof MIXES;

export const DEFAULT_SEED_ENTITIES = 400;
export const DEFAULT_EPOCH = '2025-06-02T09:00:00Z';

/** Where each type's id sequence starts on a fresh seed (a site with history, not ids from 1). */
const ID_BASE: Record<string, number> = {
  Project: 64,
  Sequence: 120,
  Shot: 1140,
  Asset: 720,
  Task: 5210,
  Step: 1,
  HumanUser: 18,
  ApiUser: 310,
  Group: 4,
  Version: 6400,
  PublishedFile: 9800,
  PublishedFileType: 1,
  Note: 4100,
  Playlist: 210,
};
const EVENT_ID_BASE = 2_400_000;

/** Link fields the seed sets; their connection's other side is derived afterwards. */
const FORWARD_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ['Shot', 'sg_sequence'],
  ['Shot', 'assets'],
  ['Task', 'entity'],
  ['Task', 'upstream_tasks'],
  ['Sequence', 'assets'],
  ['Asset', 'parents'],
  ['Note', 'tasks'],
  ['Note', 'note_links'],
  ['Playlist', 'versions'],
  ['PublishedFile', 'version'],
  ['PublishedFile', 'upstream_published_files'],
  ['Group', 'users'],
  ['Project', 'users'],
];

const PROJECT_NAMES = [
  'Big Buck Forest',
  'Night Harbor',
  'Copper Sky',
  'The Last Lighthouse',
  'Ember Falls',
  'Glass Giants',
  'Paper Moon Express',
  'Iron Orchard',
  'Silent Reef',
  'Velvet Storm',
  'Northbound',
  'Kite Runner Club',
];
const FIRST = [
  'Ana',
  'Ben',
  'Chloé',
  'Dev',
  'Elif',
  'Farid',
  'Grace',
  'Hiro',
  'Ines',
  'Jonas',
  'Kemi',
  'Lars',
  'Mei',
  'Nora',
  'Omar',
  'Priya',
  'Quinn',
  'Rosa',
  'Sven',
  'Tomás',
  'Uma',
  'Vik',
  'Wen',
  'Yara',
  'Zoë',
];
const LAST = [
  'Almeida',
  'Brooks',
  'Chen',
  'Dubois',
  'Eriksen',
  'Fischer',
  'García',
  'Hayes',
  'Ito',
  'Jensen',
  'Kowalski',
  'Laurent',
  'Müller',
  'Nakamura',
  'Okafor',
  'Patel',
  'Rossi',
  'Schmidt',
  'Tanaka',
  'Vargas',
  'Weber',
  'Young',
];
const ASSET_WORDS: Record<string, string[]> = {
  Character: ['hero', 'villain', 'sidekick', 'guard', 'child', 'dragon', 'robot', 'fox'],
  Vehicle: ['truck', 'boat', 'bike', 'train', 'airship', 'car'],
  Prop: ['lantern', 'sword', 'book', 'chair', 'map', 'key', 'cup', 'phone'],
  Environment: ['forest', 'harbor', 'street', 'cave', 'rooftop', 'desert'],
  'Matte Painting': ['skyline', 'valley', 'horizon'],
  FX: ['smoke', 'fire', 'rain', 'dust', 'sparks'],
};
const SHOT_STEPS = ['Layout', 'Animation', 'FX', 'Lighting', 'Comp', 'Roto', 'Matchmove'];
const ASSET_STEPS = ['Art', 'Model', 'Rig', 'Surface'];
const STEPS: Array<[string, string, string, string]> = [
  ['Layout', 'LAY', 'Shot', '134,175,230'],
  ['Animation', 'ANM', 'Shot', '255,166,0'],
  ['FX', 'FX', 'Shot', '220,90,90'],
  ['Lighting', 'LGT', 'Shot', '240,220,90'],
  ['Comp', 'COMP', 'Shot', '90,200,120'],
  ['Roto', 'ROTO', 'Shot', '170,120,220'],
  ['Matchmove', 'MM', 'Shot', '120,120,120'],
  ['Art', 'ART', 'Asset', '230,130,180'],
  ['Model', 'MOD', 'Asset', '100,160,250'],
  ['Rig', 'RIG', 'Asset', '250,120,60'],
  ['Surface', 'SRF', 'Asset', '60,200,200'],
  ['Editorial', 'EDIT', 'Sequence', '200,200,200'],
];
const PF_TYPES: Array<[string, string, string]> = [
  ['Maya Scene', 'ma', 'ma'],
  ['Nuke Script', 'nk', 'nk'],
  ['Alembic Cache', 'abc', 'abc'],
  ['Rendered Image', 'exr', 'exr'],
  ['Movie', 'mov', 'mov'],
  ['Houdini Scene', 'hip', 'hip'],
  ['Texture', 'tex', 'tif'],
  ['USD Layer', 'usd', 'usd'],
];
const TAGS = ['hero', 'client', 'reshoot', 'priority', 'wip', 'stereo', 'bidding', 'cbb'];
const NOTE_SUBJECTS = [
  'Timing feels slow',
  'Please check edges',
  'Approved for comp',
  'Match the reference',
  'Grain too strong',
  'Lighting too warm',
  'Nice work!',
  'Fix flicker on frames',
  'Client feedback',
  'Motion blur missing',
];

const DAY = 86_400_000;

/** Seeds an empty store. Returns per-type counts and the time taken. */
export function seedSite(schema: SiteSchema, store: SiteStore, connections: Connections, opts: SeedOptions): { counts: Record<string, number>; ms: number } {
  const t0 = performance.now();
  const r = new Prng(opts.seed);
  const epoch = Date.parse(opts.epoch ?? DEFAULT_EPOCH);
  const N = Math.max(60, Math.floor(opts.entities));
  for (const [t, base] of Object.entries(ID_BASE)) if (schema.hasType(t)) store.setNextId(t, base + r.int(0, 9));
  // The gap below the first real event id holds the history, if any (three rows per entity fit without widening it).
  store.setNextEventId(EVENT_ID_BASE + r.int(0, 99_999) + N * Math.max(3, Math.ceil(opts.eventHistory ?? 0)));

  const when = (maxDaysAgo: number, minDaysAgo = 0): number => epoch - Math.floor(((minDaysAgo + r.next() * (maxDaysAgo - minDaysAgo)) * DAY) / 1000) * 1000;
  const iso = (ms: number) => formatDateTime(new Date(ms));
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const people: Link[] = [];
  const scripts: Link[] = [];
  const stamp = (v: Record<string, unknown>, createdMs: number, by?: Link) => {
    const author = by ?? (scripts.length && r.chance(0.3) ? r.pick(scripts) : people.length ? r.pick(people) : undefined);
    const updated = Math.min(epoch, createdMs + Math.floor(r.next() * 30) * DAY + r.int(0, 86_399) * 1000);
    v.created_at = iso(createdMs);
    v.updated_at = iso(updated);
    if (author) {
      v.created_by = author;
      v.updated_by = r.chance(0.8) ? author : people.length ? r.pick(people) : author;
    }
    return v;
  };
  const add = (type: string, given: Record<string, unknown>): StoredEntity => {
    // Copied without the empty values rather than deleting them: a `delete` turns the object into a dictionary, which
    // took about twice the memory per entity (local/sim memory at 1M entities).
    const values: Record<string, unknown> = {};
    for (const k of Object.keys(given)) {
      const v = given[k];
      if (!(v === undefined || v === null || (Array.isArray(v) && v.length === 0))) values[k] = v;
    }
    const rec: StoredEntity = { type, id: store.allocateId(type), retired: false, values };
    store.insert(rec);
    return rec;
  };
  const link = (e: StoredEntity): Link => ({ type: e.type, id: e.id });
  const maybe = <T>(p: number, f: () => T): T | undefined => (r.chance(p) ? f() : undefined);
  const image = (type: string, id: number) => `https://sg-media-sim.example.com/thumbnail/${type.toLowerCase()}/${id}.jpg`;
  const tags = () => maybe(0.15, () => r.sample(TAGS, r.int(1, 2)));

  // --- people and scripts -----------------------------------------------------------------------------------
  const artistCount = Math.min(300, Math.max(6, Math.round(N / 40)));
  const fixedUsers: Array<[string, string, string, string]> = [
    ['admin', 'Admin', 'User', 'Pipeline'],
    ['producer', 'Paula', 'Mendes', 'Production'],
    ['coordinator', 'Colin', 'Okoro', 'Production'],
    ['supervisor', 'Sofia', 'Lindqvist', 'Compositing'],
  ];
  const depts = ['Modeling', 'Rigging', 'Animation', 'Lighting', 'Compositing', 'FX', 'Editorial'];
  const userRows: Array<[string, string, string, string, boolean]> = fixedUsers.map(([l, f, la, d]) => [l, f, la, d, true]);
  for (let i = 1; i <= artistCount; i++) userRows.push([`artist${i}`, r.pick(FIRST), r.pick(LAST), r.pick(depts), true]);
  userRows.push(['former', 'Frank', 'Former', 'Animation', false]);
  const users: StoredEntity[] = [];
  for (const [login, first, last, dept, active] of userRows) {
    const u = add(
      'HumanUser',
      stamp(
        {
          name: `${first} ${last}`,
          login,
          email: `${login}@studio.example.com`,
          firstname: first,
          lastname: last,
          sg_status_list: active ? 'act' : 'dis',
          department: dept,
          file_access: true,
          image: maybe(0.5, () => image('HumanUser', users.length)),
        },
        when(900, 400),
        undefined,
      ),
    );
    users.push(u);
    if (active) people.push(link(u));
  }
  for (const s of opts.scripts) {
    const a = add(
      'ApiUser',
      stamp(
        {
          firstname: s.name,
          lastname: '1.0',
          description: `Script ${s.name}`,
          email: 'pipeline@studio.example.com',
          generate_event_log_entries: s.generateEvents,
        },
        when(800, 300),
        people[0],
      ),
    );
    scripts.push(link(a));
  }
  for (const extra of ['toolkit', 'rv_review']) {
    if (opts.scripts.some((s) => s.name === extra)) continue;
    scripts.push(
      link(
        add(
          'ApiUser',
          stamp({ firstname: extra, lastname: '2.3', description: `Studio script ${extra}`, generate_event_log_entries: true }, when(800, 300), people[0]),
        ),
      ),
    );
  }
  const groupDefs: Array<[string, (u: StoredEntity) => boolean]> = [
    ['Artists', (u) => String(u.values.login).startsWith('artist')],
    ['Supervisors', (u) => u.values.login === 'supervisor' || u.values.login === 'admin'],
    ['Production', (u) => u.values.department === 'Production'],
    ['Pipeline', (u) => u.values.department === 'Pipeline'],
  ];
  const groups: StoredEntity[] = [];
  for (const [code, member] of groupDefs) groups.push(add('Group', stamp({ code, users: users.filter(member).map(link) }, when(800, 400), people[0])));

  // --- pipeline configuration -----------------------------------------------------------------------------------
  const steps = new Map<string, StoredEntity>();
  STEPS.forEach(([code, short, et, color], i) =>
    steps.set(
      code,
      add('Step', stamp({ code, short_name: short, entity_type: et, color, list_order: i + 1, description: `${code} department` }, when(900, 850), people[0])),
    ),
  );
  const pfTypes = PF_TYPES.map(([code, short]) =>
    add('PublishedFileType', stamp({ code, short_name: short, description: `${code} files` }, when(900, 850), people[0])),
  );

  // --- budget --------------------------------------------------------------------------------------------------
  const fixed = users.length + scripts.length + groups.length + steps.size + pfTypes.length;
  const nProjects = Math.min(25, Math.max(2, Math.round(N / 4000)));
  const rest = Math.max(40, N - fixed - nProjects);
  const share = (w: number, min: number) => Math.max(min, Math.round(rest * w));
  const w = MIXES[opts.mix ?? 'production'];
  const nSeq = share(w.seq, nProjects * 2);
  const nShot = share(w.shot, nSeq * 2);
  const nAsset = share(w.asset, nProjects * 3);
  const nTask = share(w.task, 10);
  const nVersion = share(w.version, 6);
  const nPf = share(w.pf, 4);
  const nNote = share(w.note, 3);
  const nPlaylist = share(w.playlist, nProjects);

  // --- projects, sequences, shots, assets ------------------------------------------------------------------------
  const projects: StoredEntity[] = [];
  const projCode = new Map<number, string>();
  for (let i = 0; i < nProjects; i++) {
    const base = PROJECT_NAMES[i % PROJECT_NAMES.length];
    const name = i < PROJECT_NAMES.length ? base : `${base} ${Math.floor(i / PROJECT_NAMES.length) + 1}`;
    const archived = nProjects > 2 && i === nProjects - 1;
    const created = when(700, 200);
    const p = add(
      'Project',
      stamp(
        {
          name,
          sg_status: archived ? 'Hold' : 'Active',
          sg_type: r.pick(['Feature Film', 'Episodic', 'Commercial', 'Game Cinematic']),
          sg_description: `${name}: ${r.pick(['a heist comedy', 'an animated feature', 'a period drama', 'a sci-fi series'])}`,
          tank_name: name.toLowerCase().replace(/[^a-z0-9]+/g, '_'),
          archived,
          is_template: false,
          color: `${r.int(0, 255)},${r.int(0, 255)},${r.int(0, 255)}`,
          start_date: day(created),
          end_date: day(created + r.int(200, 500) * DAY),
          sg_budget: Math.round(r.next() * 5e6 * 100) / 100,
          billboard: maybe(0.5, () => ({
            url: `https://studio.example.com/billboards/${i}.png`,
            name: 'billboard',
            link_type: 'web',
            content_type: 'image/png',
          })),
          users: r.sample(people, Math.min(people.length, r.int(4, 12))),
          image: maybe(0.7, () => image('Project', i)),
          tag_list: tags(),
        },
        created,
        people[0],
      ),
    );
    projects.push(p);
    projCode.set(
      p.id,
      name
        .split(/\s+/)
        .map((w) => w[0])
        .join('')
        .toUpperCase()
        .slice(0, 3),
    );
  }
  const sequences: StoredEntity[] = [];
  for (let i = 0; i < nSeq; i++) {
    const p = projects[i % nProjects];
    const n = Math.floor(i / nProjects) + 1;
    sequences.push(
      add(
        'Sequence',
        stamp(
          {
            code: `${projCode.get(p.id)}_${String(n * 10).padStart(3, '0')}`,
            project: link(p),
            description: maybe(0.6, () => `Sequence ${n} of ${p.values.name}`),
            sg_status_list: r.pick(['wtg', 'ip', 'ip', 'fin', 'hld']),
            sg_sequence_type: maybe(0.7, () => r.pick(['Action', 'Dialogue', 'Establishing', 'Montage'])),
            image: maybe(0.5, () => image('Sequence', i)),
            tag_list: tags(),
          },
          when(600, 150),
        ),
      ),
    );
  }
  const assets: StoredEntity[] = [];
  const assetsByProject = new Map<number, StoredEntity[]>();
  for (let i = 0; i < nAsset; i++) {
    const p = projects[i % nProjects];
    const at = r.pick(Object.keys(ASSET_WORDS));
    const a = add(
      'Asset',
      stamp(
        {
          code: `${r.pick(ASSET_WORDS[at])}${at === 'Character' ? r.pick(['A', 'B', 'Hero', 'Old']) : ''}${String(i + 1).padStart(2, '0')}`,
          project: link(p),
          sg_asset_type: at,
          sg_status_list: r.pick(['wtg', 'rdy', 'ip', 'ip', 'rev', 'fin']),
          description: maybe(0.5, () => `${at} asset for ${p.values.name}`),
          image: maybe(0.6, () => image('Asset', i)),
          tag_list: tags(),
        },
        when(500, 100),
      ),
    );
    const list = assetsByProject.get(p.id) ?? [];
    if (list.length && r.chance(0.15)) a.values.parents = [link(r.pick(list))];
    list.push(a);
    assetsByProject.set(p.id, list);
    assets.push(a);
  }
  for (const s of sequences) {
    const pool = assetsByProject.get((s.values.project as Link).id) ?? [];
    if (pool.length && r.chance(0.4)) s.values.assets = r.sample(pool, r.int(1, 3)).map(link);
  }
  const shots: StoredEntity[] = [];
  const shotCounter = new Map<number, number>();
  for (let i = 0; i < nShot; i++) {
    const seq = sequences[i % nSeq];
    const k = (shotCounter.get(seq.id) ?? 0) + 1;
    shotCounter.set(seq.id, k);
    const p = seq.values.project as Link;
    const cutIn = 1001;
    const dur = r.int(24, 240);
    const pool = assetsByProject.get(p.id) ?? [];
    const s = add(
      'Shot',
      stamp(
        {
          code: `${seq.values.code}_${String(k * 10).padStart(4, '0')}`,
          project: p,
          sg_sequence: link(seq),
          description: maybe(0.6, () =>
            r.pick([
              'Wide establishing shot',
              'Close-up <hero> reaction',
              'Over-the-shoulder dialogue',
              'Crash & debris',
              'Plate cleanup; remove rig',
              'Café exterior, dusk',
            ]),
          ),
          sg_status_list: r.pick(['wtg', 'rdy', 'ip', 'ip', 'ip', 'rev', 'fin', 'hld', 'omt']),
          sg_shot_type: maybe(0.8, () => r.pick(['Live Action', 'Full CG', 'Matte Painting', 'Set Extension'])),
          sg_cut_in: cutIn,
          sg_cut_out: cutIn + dur - 1,
          sg_cut_duration: dur,
          sg_cut_order: k,
          sg_head_in: maybe(0.7, () => cutIn - 8),
          sg_tail_out: maybe(0.7, () => cutIn + dur + 7),
          sg_frame_rate: r.pick([24, 23.976, 25]),
          sg_timecode_in: maybe(0.6, () => r.int(0, 86_400) * 1000),
          sg_due_date: maybe(0.5, () => day(epoch + r.int(-60, 120) * DAY)),
          sg_vfx_complexity: maybe(0.5, () => r.int(0, 100)),
          sg_plate_uuid: maybe(0.3, () => r.uuid()),
          sg_editorial_data: maybe(0.2, () => ({ reel: `A${r.int(1, 40)}`, edl_event: r.int(1, 900), handles: [8, 8] })),
          sg_hero: r.chance(0.05),
          assets: pool.length && r.chance(0.6) ? r.sample(pool, r.int(1, 4)).map(link) : undefined,
          image: maybe(0.7, () => image('Shot', i)),
          tag_list: tags(),
        },
        when(400, 20),
      ),
    );
    shots.push(s);
  }

  // --- tasks: each parent gets its pipeline's steps in order, upstream-linked ---------------------------------------
  const parents: StoredEntity[] = [];
  for (let i = 0, a = 0; i < shots.length || a < assets.length; i++) {
    if (i < shots.length) parents.push(shots[i]);
    if (i % 2 === 0 && a < assets.length) parents.push(assets[a++]);
  }
  const tasks: StoredEntity[] = [];
  const tasksByParent = new Map<string, StoredEntity[]>();
  for (let pass = 0; tasks.length < nTask; pass++) {
    for (const parent of parents) {
      if (tasks.length >= nTask) break;
      const names = parent.type === 'Shot' ? SHOT_STEPS : ASSET_STEPS;
      const mine = tasksByParent.get(`${parent.type}#${parent.id}`) ?? [];
      const stepName = names[mine.length % names.length];
      const round = Math.floor(mine.length / names.length);
      const start = epoch + r.int(-120, 60) * DAY;
      const bid = r.int(1, 20) * 480;
      const logged = r.chance(0.6) ? r.int(0, bid * 1.5) : 0;
      const t = add(
        'Task',
        stamp(
          {
            content: round ? `${stepName} ${round + 1}` : stepName,
            project: parent.values.project,
            entity: link(parent),
            step: link(steps.get(stepName)!),
            sg_status_list: r.pick(['wtg', 'rdy', 'ip', 'ip', 'rev', 'fin', 'hld']),
            sg_priority: maybe(0.5, () => r.pick(['1', '2', '3', '4'])),
            sg_description: maybe(0.3, () => `${stepName} for ${parent.values.code}`),
            task_assignees: r.chance(0.85) ? (r.chance(0.1) ? [link(r.pick(groups))] : r.sample(people, r.int(1, 2))) : undefined,
            start_date: day(start),
            due_date: day(start + r.int(2, 30) * DAY),
            duration: r.int(1, 15) * 480,
            est_in_mins: bid,
            time_logs_sum: logged,
            time_percent_of_est: Math.round((logged / bid) * 100),
            color: r.chance(0.9) ? 'pipeline_step' : `${r.int(0, 255)},${r.int(0, 255)},${r.int(0, 255)}`,
            milestone: r.chance(0.03),
            sg_task_order: mine.length + 1,
            splits: maybe(0.05, () => [
              { start: day(start), end: day(start + 3 * DAY) },
              { start: day(start + 6 * DAY), end: day(start + 9 * DAY) },
            ]),
            upstream_tasks: mine.length ? [link(mine[mine.length - 1])] : undefined,
            tag_list: tags(),
          },
          when(300, 10),
        ),
      );
      mine.push(t);
      tasksByParent.set(`${parent.type}#${parent.id}`, mine);
      tasks.push(t);
    }
    if (pass > nTask) break;
  }

  // --- versions, published files, notes, playlists ----------------------------------------------------------------
  const versions: StoredEntity[] = [];
  const versionsByProject = new Map<number, StoredEntity[]>();
  const versionNo = new Map<number, number>();
  for (let i = 0; i < nVersion && tasks.length; i++) {
    const task = r.pick(tasks);
    const parent = store.get((task.values.entity as Link).type, (task.values.entity as Link).id)!;
    const n = (versionNo.get(task.id) ?? 0) + 1;
    versionNo.set(task.id, n);
    const first = Number(parent.values.sg_cut_in ?? 1001);
    const last = Number(parent.values.sg_cut_out ?? first + r.int(24, 120));
    const code =
      `${parent.values.code}_${steps.get(String(task.values.content).split(' ')[0])?.values.short_name ?? 'gen'}_v${String(n).padStart(3, '0')}`.toLowerCase();
    const created = when(200, 0);
    const v = add(
      'Version',
      stamp(
        {
          code,
          project: task.values.project,
          entity: link(parent),
          sg_task: link(task),
          user: (task.values.task_assignees as Link[] | undefined)?.find((l) => l.type === 'HumanUser') ?? r.pick(people),
          description: maybe(0.5, () => r.pick(['WIP for review', 'Addressed notes', 'First pass', 'Final candidate', 'Tech check'])),
          sg_status_list: r.pick(['rev', 'rev', 'vwd', 'apr', 'rej', 'na']),
          sg_version_type: maybe(0.6, () => r.pick(['Daily', 'Review', 'Final', 'Temp'])),
          frame_count: last - first + 1,
          frame_range: `${first}-${last}`,
          sg_first_frame: first,
          sg_last_frame: last,
          sg_frames_aspect_ratio: r.pick([1.778, 2.39, 1.85]),
          sg_path_to_frames: `/mnt/projects/${code}/frames/${code}.####.exr`,
          sg_path_to_movie: `/mnt/projects/${code}/${code}.mov`,
          sg_uploaded_movie: maybe(0.4, () => ({
            url: `https://sg-media-sim.example.com/movie/${code}.mp4`,
            name: `${code}.mp4`,
            link_type: 'upload',
            content_type: 'video/mp4',
          })),
          sg_submitted_at: maybe(0.6, () => iso(created + r.int(1, 600) * 60_000)),
          flagged: r.chance(0.05),
          client_approved: r.chance(0.1),
          image: maybe(0.85, () => image('Version', i)),
          tag_list: tags(),
        },
        created,
      ),
    );
    versions.push(v);
    const pid = (v.values.project as Link).id;
    const list = versionsByProject.get(pid);
    if (list) list.push(v);
    else versionsByProject.set(pid, [v]);
  }
  const pfs: StoredEntity[] = [];
  for (let i = 0; i < nPf && versions.length; i++) {
    const v = r.pick(versions);
    const t = r.pick(pfTypes);
    const ext = PF_TYPES.find(([c]) => c === t.values.code)![2];
    const path = `/mnt/projects/${v.values.code}/publish/${v.values.code}.${ext}`;
    const f = add(
      'PublishedFile',
      stamp(
        {
          code: `${v.values.code}.${ext}`,
          name: String(v.values.code).replace(/_v\d+$/, ''),
          project: v.values.project,
          entity: v.values.entity,
          task: v.values.sg_task,
          version: link(v),
          published_file_type: link(t),
          description: v.values.description,
          sg_status_list: r.pick(['cmpt', 'cmpt', 'ip', 'wtg']),
          path: {
            local_path: path,
            local_path_linux: path,
            local_path_mac: path,
            local_path_windows: path.replaceAll('/', '\\'),
            name: `${v.values.code}.${ext}`,
            link_type: 'local',
            content_type: null,
          },
          path_cache: path.replace('/mnt/projects/', ''),
          version_number: Number(/_v(\d+)$/.exec(String(v.values.code))?.[1] ?? 1),
          upstream_published_files: pfs.length && r.chance(0.2) ? [link(r.pick(pfs))] : undefined,
          image: maybe(0.3, () => image('PublishedFile', i)),
        },
        Date.parse(String(v.values.created_at)) + r.int(1, 120) * 60_000,
      ),
    );
    pfs.push(f);
  }
  for (let i = 0; i < nNote && versions.length; i++) {
    const v = r.pick(versions);
    const author = r.pick(people);
    add(
      'Note',
      stamp(
        {
          subject: `${r.pick(NOTE_SUBJECTS)} - ${v.values.code}`,
          content: r.pick([
            'Looks great overall.',
            'Please tighten the timing around frame 1040.',
            'Edges crawl slightly; check the matte.',
            'Grade is a bit warm vs. the plate — match ref.',
            'OK to send to client.',
          ]),
          project: v.values.project,
          user: author,
          sg_status_list: r.pick(['opn', 'opn', 'ip', 'clsd']),
          sg_note_type: r.pick(['Internal', 'Client', 'Director']),
          note_links: r.chance(0.7) ? [link(v), v.values.entity as Link] : [link(v)],
          tasks: r.chance(0.5) && v.values.sg_task ? [v.values.sg_task as Link] : undefined,
          addressings_to: [v.values.user as Link].filter((l) => l.type === 'HumanUser'),
          addressings_cc: r.chance(0.3) ? [link(r.pick(groups))] : undefined,
        },
        Date.parse(String(v.values.created_at)) + r.int(60, 3 * 1440) * 60_000,
        author,
      ),
    );
  }
  for (let i = 0; i < nPlaylist; i++) {
    const p = projects[i % nProjects];
    const pool = versionsByProject.get(p.id) ?? [];
    const created = when(150, 0);
    add(
      'Playlist',
      stamp(
        {
          code: `${projCode.get(p.id)} Dailies ${day(created)}${i >= nProjects ? ` #${Math.floor(i / nProjects) + 1}` : ''}`,
          project: link(p),
          description: maybe(0.4, () => 'Morning review'),
          sg_date_and_time: iso(created + 2 * 3600_000),
          sg_status: r.pick(['opn', 'clsd', 'clsd']),
          locked: r.chance(0.3),
          versions: pool.length ? r.sample(pool, r.int(1, Math.min(8, pool.length))).map(link) : undefined,
        },
        created,
      ),
    );
  }

  seedProfiledPeople(add, stamp, link, projects, tasks, versions, store, opts.seed, epoch);
  deriveOtherSides(schema, store, connections);
  seedToolkit(schema, store, opts.seed, epoch);

  // A few retired rows, as every real site has.
  for (const list of [shots, tasks, versions, assets]) {
    for (const e of list)
      if (r.chance(0.01)) {
        e.retired = true;
        e.retiredAt = iso(Math.min(epoch, Date.parse(String(e.values.updated_at)) + DAY));
      }
  }
  if (opts.eventHistory) store.setHistory(seededHistory(store, opts.seed, epoch, Math.round(N * opts.eventHistory)));
  return { counts: store.counts(), ms: performance.now() - t0 };
}

/**
 * The people the seeded permission profiles name (local/sim/permissions.ts DEFAULT_PROFILES), added last with their
 * own PRNG so the rest of the seed is unchanged: a restricted artist and a vendor assigned to the first project (the
 * vendor also on some of its Tasks, Versions and Notes), and a lead assigned to every project.
 */
function seedProfiledPeople(
  add: (type: string, values: Record<string, unknown>) => StoredEntity,
  stamp: (v: Record<string, unknown>, createdMs: number, by?: Link) => Record<string, unknown>,
  link: (e: StoredEntity) => Link,
  projects: StoredEntity[],
  tasks: StoredEntity[],
  versions: StoredEntity[],
  store: SiteStore,
  seed: number,
  epoch: number,
): void {
  const r = new Prng(seed ^ 0x5eed9e);
  const made = (login: string, first: string, last: string, dept: string) =>
    link(
      add(
        'HumanUser',
        stamp(
          {
            name: `${first} ${last}`,
            login,
            email: `${login}@studio.example.com`,
            firstname: first,
            lastname: last,
            sg_status_list: 'act',
            department: dept,
            file_access: true,
          },
          epoch - 300 * DAY,
        ),
      ),
    );
  const artist = made(SEEDED_PROFILE_LOGINS.restrictedArtist, 'Rita', 'Restricted', 'Animation');
  const vendor = made(SEEDED_PROFILE_LOGINS.vendor, 'Victor', 'Vendor', 'Outsourcing');
  const lead = made(SEEDED_PROFILE_LOGINS.lead, 'Lena', 'Lead', 'Compositing');
  const first = projects[0];
  const addTo = (rec: StoredEntity, field: string, who: Link) => {
    const cur = (rec.values[field] as Link[] | undefined) ?? [];
    if (!cur.some((l) => l.type === who.type && l.id === who.id)) rec.values[field] = [...cur, who];
  };
  addTo(first, 'users', artist);
  addTo(first, 'users', vendor);
  for (const p of projects) addTo(p, 'users', lead);
  const inFirst = (e: StoredEntity) => (e.values.project as Link | undefined)?.id === first.id;
  const mine = tasks.filter(inFirst).filter(() => r.chance(0.15));
  for (const t of mine) addTo(t, 'task_assignees', vendor);
  for (const v of versions.filter(inFirst)) if (r.chance(0.1)) v.values.user = vendor;
  for (const n of store.all('Note')) if (inFirst(n as StoredEntity) && r.chance(0.2)) addTo(n as StoredEntity, 'addressings_to', vendor);
}

/** Fills the other side of every seeded connection (Shot.sg_sequence -> Sequence.shots, ...), in id order. */
function deriveOtherSides(schema: SiteSchema, store: SiteStore, connections: Connections): void {
  for (const [type, field] of FORWARD_FIELDS) {
    for (const src of store.all(type)) {
      const v = src.values[field];
      const targets: Link[] = Array.isArray(v) ? (v as Link[]) : v ? [v as Link] : [];
      for (const l of targets) {
        const rf = connections.reverse(type, field, l.type);
        const t = rf && store.get(l.type, l.id);
        if (!rf || !t) continue;
        const me = { type: src.type, id: src.id };
        if (schema.dataType(t.type, rf) === 'multi_entity') {
          const cur = t.values[rf] as Link[] | undefined;
          if (!cur) t.values[rf] = [me];
          else if (!cur.some((x) => x.type === me.type && x.id === me.id)) cur.push(me);
        } else {
          t.values[rf] = me;
        }
      }
    }
  }
}
