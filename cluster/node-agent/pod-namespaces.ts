/**
 * The namespaces a container runtime gives a pod's processes, for node-agent pods (host processes):
 * - the pod shares one network namespace (the sandbox's), one UTS namespace (hostname = the pod's
 *   hostname) and one IPC namespace among its containers; a holder process (`sleep`, the agent's
 *   `pause`) keeps the UTS and IPC namespaces alive for the pod's lifetime;
 * - each container gets a PID namespace of its own in which its first process is PID 1, with a fresh
 *   /proc (`unshare --pid --fork --mount-proc`): `ps` lists only the container's processes, and
 *   `kill 1` from `kubectl exec` signals the container's main process, as under runc. As in any
 *   container, PID 1 only receives the signals it handles (SIGKILL aside, from outside).
 * - `hostNetwork`/`hostIPC`/`hostPID` keep the host's namespace of that kind (hostNetwork also keeps
 *   the host's UTS namespace, as the kubelet does).
 * `shareProcessNamespace` (one PID namespace per pod) is not implemented. The argv builders are pure.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { ManagedProcess, pollUntil, sharedLauncher } from '../../host';
import { descendants } from './streaming';

export interface PodIsolation {
  /** Own UTS namespace with the pod's hostname (false with hostNetwork). */
  readonly uts: boolean;
  /** Own IPC namespace (false with hostIPC). */
  readonly ipc: boolean;
  /** A PID namespace per container (false with hostPID). */
  readonly pid: boolean;
}

export function podIsolation(pod: V1Pod): PodIsolation {
  const spec = pod.spec;
  return { uts: !spec?.hostNetwork, ipc: !spec?.hostIPC, pid: !spec?.hostPID };
}

/** The kubelet's hostname rule: spec.hostname, else the pod name, at most 63 characters. */
export function podHostname(pod: V1Pod): string {
  return (pod.spec?.hostname ?? pod.metadata?.name ?? 'pod').slice(0, 63).replace(/[-.]+$/, '');
}

/** Ends the here-document of the holder's network commands. */
const HEREDOC_END = 'NEONVM_NETWORK_END';

/**
 * The holder: in the pod's network namespace (`netPrefix`, whose `ip netns exec` also gives it a mount
 * namespace with the pod's own /sys), unshares UTS and IPC, sets the hostname, and first runs
 * `networkCommands` (the namespace's side of the pod network, `ip -batch` lines, see
 * ClusterNetwork.createSandbox): forked by the holder's small shell rather than started as a process of
 * its own by the launcher. The hostname is written to /proc/sys/kernel/hostname (the calling process's
 * UTS namespace) by the shell itself: `hostname` would be one more process to fork and exec per pod.
 * The script fails (and the holder exits) when a command fails.
 */
export function holderArgv(
  netPrefix: readonly string[],
  iso: PodIsolation,
  hostname: string,
  networkCommands: readonly string[] = [],
): string[] {
  for (const c of networkCommands)
    if (c.includes('\n') || c.includes(HEREDOC_END))
      throw new Error(`network command must be one line without ${HEREDOC_END}: ${c}`);
  const steps = [
    ...(networkCommands.length ? [`ip -batch - <<'${HEREDOC_END}'`] : []),
    ...(iso.uts ? ['echo "$1" > /proc/sys/kernel/hostname'] : []),
    'exec sleep infinity',
  ];
  // The here-document's lines follow the line that names it; dash writes a small one into the pipe
  // itself, without forking a writer.
  const script = networkCommands.length
    ? `${steps.join(' && ')}\n${networkCommands.join('\n')}\n${HEREDOC_END}`
    : steps.join(' && ');
  return [
    ...netPrefix,
    'unshare',
    ...(iso.ipc ? ['--ipc'] : []),
    ...(iso.uts ? ['--uts'] : []),
    '--',
    'sh',
    '-c',
    script,
    'neonvm-pod',
    hostname,
  ];
}

/**
 * A container's process: joins the holder's network, mount (the pod's /sys), UTS and IPC namespaces in
 * one `nsenter`, then its own PID namespace. Entering the mount namespace resets the working directory
 * to its root, hence `--wd`. (An `ip netns exec` per container would fork once more and copy the host's
 * mount table and mount a sysfs for every container start.)
 */
export function containerArgv(
  holderPid: number,
  iso: PodIsolation,
  cwd: string,
  command: readonly string[],
): string[] {
  return [
    'nsenter',
    `--target=${holderPid}`,
    '--net',
    '--mount',
    '--uts',
    '--ipc',
    `--wd=${cwd}`,
    '--',
    ...(iso.pid ? ['unshare', '--pid', '--fork', '--mount-proc', '--'] : []),
    ...command,
  ];
}

/**
 * Runs a command beside a container (kubectl exec, exec probes): every namespace of the container's
 * first process (`initPid`, a host PID) — PID, mount (its /proc), UTS, IPC, network — in the
 * container's working directory `cwd` (entering a mount namespace resets it to /). nsenter forks into
 * the PID namespace and passes the exit status on.
 */
export function execArgvPrefix(initPid: number, cwd: string): string[] {
  return [
    'nsenter',
    `--target=${initPid}`,
    '--pid',
    '--mount',
    '--uts',
    '--ipc',
    '--net',
    `--wd=${cwd}`,
    '--',
  ];
}

/** `NSpid:` of /proc/<pid>/status: the PID in each PID namespace it is in, outermost first. Pure. */
export function parseNsPid(status: string): number[] {
  const m = /^NSpid:\s*(.*)$/m.exec(status);
  return m ? m[1].trim().split(/\s+/).map(Number) : [];
}

/**
 * The host PID of the first process below `pid` that is PID 1 of a PID namespace of its own (what
 * `unshare --fork` started), if it exists yet.
 */
export function namespaceInit(pid: number): number | undefined {
  for (const candidate of [pid, ...descendants(pid)]) {
    try {
      const nsPid = parseNsPid(readFileSync(`/proc/${candidate}/status`, 'utf8'));
      if (nsPid.length > 1 && nsPid[nsPid.length - 1] === 1) return candidate;
    } catch {
      // exited meanwhile
    }
  }
  return undefined;
}

/** The running holder of one pod's UTS and IPC namespaces. */
export class PodNamespaces {
  private constructor(
    readonly holder: ManagedProcess,
    readonly isolation: PodIsolation,
  ) {}

  /** Starts the holder and waits until the namespaces exist (the holder has become `sleep`). */
  static async start(
    pod: V1Pod,
    netPrefix: readonly string[],
    logFile: string,
    podRef: string,
    networkCommands: readonly string[] = [],
  ): Promise<PodNamespaces> {
    const isolation = podIsolation(pod);
    const argv = holderArgv(netPrefix, isolation, podHostname(pod), networkCommands);
    // Started by the launcher's helper: a fork of the agent's process costs its event loop milliseconds.
    const holder = await ManagedProcess.launch(
      { name: `${podRef}/pod-namespaces`, command: argv[0], args: argv.slice(1), logFile },
      sharedLauncher(),
    );
    try {
      await pollUntil(
        async () => {
          const comm = readFileSync(`/proc/${holder.pid}/comm`, 'utf8').trim();
          return comm === 'sleep' ? true : undefined;
        },
        {
          timeoutMs: 30_000,
          // Polled often: every container of the pod waits for this (a /proc read costs microseconds).
          intervalMs: 2,
          description: `the namespaces of ${podRef}`,
          abortIf: () =>
            holder.hasExited ? new Error(`pod namespace holder exited: ${holder.logTail()}`) : undefined,
        },
      );
    } catch (err) {
      await holder.stop(0);
      throw err;
    }
    return new PodNamespaces(holder, isolation);
  }

  containerArgv(command: readonly string[], cwd: string): string[] {
    return containerArgv(this.holder.pid, this.isolation, cwd, command);
  }

  /**
   * The host PID of a container's first process, given the PID the agent started (`unshare` when the
   * container has a PID namespace: its child is PID 1 there).
   */
  initPid(startedPid: number): number | undefined {
    return this.isolation.pid ? namespaceInit(startedPid) : startedPid;
  }

  async stop(): Promise<void> {
    await this.holder.stop(0);
  }
}
