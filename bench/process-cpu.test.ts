import { cpuByGroup, cpuDeltaMs, ownTicks, parseProcStat, type ProcStat } from './process-cpu';

/** A /proc/<pid>/stat line with the given fields (the others zero). */
function statLine(pid: number, comm: string, ppid: number, times: [number, number, number, number]): string {
  // pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
  return `${pid} (${comm}) S ${ppid} 0 0 0 0 0 0 0 0 0 ${times.join(' ')} 20 0 1 0 100 0 0`;
}

describe('parseProcStat', () => {
  it('reads pid, comm, ppid and the four CPU times', () => {
    expect(parseProcStat(statLine(42, 'kube-apiserver', 7, [10, 5, 3, 2]))).toEqual({
      pid: 42,
      comm: 'kube-apiserver',
      ppid: 7,
      own: 15,
      reaped: 5,
    });
  });

  it('counts fields from the last parenthesis (a comm may contain spaces and parentheses)', () => {
    const s = parseProcStat(statLine(9, 'a) b (c', 1, [1, 2, 3, 4]));
    expect(s).toMatchObject({ pid: 9, comm: 'a) b (c', ppid: 1, own: 3, reaped: 7 });
  });

  it('names the line when there is no (comm)', () => {
    expect(() => parseProcStat('garbage')).toThrow(/without \(comm\)/);
  });
});

describe('cpuByGroup', () => {
  const stat = (pid: number, comm: string, ppid: number, own: number, reaped = 0): ProcStat => ({
    pid,
    comm,
    ppid,
    own,
    reaped,
  });

  it("puts every process under its ancestor that is the root's child, the root apart", () => {
    const groups = cpuByGroup(
      [
        stat(1, 'init', 0, 1000),
        stat(10, 'node', 1, 50, 4), // the root: own time only, reaped apart
        stat(11, 'kube-apiserver', 10, 30),
        stat(12, 'node', 10, 5, 20), // launcher helper, reaped ip/nsenter runs
        stat(13, 'sleep', 12, 1), // a holder it started
        stat(14, 'unshare', 12, 0, 2), // a container wrapper that reaped its fork
        stat(15, 'node', 14, 3), // the container's process
        stat(20, 'bash', 1, 99), // outside the tree
      ],
      10,
    );
    expect(Object.fromEntries(groups)).toEqual({
      self: 50,
      'reaped by self': 4,
      'kube-apiserver': 30,
      node: 5 + 20 + 1 + 2 + 3,
    });
  });
});

describe('cpuDeltaMs', () => {
  it('subtracts per group and converts ticks to milliseconds (a new group starts at 0)', () => {
    const before = new Map([['etcd', 10]]);
    const after = new Map([
      ['etcd', 25],
      ['node', 3],
    ]);
    expect(Object.fromEntries(cpuDeltaMs(before, after))).toEqual({ etcd: 150, node: 30 });
  });
});

describe('ownTicks', () => {
  it('takes the nanoseconds of schedstat where whole ticks read less (a short-lived process)', () => {
    expect(ownTicks(0, '3500000 120000 4\n')).toBeCloseTo(0.35);
  });

  it('keeps the ticks of stat where they count more (the other threads of a process)', () => {
    expect(ownTicks(250, '1000000000 0 10\n')).toBe(250);
    expect(ownTicks(7, undefined)).toBe(7);
  });
});
