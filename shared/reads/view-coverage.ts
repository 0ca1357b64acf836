// What a verified view covers: the projects it was verified for (rows of any other project need a new probe) and the permission epoch it was verified under (changes the event log carries end it).
//
// A probe compares what the caller and the script see of the rows that exist at that moment: it says nothing about a
// project created later, or one that had no rows of the type then. So a view names the projects the script saw rows
// of (`verified`, shared/reads/permission-probe.ts), and a read whose filters reach rows of any other project passes
// (and the view is probed again). Changes the event log carries that move permissions (a Project created, retired or
// its members changed; a user's or script's permission rule set or groups) bump the change counters of Project,
// HumanUser, ApiUser and Group (the poller, shared/reads/response-cache.ts generationBumper, and the store's own
// writes); a view holds only under the counters it was probed under.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CachedSchema } from '../schema/index.js';
import { canonicalDigest } from '../semantics/index.js';
import type { ReadParams } from '../site/index.js';
import { readGenerations } from '../store/index.js';
import { confinedProjects } from './access-rules.js';
import { hasProject, type TypeView } from './permission-probe.js';

/** The types whose changes can move what any caller sees. */
export const PERMISSION_TYPES = ['Project', 'HumanUser', 'ApiUser', 'Group'] as const;

/** The permission epoch: a digest of the change counters of PERMISSION_TYPES, read strongly consistently (by default on every use; concurrent uses share one read). */
export class PermissionEpoch {
  private last?: { at: number; value: Promise<string>; pending: boolean };
  constructor(private readonly o: { ddb: DynamoDBClient; table: string; maxAgeMs?: number; now?: () => number }) {}

  current(): Promise<string> {
    const now = (this.o.now ?? Date.now)();
    if (this.last && (this.last.pending || now - this.last.at < (this.o.maxAgeMs ?? 0))) return this.last.value;
    const value = readGenerations(this.o.ddb, this.o.table, [...PERMISSION_TYPES]).then((g) => canonicalDigest(g));
    const entry = { at: now, value, pending: true };
    this.last = entry;
    value.then(
      () => {
        entry.pending = false;
      },
      () => {
        if (this.last === entry) this.last = undefined;
      },
    );
    return value;
  }
}

/**
 * The read (params of the read engine) that finds a row this read would reach in a project `view` was not verified
 * for, or undefined when there can be none (the type has no project, or the read is confined to verified projects).
 * `null` when the view names no projects at all (stored before views did): it must be probed again.
 */
export function outsideCoverage(schema: CachedSchema, params: ReadParams, view: TypeView): Record<string, unknown> | undefined | null {
  const type = params.type;
  const isProject = type === 'Project';
  if (!isProject && !hasProject(schema, type)) return undefined;
  if (!view.verified) return null;
  const verified = new Set(view.verified);
  const confined = confinedProjects(params);
  if (confined && confined.every((p) => verified.has(p))) return undefined;
  const outside = isProject
    ? [{ path: 'id', relation: 'not_in', values: [...verified] }]
    : [
        { path: 'project', relation: 'is_not', values: [null] },
        { path: 'project', relation: 'not_in', values: [...verified].map((id) => ({ type: 'Project', id })) },
      ];
  return {
    type,
    return_fields: ['id'],
    filters: { logical_operator: 'and', conditions: [params.filters, ...outside] },
    return_only: params.return_only,
    ...(params.include_archived_projects !== undefined ? { include_archived_projects: params.include_archived_projects } : {}),
    paging: { entities_per_page: 1, current_page: 1 },
  };
}
