import { readdirSync, readFileSync } from 'node:fs';

/** Children of a process, from /proc/<pid>/task/<tid>/children. */
function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) => {
      try {
        return readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8')
          .trim()
          .split(/\s+/)
          .filter(Boolean)
          .map(Number);
      } catch {
        return [];
      }
    });
  } catch {
    return [];
  }
}

/** Every live descendant of `pid`, parents first. */
export function descendants(pid: number): number[] {
  const found: number[] = [];
  const queue = childrenOf(pid);
  while (queue.length > 0) {
    const next = queue.shift()!;
    if (found.includes(next)) continue;
    found.push(next);
    queue.push(...childrenOf(next));
  }
  return found;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // ESRCH: already gone.
  }
}

/**
 * Ends an exec'd command whose client went away: SIGHUP (what a closing terminal sends) to the command
 * and everything below it, SIGKILL after `graceMs`. The tree is collected first because a pty session
 * (script's child) is not in the command's process group, and daemons like screen's backend start
 * their own sessions: a group kill would leave them holding the guest console.
 */
export function hangUpTree(pid: number, graceMs = 2000): void {
  const all = [pid, ...descendants(pid)];
  for (const p of all) signal(p, 'SIGHUP');
  setTimeout(() => {
    for (const p of all) signal(p, 'SIGKILL');
  }, graceMs).unref();
}
