// Notices when npm, which launched the CLI, is gone (npm does not pass SIGTERM on to its script), so the stack stops instead of lingering.
import { execFileSync } from 'node:child_process';

export interface Launchers {
  /** Our parent (tsx, or the node running bin/fpt-cache.js). */
  parent: number;
  /** Under npm (npm start / npx): the parent's parent, npm's script shell or npm itself. */
  npm?: number;
  /** Under npm, the parent was already re-parented to init when we looked: npm is gone. */
  orphaned: boolean;
}

function parentOf(pid: number): number | undefined {
  try {
    const p = Number(
      execFileSync('ps', ['-o', 'ppid=', '-p', String(pid)])
        .toString()
        .trim(),
    );
    return Number.isInteger(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The launcher chain as it is now; take it at process start, before anything slow. Only npm's chain is watched
 * beyond our parent: a shell that exits under `nohup` must not stop the stack.
 */
export function currentLaunchers(env: NodeJS.ProcessEnv = process.env): Launchers {
  const parent = process.ppid;
  if (!env.npm_command) return { parent, orphaned: false };
  const npm = parentOf(parent);
  return { parent, npm: npm !== undefined && npm > 1 ? npm : undefined, orphaned: npm === 1 };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Calls `onGone` once, when our parent or npm exits (or had already). */
export function watchLaunchers(onGone: (pid: number) => void, chain: Launchers = currentLaunchers(), everyMs = 1000): () => void {
  const timer = setInterval(() => {
    const gone = chain.orphaned
      ? chain.parent
      : process.ppid !== chain.parent
        ? chain.parent
        : chain.npm !== undefined && !alive(chain.npm)
          ? chain.npm
          : undefined;
    if (gone === undefined) return;
    clearInterval(timer);
    onGone(gone);
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
