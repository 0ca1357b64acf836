// The sim's permission profiles: per HumanUser / ApiUser, which projects, which rows and which fields the site shows that caller.
//
// A profile narrows what a caller reads, as a hosted site's permission roles do (reference/permissions.md):
// - `projects`: `all`, `assigned` (Projects whose `users` hold the caller, and rows of other types whose `project` is
//   one of them; rows without a project stay visible), or an explicit list of Project ids (for scripts);
// - `rowRules`: per type, the rows shown are only those whose `<field>` is (entity) or holds (multi-entity) the caller;
// - `hiddenFields`: per type, fields the caller does not see. ASSUMPTION (the API's behaviour is undocumented): the
//   site returns them as null, filters and sorts see null, and schema reads report them `visible: false`.
// A row hidden from the caller reads like a retired one wherever it is reached through a link: link values to it are
// dropped (null, or left out of a multi-entity list) and deep fields through it are null (also an assumption).
// Profiles are site configuration: set from the options (the seeded defaults) and the control knob, not stored in
// the snapshot. Writes are not restricted.
import { z } from 'zod';
import type { Link } from '../../shared/site/index.js';
import type { EntityLookup, EntityRecord } from '../../shared/semantics/index.js';
import type { SiteSchema } from '../../shared/schema/index.js';
import type { SiteStore } from './store.js';

export const PermissionProfileSchema = z
  .object({
    projects: z.union([z.enum(['all', 'assigned']), z.array(z.number().int().positive())]).default('all'),
    rowRules: z.record(z.string().min(1), z.string().min(1)).default({}),
    hiddenFields: z.record(z.string().min(1), z.array(z.string().min(1))).default({}),
  })
  .strict();
export type PermissionProfile = z.infer<typeof PermissionProfileSchema>;
export type PermissionProfileInput = z.input<typeof PermissionProfileSchema>;

/** Profiles keyed by `user:<login>` or `script:<script_name>`; a caller without one sees everything. */
export const PermissionProfilesSchema = z.record(z.string().regex(/^(user|script):.+$/), PermissionProfileSchema);
export type PermissionProfilesInput = z.input<typeof PermissionProfilesSchema>;

/** The seeded people with a permission profile (the users themselves are added by seed.ts). */
export const SEEDED_PROFILE_LOGINS = { restrictedArtist: 'restricted_artist', vendor: 'vendor', lead: 'lead' } as const;

/** The seeded profiles: an artist assigned to one project with two hidden fields, a vendor with row rules, a lead who sees all. */
export const DEFAULT_PROFILES: PermissionProfilesInput = {
  [`user:${SEEDED_PROFILE_LOGINS.restrictedArtist}`]: { projects: 'assigned', hiddenFields: { Shot: ['description'], Task: ['due_date'] } },
  [`user:${SEEDED_PROFILE_LOGINS.vendor}`]: {
    projects: 'assigned',
    rowRules: { Task: 'task_assignees', Version: 'user', Note: 'addressings_to' },
  },
  [`user:${SEEDED_PROFILE_LOGINS.lead}`]: { projects: 'all' },
};

/** What one caller sees: the rows and fields of the site through its profile. */
export interface CallerView {
  /** Visible rows of a type, hidden fields removed (retired ones kept: return_only decides). */
  rows(type: string, candidates: Iterable<EntityRecord>): EntityRecord[];
  /** Links and deep fields: a hidden row reads as retired, a visible one without its hidden fields. */
  lookup: EntityLookup;
  /** Fields of a type the caller does not see (schema reads). */
  hidden(type: string): ReadonlySet<string>;
}

const NONE: ReadonlySet<string> = new Set();

const holds = (v: unknown, me: Link): boolean =>
  Array.isArray(v)
    ? v.some((l) => l?.type === me.type && l?.id === me.id)
    : typeof v === 'object' && v !== null && (v as Link).type === me.type && (v as Link).id === me.id;

export class SitePermissions {
  private profiles = new Map<string, PermissionProfile>();

  constructor(
    private readonly store: SiteStore,
    private readonly schema: SiteSchema,
    private readonly initial: PermissionProfilesInput = {},
  ) {
    this.set(initial, true);
  }

  /** Sets (or with `null`, removes) profiles; `replace` drops every other one first. */
  set(profiles: Record<string, PermissionProfileInput | null>, replace = false): void {
    if (replace) this.profiles.clear();
    for (const [k, p] of Object.entries(profiles)) {
      if (p === null) this.profiles.delete(k);
      else this.profiles.set(k, PermissionProfileSchema.parse(p));
    }
  }

  reset(): void {
    this.set(this.initial, true);
  }

  describe(): Record<string, PermissionProfile> {
    return Object.fromEntries(this.profiles);
  }

  /** The view of the acting user, or undefined when it sees everything. */
  viewFor(user: Link): CallerView | undefined {
    const rec = this.store.get(user.type, user.id);
    if (!rec) return undefined;
    const key = user.type === 'ApiUser' ? `script:${String(rec.values.firstname)}` : `user:${String(rec.values.login)}`;
    const p = this.profiles.get(key);
    if (!p) return undefined;
    const unrestricted = p.projects === 'all' && Object.keys(p.rowRules).length === 0 && Object.values(p.hiddenFields).every((f) => f.length === 0);
    return unrestricted ? undefined : this.build(p, user);
  }

  private build(p: PermissionProfile, me: Link): CallerView {
    const { store, schema } = this;
    const projects: ReadonlySet<number> | undefined =
      p.projects === 'all'
        ? undefined
        : new Set(
            Array.isArray(p.projects)
              ? p.projects
              : store
                  .all('Project')
                  .filter((r) => holds(r.values.users, me))
                  .map((r) => r.id),
          );
    const hidden = new Map(Object.entries(p.hiddenFields).map(([t, fs]) => [t, new Set(fs)]));
    const visible = (r: EntityRecord): boolean => {
      if (projects) {
        if (r.type === 'Project') {
          if (!projects.has(r.id)) return false;
        } else if (schema.field(r.type, 'project')?.data_type === 'entity') {
          const pl = r.values.project as Link | undefined;
          if (pl && pl.type === 'Project' && !projects.has(pl.id)) return false;
        }
      }
      const rule = p.rowRules[r.type];
      return rule === undefined || holds(r.values[rule], me);
    };
    const masked = new Map<string, EntityRecord | null>();
    const view = (r: EntityRecord): EntityRecord | null => {
      const k = `${r.type}#${r.id}`;
      let v = masked.get(k);
      if (v !== undefined) return v;
      if (!visible(r)) v = null;
      else {
        const h = hidden.get(r.type);
        if (!h || h.size === 0) v = r;
        else {
          const values: Record<string, unknown> = {};
          for (const [f, x] of Object.entries(r.values)) if (!h.has(f)) values[f] = x;
          v = { type: r.type, id: r.id, retired: r.retired, values };
        }
      }
      masked.set(k, v);
      return v;
    };
    return {
      rows(type, candidates) {
        const out: EntityRecord[] = [];
        for (const r of candidates) {
          if (r.type !== type) continue;
          const v = view(r);
          if (v) out.push(v);
        }
        return out;
      },
      lookup: {
        get(type, id) {
          const r = store.get(type, id);
          if (!r) return undefined;
          return view(r) ?? { type, id, retired: true, values: {} };
        },
      },
      hidden: (type) => hidden.get(type) ?? NONE,
    };
  }
}
