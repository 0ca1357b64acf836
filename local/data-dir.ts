// DATA_DIR, the local stack's data directory: its marker (so `--fresh` never wipes anything else) and its lock against a second stack on it.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../shared/config.js';

/** Marks a directory as a stack's DATA_DIR, so `--fresh` never wipes anything else. */
const DATA_MARKER = '.fpt-cache-data';
const LOCK_FILE = 'stack.lock';

/** Prepares DATA_DIR: wipes it for --fresh (only if it is one of ours), creates it, and takes its lock; returns its release. */
export function prepareDataDir(dir: string, fresh: boolean): () => void {
  if (fresh && existsSync(dir)) {
    const entries = readdirSync(dir);
    if (entries.length > 0 && !entries.includes(DATA_MARKER)) {
      throw new ConfigError(`DATA_DIR ${dir} is not an fpt-cache data directory (no ${DATA_MARKER}); refusing to wipe it for --fresh`);
    }
    checkLock(dir);
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  checkLock(dir);
  writeFileSync(join(dir, DATA_MARKER), 'fpt-cache local stack data (DynamoDB Local files, simulated site snapshot)\n');
  const lock = join(dir, LOCK_FILE);
  writeFileSync(lock, String(process.pid));
  liveLocks.add(dir);
  return () => {
    liveLocks.delete(dir);
    try {
      if (readFileSync(lock, 'utf8') === String(process.pid)) rmSync(lock);
    } catch {
      /* already gone */
    }
  };
}

function checkLock(dir: string): void {
  const lock = join(dir, LOCK_FILE);
  if (!existsSync(lock)) return;
  const pid = Number(readFileSync(lock, 'utf8'));
  if (!Number.isInteger(pid) || pid <= 0) return;
  let alive = true;
  if (pid === process.pid) alive = liveLocks.has(dir);
  else
    try {
      process.kill(pid, 0);
    } catch (e) {
      alive = (e as NodeJS.ErrnoException).code === 'EPERM';
    }
  if (alive) throw new ConfigError(`DATA_DIR ${dir} is in use by another stack (pid ${pid}): stop it or set DATA_DIR to another directory`);
}

/** DATA_DIRs locked by stacks of this process (a pid check alone cannot tell two of our own stacks apart). */
const liveLocks = new Set<string>();
