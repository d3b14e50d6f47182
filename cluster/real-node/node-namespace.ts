/**
 * The mount namespace of one real node (see node-layout.ts for why), inside the node's network
 * namespace (node-network.ts). A holder process (`nsenter --net=<node netns> unshare --mount
 * --propagation private sleep`) keeps it alive; the bind mounts are made inside it with `nsenter`, and
 * the node's programs are started through `nsenter --mount --net`. The namespace is also how the node's
 * processes are found again: every process the kubelet and containerd start (shims, CNI plugins) stays in
 * it, so "processes of this node" is "processes whose /proc/<pid>/ns/mnt is this namespace" — never a
 * guess by program name. Requires root.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ManagedProcess, pollUntil, shellQuote } from '../../host';
import { BindMount } from './node-layout';

const run = promisify(execFile);

/**
 * The sh script, run inside both namespaces, that
 * - mounts a fresh sysfs over /sys: sysfs shows the network devices of the namespace that mounted it,
 *   and the kubelet, the CNI plugins and kube-proxy read /sys/class/net; the host's cgroup mounts are
 *   carried over (moved from a stash directory, `cgroupStash`, a mount point only inside);
 * - creates the mount points (on the host's file system, shared with the namespace) and bind-mounts
 *   each source over its target inside the namespace. Read-only mounts need a second remount (a bind
 *   mount ignores `ro` on the first call). Pure.
 */
export function bindMountScript(mounts: readonly BindMount[], cgroupStash?: string): string {
  const lines = ['set -eu'];
  if (cgroupStash) {
    const stash = shellQuote(cgroupStash);
    lines.push(`mkdir -p ${stash}`);
    lines.push(`mount --rbind /sys/fs/cgroup ${stash}`);
    lines.push('mount -t sysfs -o nosuid,nodev,noexec sysfs /sys');
    lines.push(`mount --move ${stash} /sys/fs/cgroup`);
  }
  for (const m of mounts) {
    const src = shellQuote(m.source);
    const dst = shellQuote(m.target);
    // Files (masked /proc/sys entries) already exist; directories may not.
    lines.push(`[ -e ${dst} ] || mkdir -p ${dst}`);
    lines.push(`mount --bind ${src} ${dst}`);
    if (m.readOnly) lines.push(`mount -o remount,bind,ro ${dst}`);
  }
  return `${lines.join('\n')}\n`;
}

export class NodeNamespace {
  private constructor(
    readonly holder: ManagedProcess,
    /** The namespace's identity, e.g. `mnt:[4026532712]`. */
    readonly id: string,
  ) {}

  /**
   * Starts the holder in the network namespace `netnsPath` (`/run/netns/<name>`) and makes `mounts`
   * inside the new mount namespace, over a fresh sysfs (see {@link bindMountScript}).
   */
  static async create(
    name: string,
    mounts: readonly BindMount[],
    options: { logFile: string; netnsPath: string; cgroupStash: string },
  ): Promise<NodeNamespace> {
    const own = readlinkSync('/proc/self/ns/mnt');
    const holder = ManagedProcess.start({
      name: `${name}-ns`,
      command: 'nsenter',
      args: [
        `--net=${options.netnsPath}`,
        '--',
        'unshare',
        '--mount',
        '--propagation',
        'private',
        '--',
        'sleep',
        'infinity',
      ],
      logFile: options.logFile,
    });
    try {
      // unshare(2) happens before the exec of sleep: wait until the holder's namespace is no longer ours.
      const id = await pollUntil(
        async () => {
          const ns = readlinkSync(`/proc/${holder.pid}/ns/mnt`);
          return ns !== own ? ns : undefined;
        },
        {
          timeoutMs: 10_000,
          intervalMs: 20,
          description: `the mount namespace of ${name}`,
          abortIf: () => (holder.hasExited ? new Error(`unshare exited: ${holder.logTail()}`) : undefined),
        },
      );
      const ns = new NodeNamespace(holder, id);
      await run('nsenter', [...ns.enterArgs(), 'sh', '-c', bindMountScript(mounts, options.cgroupStash)]);
      return ns;
    } catch (err) {
      await holder.stop(0);
      throw err;
    }
  }

  /** `nsenter` arguments that run the rest of the command line inside the node (mount and network). */
  enterArgs(): string[] {
    return ['--target', String(this.holder.pid), '--mount', '--net', '--'];
  }

  /** PIDs of every process in this namespace except the holder. Synchronous (exit handlers use it). */
  processes(): number[] {
    return processesInMountNamespace(this.id).filter((pid) => pid !== this.holder.pid);
  }

  /** Ends the holder; the namespace (and every mount in it) goes once no process is left inside. */
  async destroy(): Promise<void> {
    await this.holder.stop(0);
  }
}

/** PIDs whose mount namespace is `id`. */
export function processesInMountNamespace(id: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(join('/proc', entry, 'ns', 'mnt')) === id) pids.push(Number(entry));
    } catch {
      // exited meanwhile, or a kernel thread
    }
  }
  return pids;
}
