// Fields the site computes for the current user (Project.current_user_favorite, Project.last_accessed_by_current_user): values per caller, changed without any event.
//
// Hosted sites answer these two Project fields for whoever asks (a real site's schema has them: reference/
// schema-sample.json); starring a project or opening its page in the web UI changes them and logs no EventLogEntry.
// The sim keeps them per user and project, seeded deterministically, and changes them only through the control
// knob `callerFields` (local/sim/control.ts), so a cache that stored one caller's value, or kept it across such a
// change, answers wrong in tests.
import { z } from 'zod';
import type { EntityLookup, EntityRecord } from '../../shared/semantics/index.js';

type Link = { type: string; id: number };

/** The Project fields whose value depends on the caller. */
export const CALLER_FIELDS = ['current_user_favorite', 'last_accessed_by_current_user'] as const;

/** The control knob: a user's favourite flag and/or last visit of one project (a web-UI action: no event). */
export const CallerFieldsChangeSchema = z
  .object({
    /** The HumanUser's id (a script has neither: both read false / null for it). */
    user: z.number().int().positive(),
    project: z.number().int().positive(),
    favorite: z.boolean().optional(),
    /** ISO date-time of the visit, or null to clear it. */
    visitedAt: z.string().datetime({ offset: true }).nullable().optional(),
  })
  .strict();
export type CallerFieldsChange = z.infer<typeof CallerFieldsChangeSchema>;

/** A stable hash of two ids in [0, 1). */
function draw(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x45d9f3b);
  h ^= h >>> 13;
  return (h >>> 0) / 4294967296;
}

export class CallerFields {
  private readonly changed = new Map<string, { favorite?: boolean; visitedAt?: string | null }>();

  /** `epochMs`: the seed's epoch; seeded visits lie in the 60 days before it. */
  constructor(private readonly epochMs: number) {}

  set(change: CallerFieldsChange): void {
    const k = `${change.user}/${change.project}`;
    const cur = { ...this.changed.get(k) };
    if (change.favorite !== undefined) cur.favorite = change.favorite;
    if (change.visitedAt !== undefined) cur.visitedAt = change.visitedAt === null ? null : new Date(change.visitedAt).toISOString().replace(/\.\d{3}Z$/, 'Z');
    this.changed.set(k, cur);
  }

  reset(): void {
    this.changed.clear();
  }

  /** The two values for `user` (a HumanUser; anything else: false / null) on project `id`. */
  valuesFor(user: Link, id: number): Record<(typeof CALLER_FIELDS)[number], unknown> {
    if (user.type !== 'HumanUser') return { current_user_favorite: false, last_accessed_by_current_user: null };
    const c = this.changed.get(`${user.id}/${id}`);
    const seededVisit =
      draw(user.id, id) < 0.6 ? new Date(this.epochMs - Math.floor(draw(id, user.id) * 60 * 86_400) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') : null;
    return {
      current_user_favorite: c?.favorite ?? draw(user.id * 7, id) < 0.25,
      last_accessed_by_current_user: c?.visitedAt !== undefined ? c.visitedAt : seededVisit,
    };
  }

  /** A Project record as `user` reads it (other types unchanged). */
  apply(user: Link, r: EntityRecord): EntityRecord {
    if (r.type !== 'Project') return r;
    return { ...r, values: { ...r.values, ...this.valuesFor(user, r.id) } };
  }

  /** Rows and a lookup (deep fields) as `user` reads them. */
  rows(user: Link, rows: readonly EntityRecord[]): EntityRecord[] {
    return rows.map((r) => this.apply(user, r));
  }

  lookup(user: Link, inner: EntityLookup): EntityLookup {
    return {
      get: (type, id) => {
        const r = inner.get(type, id);
        return r && this.apply(user, r);
      },
    };
  }
}
