// additional_filter_presets on the simulated site's reads: the LATEST preset (newest entity per linked entity), checked as a hosted site checks presets.
//
// `[{"preset_name": "LATEST", "latest_by": "ENTITIES_CREATED_AT"}]` keeps, of the rows the filters match, the newest
// (created_at, then id) per linked `entity`; `PIPELINE_STEP_NUMBER_AND_ENTITIES_CREATED_AT` per entity and the step of
// the row's task (`sg_task` / `task`). One LATEST preset at most; a preset without a known name is a fault.
// ASSUMPTION: hosted sites define LATEST for Versions and PublishedFiles by their own grouping rules, which are not
// documented beyond these names; the sim groups by the `entity` link.
import { ErrorCode, ShotgunFault, type Link } from '../../shared/site/index.js';
import type { EntityRecord } from '../../shared/semantics/index.js';

export type LatestBy = 'ENTITIES_CREATED_AT' | 'PIPELINE_STEP_NUMBER_AND_ENTITIES_CREATED_AT';
const LATEST_BY = new Set<string>(['ENTITIES_CREATED_AT', 'PIPELINE_STEP_NUMBER_AND_ENTITIES_CREATED_AT']);

/** The presets checked: undefined when none were given, else the grouping the LATEST preset asks for. */
export function checkPresets(presets: ReadonlyArray<Record<string, unknown>> | undefined): LatestBy | undefined {
  if (!presets || presets.length === 0) return undefined;
  let latest: LatestBy | undefined;
  for (const p of presets) {
    if (p.preset_name !== 'LATEST')
      throw new ShotgunFault(`API read() additional_filter_presets: unknown preset_name ${JSON.stringify(p.preset_name ?? null)}`, ErrorCode.API);
    if (typeof p.latest_by !== 'string' || !LATEST_BY.has(p.latest_by)) {
      throw new ShotgunFault(`API read() additional_filter_presets: LATEST needs latest_by, one of ${[...LATEST_BY].join(', ')}`, ErrorCode.API);
    }
    if (latest) throw new ShotgunFault('API read() additional_filter_presets: only one LATEST preset may be given', ErrorCode.API);
    latest = p.latest_by as LatestBy;
  }
  return latest;
}

/** The candidates a LATEST preset keeps: the newest per group (rows without an `entity` link are groups of their own). */
export function latestOnly(rows: readonly EntityRecord[], by: LatestBy, stepOf: (task: Link) => unknown): EntityRecord[] {
  const best = new Map<string, EntityRecord>();
  for (const r of rows) {
    const e = r.values.entity as Link | undefined;
    const task = (r.values.sg_task ?? r.values.task) as Link | undefined;
    const step = by === 'PIPELINE_STEP_NUMBER_AND_ENTITIES_CREATED_AT' && task ? JSON.stringify(stepOf(task) ?? null) : '';
    const k = e ? `${e.type}#${e.id}|${step}` : `self#${r.id}`;
    const cur = best.get(k);
    if (!cur || newer(r, cur)) best.set(k, r);
  }
  const keep = new Set([...best.values()].map((r) => r.id));
  return rows.filter((r) => keep.has(r.id));
}

function newer(a: EntityRecord, b: EntityRecord): boolean {
  const ca = String(a.values.created_at ?? '');
  const cb = String(b.values.created_at ?? '');
  return ca !== cb ? ca > cb : a.id > b.id;
}
