// The reconcile pace in the state table (pk `reconcile`, sk `pace#<Type>`): how soon the reconciler scans each type again: an adaptive interval between the schedule's base and a floor, driven by writes the event log did not carry; who made them, and the measured window.
//
// docs/sync.md "Adaptive reconcile interval". Writes by scripts with "Generate Events" off reach the cache only
// through the updated_at scan (or a shadow check's repair), so a stale answer can be served for up to one interval.
// Each pass that finds such writes for a type halves its interval (down to the floor); each pass that finds none
// doubles it (back up to the base). A stale shadow verdict asks for the type's next pass at once. Every quiet write
// found gives one sample of the window: when the cache got it minus the site's updated_at.
import { GetCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const PK = 'reconcile';
const paceSk = (type: string) => `pace#${type}`;
/** Window samples kept per type (the newest). */
const MAX_SAMPLES = 50;
/** Writers kept per type. */
const MAX_WRITERS = 20;

/** Who made a write (the site's `updated_by`). */
export interface Writer {
  type: string;
  id: number;
  name?: string;
}

/** One write the event log did not carry, as found by a scan or a stale shadow verdict. */
export interface QuietWrite {
  id: number;
  updatedAt?: string;
  by?: Writer | null;
}

export interface TypePace {
  /** Current interval between scans of the type (ms). */
  intervalMs?: number;
  /** When the type's next scan is due (epoch ms); undefined: at the next pass. */
  nextAt?: number;
  /** Quiet writes found so far, and when the last one was. */
  quietWrites: number;
  lastQuietAt?: number;
  /** Stale shadow verdicts since the type's last scan. */
  hints: number;
  writers: Writer[];
  /** Window samples (seconds), oldest first. */
  windows: number[];
}

export interface PaceSettings {
  baseMs: number;
  floorMs: number;
}

/** The next interval: halved after a pass with quiet writes (never below the floor), doubled after one without (never above the base). */
export function nextInterval(currentMs: number, quiet: boolean, s: PaceSettings): number {
  const floor = Math.min(s.floorMs, s.baseMs);
  return quiet ? Math.max(floor, Math.floor(currentMs / 2)) : Math.min(s.baseMs, currentMs * 2);
}

/** A site `updated_by` value as a writer, when it is a link. */
export function asWriter(v: unknown): Writer | null {
  if (typeof v !== 'object' || v === null) return null;
  const l = v as { type?: unknown; id?: unknown; name?: unknown };
  return typeof l.type === 'string' && typeof l.id === 'number' ? { type: l.type, id: l.id, ...(typeof l.name === 'string' ? { name: l.name } : {}) } : null;
}

const writerKey = (w: Writer) => `${w.type}:${w.id}${w.name ? `:${w.name}` : ''}`;
function parseWriter(s: string): Writer {
  const [type, id, ...name] = s.split(':');
  return { type, id: Number(id), ...(name.length ? { name: name.join(':') } : {}) };
}
const isWriter = (v: unknown): v is Writer =>
  typeof v === 'object' && v !== null && typeof (v as Writer).type === 'string' && typeof (v as Writer).id === 'number';

/** The quiet writes' window samples (seconds) at `at`, from their site updated_at. */
export function windowSamples(writes: readonly QuietWrite[], at: number): number[] {
  return writes
    .map((w) => (w.updatedAt ? (at - Date.parse(w.updatedAt)) / 1000 : NaN))
    .filter((s) => Number.isFinite(s) && s >= 0)
    .map((s) => Math.round(s * 10) / 10);
}

export interface WindowReport {
  intervalSeconds?: number;
  nextInSeconds?: number;
  quietWrites: number;
  lastQuietAt?: string;
  writers: Writer[];
  /** The measured window (seconds a quiet write stayed unseen): the last sample, the median and the max of the kept ones. */
  windowSeconds?: { last: number; median: number; max: number; samples: number };
}

export class ReconcilePace {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(type: string): Promise<TypePace> {
    const it = (await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: PK, sk: paceSk(type) }, ConsistentRead: true }))).Item;
    return fromItem(it);
  }

  /**
   * Records quiet writes of `type` found at `at` (writers, window samples); `hint`: a stale shadow verdict found them,
   * so the type's next pass is due at once.
   */
  async found(type: string, writes: readonly QuietWrite[], at: number, opts: { hint?: boolean } = {}): Promise<void> {
    if (!writes.length && !opts.hint) return;
    const writers = [
      ...new Set(
        writes
          .map((w) => w.by)
          .filter(isWriter)
          .map(writerKey),
      ),
    ];
    const samples = windowSamples(writes, at);
    const sets = ['lastQuietAt = :at', 'windows = list_append(if_not_exists(windows, :empty), :samples)'];
    const adds = ['quietWrites :n'];
    if (writers.length) adds.push('writers :w');
    if (opts.hint) {
      sets.push('nextAt = :at');
      adds.push('hints :one');
    }
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: PK, sk: paceSk(type) },
        UpdateExpression: `SET ${sets.join(', ')} ADD ${adds.join(', ')}`,
        ExpressionAttributeValues: {
          ':at': at,
          ':empty': [],
          ':samples': samples,
          ':n': writes.length,
          ...(writers.length ? { ':w': new Set(writers) } : {}),
          ...(opts.hint ? { ':one': 1 } : {}),
        },
      }),
    );
  }

  /** Whether `type` is due for a scan at `now` (`slackMs`: the schedule's granularity). */
  due(p: TypePace, now: number, slackMs = 0): boolean {
    return p.nextAt === undefined || now + slackMs >= p.nextAt;
  }

  /** After a scan of `type` that started at `at`: the next interval and due time; hints consumed; samples and writers trimmed. */
  async scanned(type: string, p: TypePace, quiet: boolean, at: number, s: PaceSettings): Promise<number> {
    const intervalMs = nextInterval(p.intervalMs ?? s.baseMs, quiet || p.hints > 0, s);
    const trim = p.windows.length > MAX_SAMPLES || p.writers.length > MAX_WRITERS;
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: PK, sk: paceSk(type) },
        UpdateExpression: `SET intervalMs = :i, nextAt = :next, hints = :zero${trim ? ', windows = :win, writers = :w' : ''}`,
        ExpressionAttributeValues: {
          ':i': intervalMs,
          ':next': at + intervalMs,
          ':zero': 0,
          ...(trim ? { ':win': p.windows.slice(-MAX_SAMPLES), ':w': new Set(p.writers.slice(-MAX_WRITERS).map(writerKey)) } : {}),
        },
      }),
    );
    return intervalMs;
  }

  /** Per type with a record: the interval, quiet writes, writers and the measured window (GET /status). */
  async report(now = Date.now()): Promise<Record<string, WindowReport>> {
    const out: Record<string, WindowReport> = {};
    let start: Record<string, unknown> | undefined;
    do {
      const r = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :p AND begins_with(sk, :s)',
          ExpressionAttributeValues: { ':p': PK, ':s': 'pace#' },
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      for (const it of r.Items ?? []) out[String(it.sk).slice(5)] = windowReport(fromItem(it), now);
      start = r.LastEvaluatedKey;
    } while (start);
    return out;
  }
}

function fromItem(it: Record<string, unknown> | undefined): TypePace {
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  const writers = it?.writers instanceof Set ? [...(it.writers as Set<string>)].sort().map(parseWriter) : [];
  return {
    intervalMs: num(it?.intervalMs),
    nextAt: num(it?.nextAt),
    quietWrites: num(it?.quietWrites) ?? 0,
    lastQuietAt: num(it?.lastQuietAt),
    hints: num(it?.hints) ?? 0,
    writers,
    windows: Array.isArray(it?.windows) ? (it.windows as unknown[]).filter((x): x is number => typeof x === 'number') : [],
  };
}

function windowReport(p: TypePace, now: number): WindowReport {
  const w = p.windows.slice(-MAX_SAMPLES);
  const sorted = [...w].sort((a, b) => a - b);
  return {
    ...(p.intervalMs !== undefined ? { intervalSeconds: p.intervalMs / 1000 } : {}),
    ...(p.nextAt !== undefined ? { nextInSeconds: Math.max(0, Math.round((p.nextAt - now) / 100) / 10) } : {}),
    quietWrites: p.quietWrites,
    ...(p.lastQuietAt !== undefined ? { lastQuietAt: new Date(p.lastQuietAt).toISOString() } : {}),
    writers: p.writers,
    ...(w.length
      ? { windowSeconds: { last: w[w.length - 1], median: sorted[Math.floor(sorted.length / 2)], max: sorted[sorted.length - 1], samples: w.length } }
      : {}),
  };
}
