/**
 * Runs the process of an unpacked OCI runtime bundle (`umoci unpack`) the way a container runtime
 * would, with the tools of this machine: the bundle's `process` (args, env, user, cwd) from its
 * config.json, chrooted into its rootfs, in a private mount namespace with /dev, /proc and /sys, and
 * optionally inside a network namespace. Everything the process executes (node, QEMU, iptables, ...)
 * therefore comes from the image, not from the host. Needs root.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseOwnCgroup } from '../../runner/plan/cpu-cgroup';

export interface BundleProcess {
  readonly args: string[];
  readonly env: string[];
  readonly uid: number;
  readonly gid: number;
  readonly cwd: string;
}

/** The `process` section of a bundle's config.json (what the image config's Entrypoint/Env/User became). */
export function readBundleProcess(bundle: string): BundleProcess {
  const config = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as {
    process: { args: string[]; env?: string[]; user: { uid: number; gid: number }; cwd?: string };
  };
  const p = config.process;
  return { args: p.args, env: p.env ?? [], uid: p.user.uid, gid: p.user.gid, cwd: p.cwd ?? '/' };
}

export interface BundleRunOptions {
  /** Replaces the image's args (a pod's `command` + `args`); default: the image's. */
  readonly args?: readonly string[];
  /** Added to (and overriding) the image's env, as a pod's `env` would. */
  readonly env?: Readonly<Record<string, string>>;
  /** Prefix that enters a network namespace, e.g. `ip netns exec <ns>`; default: the host's. */
  readonly netnsPrefix?: readonly string[];
  /** The rootfs mounted read-only, as `securityContext.readOnlyRootFilesystem: true` does. */
  readonly readOnlyRootfs?: boolean;
  /** Paths in the rootfs that get a fresh tmpfs (a pod's `emptyDir` volumes). */
  readonly tmpfs?: readonly string[];
  /** Host paths bound into the rootfs (a pod's `hostPath` volumes). */
  readonly binds?: readonly {
    readonly source: string;
    readonly target: string;
    readonly readOnly?: boolean;
  }[];
  /**
   * The host's cgroup hierarchy with the `cpu` controller at /sys/fs/cgroup, as upstream's runner pod
   * gets it (hostPath /sys/fs/cgroup). Mounted afresh rather than bound: `ip netns exec` has already
   * replaced /sys with a sysfs that has no cgroup mounts.
   */
  readonly cgroupCpu?: boolean;
}

/** The argv (for spawn) that runs the bundle's process. */
export function bundleCommand(bundle: string, opts: BundleRunOptions = {}): string[] {
  const proc = readBundleProcess(bundle);
  const rootfs = join(bundle, 'rootfs');
  const env = new Map(proc.env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  for (const [k, v] of Object.entries(opts.env ?? {})) env.set(k, v);
  const args = opts.args ?? proc.args;
  // Inside the new mount namespace: the kernel filesystems a runtime provides, then chroot with the
  // image's user, an environment of exactly the image's (plus ours) variables and the image's cwd.
  // The rootfs is bind-mounted onto itself first so that it is a mount of its own, which can then
  // be made read-only without touching /dev, /proc and /sys mounted inside it.
  const script = [
    'set -e',
    'r="$1"; shift',
    'mount --bind "$r" "$r"',
    'mount --rbind /dev "$r/dev"',
    'mount -t proc proc "$r/proc"',
    'mount -t sysfs sysfs "$r/sys"',
    ...(opts.tmpfs ?? []).map((p) => `mount -t tmpfs -o mode=1777,size=16m tmpfs "$r${p}"`),
    ...(opts.binds ?? []).flatMap((b) => [
      `mkdir -p "$r${b.target}"`,
      `mount --rbind '${b.source}' "$r${b.target}"`,
      ...(b.readOnly ? [`mount -o remount,bind,ro "$r${b.target}"`] : []),
    ]),
    ...(opts.cgroupCpu ? cgroupCpuMounts() : []),
    ...(opts.readOnlyRootfs ? ['mount -o remount,bind,ro "$r"'] : []),
    'exec chroot --userspec="$USERSPEC" "$r" "$@"',
  ].join('\n');
  return [
    ...(opts.netnsPrefix ?? []),
    'env',
    `USERSPEC=${proc.uid}:${proc.gid}`,
    'unshare',
    '--mount',
    '--propagation',
    'private',
    '--fork',
    '--kill-child',
    'sh',
    '-c',
    script,
    'sh',
    rootfs,
    '/usr/bin/env',
    '-i',
    ...[...env].map(([k, v]) => `${k}=${v}`),
    '/bin/sh',
    '-c',
    `cd '${proc.cwd}' && exec "$@"`,
    'sh',
    ...args,
  ];
}

export interface RunningBundle {
  /** The `unshare` process; its exit code is the bundle process's. */
  readonly child: ChildProcess;
  output(): string;
  readonly exited: Promise<number | null>;
  /**
   * Signals the bundle's process itself: `unshare --fork` blocks signals sent to it instead of
   * forwarding them, so SIGTERM (what the kubelet sends) goes to its only child.
   */
  signal(sig: NodeJS.Signals): void;
  /** PID of the bundle's process (the child of `unshare`), once it exists. */
  innerPid(): number | undefined;
  /** An error with the exit code and the output's tail once the process has exited (for `abortIf`). */
  exitError(what: string): Error | undefined;
}

function cgroupCpuMounts(): string[] {
  const own = parseOwnCgroup(readFileSync('/proc/self/cgroup', 'utf8'));
  if (!own) throw new Error('no cpu cgroup on this machine');
  if (own.version === 2) return ['mount -t cgroup2 cgroup2 "$r/sys/fs/cgroup"'];
  const dir = `"$r/sys/fs/cgroup/${own.controllers}"`;
  return [
    'mount -t tmpfs -o mode=755 cgroup_root "$r/sys/fs/cgroup"',
    `mkdir ${dir}`,
    `mount -t cgroup -o ${own.controllers} cgroup ${dir}`,
  ];
}

/** Starts the bundle's process; output is collected (last 200 kB) for failure messages. */
export function startBundle(bundle: string, opts: BundleRunOptions = {}): RunningBundle {
  const argv = bundleCommand(bundle, opts);
  const child = spawn(argv[0], argv.slice(1), {
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (b: Buffer) => (out = (out + b.toString('latin1')).slice(-200_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const innerPid = (): number | undefined => {
    const pid = child.pid;
    if (pid === undefined || child.exitCode !== null) return undefined;
    try {
      const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
      return first ? Number(first) : undefined;
    } catch {
      return undefined;
    }
  };
  const signal = (sig: NodeJS.Signals): void => {
    const pid = innerPid();
    if (pid !== undefined) process.kill(pid, sig);
  };
  const exitError = (what: string): Error | undefined =>
    child.exitCode === null
      ? undefined
      : new Error(`${what} exited (${child.exitCode}):\n${out.slice(-5000)}`);
  return { child, output: () => out, exited, signal, innerPid, exitError };
}
