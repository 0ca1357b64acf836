// The sim's snapshot file: the store and sessions as one JSON file in dataDir, written atomically and debounced, read at start.
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { StoreSnapshot } from './store.js';
import type { SessionSnapshot } from './auth.js';

export const SNAPSHOT_FORMAT = 'fpt-cache-sim/1';

export interface SnapshotContents {
  format: typeof SNAPSHOT_FORMAT;
  savedAt: string;
  seed: number;
  store: StoreSnapshot;
  sessions: SessionSnapshot[];
}

export class SnapshotFile {
  readonly path: string;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private dirty = false;

  constructor(
    dataDir: string,
    private readonly collect: () => SnapshotContents,
    private readonly debounceMs = 250,
  ) {
    mkdirSync(dataDir, { recursive: true });
    this.path = join(dataDir, 'site.json');
  }

  read(): SnapshotContents | undefined {
    if (!existsSync(this.path)) return undefined;
    const raw = JSON.parse(readFileSync(this.path, 'utf8')) as SnapshotContents;
    if (raw.format !== SNAPSHOT_FORMAT) throw new Error(`${this.path}: not a ${SNAPSHOT_FORMAT} snapshot (delete it to reseed)`);
    return raw;
  }

  /** Schedules a write `debounceMs` after the latest change. */
  changed(): void {
    this.dirty = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.writeNow();
    }, this.debounceMs);
    this.timer.unref();
  }

  /** Writes now if anything changed since the last write (async; tmp file + rename). */
  async writeNow(): Promise<void> {
    if (this.writing) await this.writing;
    if (!this.dirty) return;
    this.dirty = false;
    const body = JSON.stringify(this.collect());
    const tmp = `${this.path}.tmp`;
    this.writing = writeFile(tmp, body)
      .then(() => rename(tmp, this.path))
      .finally(() => {
        this.writing = undefined;
      });
    await this.writing;
  }

  /** Synchronous final write (close, or the first save after seeding). */
  flushSync(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.collect()));
    renameSync(tmp, this.path);
    this.dirty = false;
  }

  async close(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.writing) await this.writing.catch(() => {});
    if (this.dirty) this.flushSync();
  }
}
