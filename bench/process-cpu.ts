/**
 * CPU time per process group of this process's tree, from /proc (Linux): which of the local cluster's
 * processes burns the CPU during a burst — the API server, etcd, the scheduler, this process (which
 * hosts the node agents), and the processes the agents start (the launcher helper and every pod's
 * short-lived `ip`/`nsenter`/`unshare`/`sh`, whose time reaches their parent's cutime once reaped).
 * Parsing is pure; only {@link snapshotProcessCpu} reads /proc.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** The fields of /proc/<pid>/stat used here (times in clock ticks). */
export interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  /** utime + stime: this process's own CPU. */
  own: number;
  /** cutime + cstime: CPU of its children that it has reaped. */
  reaped: number;
}

/**
 * Parses one /proc/<pid>/stat line. `comm` is in parentheses and may itself contain spaces or
 * parentheses, so the fields are counted from the last `)`.
 */
export function parseProcStat(line: string): ProcStat {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`/proc stat line without (comm): ${line.slice(0, 80)}`);
  // After ")": state(3) ppid(4) ... utime(14) stime(15) cutime(16) cstime(17), 1-based as in proc(5).
  const rest = line
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const field = (n: number) => Number(rest[n - 3]);
  return {
    pid: Number(line.slice(0, open).trim()),
    comm: line.slice(open + 1, close),
    ppid: field(4),
    own: field(14) + field(15),
    reaped: field(16) + field(17),
  };
}

/**
 * CPU ticks per group over the tree below `root`: each process counts its own time plus what it
 * reaped, under the `comm` of its ancestor (itself included) that is a direct child of `root` — the
 * API server, etcd, ..., and the launcher helper with every process it started. `root` itself counts
 * only its own time, as `self` (its reaped children, synchronous helpers, go to `reaped by self`).
 * Pure.
 */
export function cpuByGroup(stats: readonly ProcStat[], root: number): Map<string, number> {
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  const groups = new Map<string, number>();
  const add = (group: string, ticks: number) => groups.set(group, (groups.get(group) ?? 0) + ticks);
  for (const s of stats) {
    if (s.pid === root) {
      add('self', s.own);
      add('reaped by self', s.reaped);
      continue;
    }
    // Walk up to the child of root (bounded: a PID reused as its own ancestor cannot loop forever).
    let p: ProcStat | undefined = s;
    for (let hops = 0; p && p.ppid !== root && hops < 64; hops++) p = byPid.get(p.ppid);
    if (p?.ppid === root) add(p.comm, s.own + s.reaped);
  }
  return groups;
}

/**
 * A process's own CPU in ticks, at its best precision: /proc/<pid>/stat counts every thread but in whole
 * ticks (a pod's short-lived helpers and idle holders, a few ms each, read as 0), /proc/<pid>/schedstat
 * counts nanoseconds but only for the main thread; the larger of the two is right for both kinds.
 */
export function ownTicks(statTicks: number, schedstat: string | undefined, ticksPerSecond = 100): number {
  const ns = Number(schedstat?.trim().split(/\s+/)[0]);
  return Number.isFinite(ns) ? Math.max(statTicks, (ns * ticksPerSecond) / 1e9) : statTicks;
}

/** Group → ticks, for every process below `root` (see cpuByGroup); reads /proc. */
export function snapshotProcessCpu(root = process.pid): Map<string, number> {
  const stats: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = parseProcStat(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      let schedstat: string | undefined;
      try {
        schedstat = readFileSync(`/proc/${entry}/schedstat`, 'utf8');
      } catch {
        // no scheduler statistics in this kernel: whole ticks only
      }
      stats.push({ ...stat, own: ownTicks(stat.own, schedstat) });
    } catch {
      // exited meanwhile
    }
  }
  return cpuByGroup(stats, root);
}

/** `after - before` per group, in milliseconds (`ticksPerSecond`: getconf CLK_TCK, 100 on Linux). */
export function cpuDeltaMs(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
  ticksPerSecond = 100,
): Map<string, number> {
  const delta = new Map<string, number>();
  for (const [group, ticks] of after)
    delta.set(group, ((ticks - (before.get(group) ?? 0)) * 1000) / ticksPerSecond);
  return delta;
}
