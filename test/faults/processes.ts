/**
 * Finding the processes the fault tests may signal: only descendants of this test process (the node
 * agents run pods as its children), identified by what they are — a runner by its pod's
 * `K8S_POD_NAME`, a QEMU by its `-name <pod>` — never by a program name across the machine (other
 * engineers run the same programs). Reading /proc is all this does; signalling stays with the caller.
 */
import { readFileSync, readdirSync } from 'node:fs';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

interface Proc {
  readonly pid: number;
  readonly ppid: number;
  readonly argv: string[];
  readonly state: string;
}

function processes(): Proc[] {
  const out: Proc[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = read(`/proc/${entry}/stat`);
    const cmdline = read(`/proc/${entry}/cmdline`);
    if (!stat || cmdline === undefined) continue;
    // pid (comm) state ppid ...: comm may contain spaces and parentheses, so split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.push({
      pid: Number(entry),
      state: rest[0],
      ppid: Number(rest[1]),
      argv: cmdline.split('\0').filter(Boolean),
    });
  }
  return out;
}

/** Live (not zombie) descendants of this process. */
function descendants(): Proc[] {
  const all = processes();
  const children = new Map<number, Proc[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const out: Proc[] = [];
  const queue = [process.pid];
  while (queue.length > 0) {
    for (const c of children.get(queue.shift() ?? -1) ?? []) {
      if (c.state !== 'Z') out.push(c);
      queue.push(c.pid);
    }
  }
  return out;
}

/** The runner process (the container's main process) of a pod started by this test process. */
export function runnerPid(podName: string): number | undefined {
  return descendants().find(
    (p) =>
      p.argv.some((a) => /runner\/main\.(ts|js)$/.test(a)) &&
      (read(`/proc/${p.pid}/environ`) ?? '').split('\0').includes(`K8S_POD_NAME=${podName}`),
  )?.pid;
}

/** QEMU processes (started by this test process) running a guest of the VM `vmName`, by pod. */
export function qemuProcesses(vmName: string): Array<{ pid: number; pod: string }> {
  const pod = new RegExp(`^${vmName}-[a-z0-9]{5}$`);
  return descendants().flatMap((p) => {
    if (!p.argv.some((a) => /qemu-system-/.test(a))) return [];
    const name = p.argv[p.argv.indexOf('-name') + 1];
    return p.argv.includes('-name') && name && pod.test(name) ? [{ pid: p.pid, pod: name }] : [];
  });
}
