// Resource readings of local processes for the benchmarks, from /proc: resident memory and CPU time of a process (and its descendants), DynamoDB Local's JVM after a full GC.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** A process and, unless `own`, its descendants (DynamoDB Local runs under a guardian shell). */
function tree(pid: number, own: boolean): number[] {
  const out = [pid];
  if (own) return out;
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      for (const c of readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) out.push(...tree(Number(c), false));
    }
  } catch {
    /* gone */
  }
  return out;
}

const read = (path: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};

/**
 * Resident memory (MB) of a process and its descendants; `own`: the process alone (this process's descendants include
 * DynamoDB Local, which its own figure must not count).
 */
export function rssMB(pid: number | undefined, own = false): number {
  if (!pid) return NaN;
  const kb = tree(pid, own).reduce((n, p) => n + Number(/VmRSS:\s+(\d+)/.exec(read(`/proc/${p}/status`))?.[1] ?? 0), 0);
  return Math.round(kb / 1024);
}

/** CPU seconds (user + system) a process and, unless `own`, its descendants have used so far. */
export function cpuS(pid: number | undefined, own = false): number {
  if (!pid) return NaN;
  let ticks = 0;
  for (const p of tree(pid, own)) {
    const stat = read(`/proc/${p}/stat`);
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
  }
  return ticks / 100;
}

/**
 * DynamoDB Local's resident memory (MB) after a full GC of its JVM (`jcmd GC.run`): its in-memory tables (SQLite,
 * native memory) and the live heap, without the garbage a large -Xmx lets accumulate. NaN without a JDK's jcmd.
 */
export function rssAfterGcMB(guardianPid: number | undefined): number {
  if (!guardianPid) return NaN;
  const java = tree(guardianPid, false).find((p) => read(`/proc/${p}/comm`).trim() === 'java');
  if (!java) return NaN;
  try {
    execFileSync('jcmd', [String(java), 'GC.run'], { stdio: 'ignore', timeout: 60_000 });
  } catch {
    return NaN;
  }
  return rssMB(guardianPid);
}
