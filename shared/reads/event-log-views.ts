// Principals' views of the kept event log: per project, whether a caller sees the kept event types' rows and fields exactly as the cache's script does (one grouped summarize asked both ways), kept per principal for the view TTL.
//
// The site hides the events of projects a caller may not see (and a role may carry row rules or hidden fields on
// EventLogEntry, like on any type). The kept log is the script's view, so a caller is answered from it for a project
// only when, asked at the same moment with both credentials, the site counts the same rows and the same non-empty
// values of every served field in that project's group. A project without kept-type events at the probe cannot be
// compared (nothing to count): its reads pass until a later probe sees it. As for entity types (principal-views.ts),
// a permission narrowed on the site is seen at the next probe, at most the view TTL later.
import { canonical } from '../semantics/index.js';
import type { AuthParams, ShotgunClient } from '../site/index.js';
import { authParamsOf, type CallerCredential } from './caller-auth.js';
import { askBoth } from './permission-probe.js';
import { RecentMap } from './recent-map.js';

/** Fields counted per project group besides the rows (those the kept log serves that the site summarizes). */
const COUNTED = ['event_type', 'attribute_name', 'meta', 'session_uuid', 'created_at'] as const;

export interface EventLogViewsOptions {
  client: Pick<ShotgunClient, 'call'>;
  scriptAuth: () => Promise<{ script_name: string; script_key: string } | undefined>;
  identity: (c: CallerCredential) => Promise<string>;
  ttlMs: number;
  now?: () => number;
  maxEntries?: number;
  onProbe?: () => void;
}

/** Projects whose kept-type events the caller sees as the script does, and until when that holds. */
interface Verdict {
  same: ReadonlySet<number>;
  until: number;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The probe both sides are asked: the kept event types' rows and field counts, grouped by project. */
export function eventLogProbe(types: readonly string[]): Record<string, unknown> {
  return {
    type: 'EventLogEntry',
    filters: { logical_operator: 'and', conditions: [{ path: 'event_type', relation: 'in', values: [...types] }] },
    summaries: [{ field: 'id', type: 'record_count' }, ...COUNTED.map((field) => ({ field, type: 'count' }))],
    grouping: [{ field: 'project', type: 'exact', direction: 'asc' }],
  };
}

/** Project id -> the group's summaries (canonical JSON), from a grouped summarize reply; undefined when the shape is unexpected. */
function groupsOf(reply: unknown): Map<number, string> | undefined {
  if (!isObj(reply) || !Array.isArray(reply.groups)) return undefined;
  const out = new Map<number, string>();
  for (const g of reply.groups) {
    if (!isObj(g)) return undefined;
    const v = g.group_value;
    if (!isObj(v) || typeof v.id !== 'number') continue;
    out.set(v.id, canonical(g.summaries));
  }
  return out;
}

/** The projects both replies count identically (present in both). */
export function sameProjects(mine: unknown, theirs: unknown): Set<number> | undefined {
  const a = groupsOf(mine);
  const b = groupsOf(theirs);
  if (!a || !b) return undefined;
  return new Set([...b].filter(([id, s]) => a.get(id) === s).map(([id]) => id));
}

export class EventLogViews {
  private readonly memory: RecentMap<string, Verdict>;
  private readonly inflight = new Map<string, Promise<Verdict | string>>();
  private readonly now: () => number;
  readonly stats = { probes: 0, probeFailures: 0 };

  constructor(private readonly o: EventLogViewsOptions) {
    this.memory = new RecentMap(o.maxEntries ?? 50_000);
    this.now = o.now ?? Date.now;
  }

  /** Undefined when the caller sees every one of `projects`' kept `types` events as the script does; else the pass reason. */
  async sees(c: CallerCredential, types: readonly string[], projects: readonly number[]): Promise<string | undefined> {
    const key = `${await this.o.identity(c)}#${[...new Set(types)].sort().join(',')}`;
    let v: Verdict | string | undefined = this.memory.get(key);
    if (!v || v.until <= this.now()) {
      let p = this.inflight.get(key);
      if (!p) {
        p = this.probe(authParamsOf(c), types).finally(() => this.inflight.delete(key));
        this.inflight.set(key, p);
      }
      v = await p;
      if (typeof v === 'string') return v;
      this.memory.keep(key, v);
    }
    const verdict = v;
    return projects.every((id) => verdict.same.has(id)) ? undefined : 'permission-restricted:EventLogEntry';
  }

  private async probe(auth: AuthParams, types: readonly string[]): Promise<Verdict | string> {
    const script = await this.o.scriptAuth().catch(() => undefined);
    if (!script) return 'permission-unverified';
    this.stats.probes++;
    this.o.onProbe?.();
    const params = eventLogProbe(types);
    const until = this.now() + this.o.ttlMs;
    const both = await askBoth((a) => this.o.client.call('summarize', params, { auth: a, idempotent: true }), auth, script);
    if (both.kind === 'refused') return { same: new Set(), until }; // the site refuses the caller what it answers the script
    if (both.kind === 'failed') {
      this.stats.probeFailures++;
      return 'permission-unverified';
    }
    const same = sameProjects(both.mine, both.theirs);
    if (!same) {
      this.stats.probeFailures++;
      return 'permission-unverified';
    }
    return { same, until };
  }
}
