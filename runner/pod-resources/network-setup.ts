/**
 * Host side of guest networking: the facts the mode decision needs (runner/plan/network-mode.ts),
 * /dev/net/tun made when missing, whether vhost-net is there, and the tap-mode plan run (bridge,
 * tap, NAT, dnsmasq).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, open, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { run, systemClock, type Clock } from '../../host';
import type { NetworkFacts, TunDeviceFact } from '../plan/network-mode';
import type { NetworkPlan, OverlayPlan, PlannedSysctl } from '../plan/network-plan';

function hasCap(bit: number): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m !== null && (BigInt(`0x${m[1]}`) & (1n << BigInt(bit))) !== 0n;
}
const CAP_NET_ADMIN = 12;
const CAP_MKNOD = 27;

/**
 * True when our network namespace belongs to a pod, so changing it cannot hurt the host: a named
 * namespace (`ip netns add`, how the local cluster's node agent isolates pods) or a container of a
 * real cluster. Unsure means no: the caller falls back to user-mode networking.
 */
export function ownNetns(): boolean {
  try {
    const self = statSync('/proc/self/ns/net').ino;
    if (
      existsSync('/run/netns') &&
      readdirSync('/run/netns').some((n) => statSync(`/run/netns/${n}`).ino === self)
    )
      return true;
  } catch {
    // fall through
  }
  // The kubelet sets KUBERNETES_SERVICE_HOST in every container, and the operator never makes runner
  // pods hostNetwork. (containerd and CRI-O create no /.dockerenv or /run/.containerenv marker.)
  return process.env.KUBERNETES_SERVICE_HOST !== undefined;
}

function onPath(tool: string): boolean {
  return (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin')
    .split(':')
    .some((d) => existsSync(`${d}/${tool}`));
}

export const TUN_DEVICE = '/dev/net/tun';
export const VHOST_NET_DEVICE = '/dev/vhost-net';

type Openable =
  { readonly usable: true } | { readonly usable: false; readonly missing: boolean; readonly reason: string };

/** Whether `path` is a character device this process can open for reading and writing. */
async function openableDevice(path: string): Promise<Openable> {
  try {
    if (!(await stat(path)).isCharacterDevice())
      return { usable: false, missing: false, reason: `${path} is not a device node` };
  } catch {
    return { usable: false, missing: true, reason: `no ${path}` };
  }
  try {
    await (await open(path, 'r+')).close();
    return { usable: true };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    return { usable: false, missing: false, reason: `${path} cannot be opened (${code})` };
  }
}

/**
 * /dev/net/tun, made when missing as upstream's runner does (`mknod c 10 200`): runc allows the device
 * in every container's device cgroup but creates only the basic nodes in /dev.
 * Call it only in the pod's own network namespace, never on a /dev shared with the host.
 */
export async function ensureTunDevice(path = TUN_DEVICE): Promise<TunDeviceFact> {
  const before = await openableDevice(path);
  if (before.usable) return { usable: true, created: false };
  if (!before.missing) return { usable: false, reason: before.reason };
  if (!hasCap(CAP_MKNOD)) return { usable: false, reason: `no ${path}, and no CAP_MKNOD to create it` };
  try {
    await mkdir(dirname(path), { recursive: true });
    await run(['mknod', '-m', '0666', path, 'c', '10', '200']);
  } catch (e) {
    return { usable: false, reason: `no ${path}, and creating it failed: ${(e as Error).message.trim()}` };
  }
  const after = await openableDevice(path);
  return after.usable
    ? { usable: true, created: true }
    : { usable: false, reason: `created ${path}, but ${after.reason}` };
}

/** Facts for decideNetworkMode; `tun` as ensureTunDevice left it when it ran, else looked at here. */
export async function networkFacts(tun?: TunDeviceFact): Promise<NetworkFacts> {
  let tunFact = tun;
  if (!tunFact) {
    const probed = await openableDevice(TUN_DEVICE);
    tunFact = probed.usable ? { usable: true, created: false } : { usable: false, reason: probed.reason };
  }
  return {
    ownNetns: ownNetns(),
    capNetAdmin: hasCap(CAP_NET_ADMIN),
    tun: tunFact,
    missingTools: ['ip', 'iptables', 'dnsmasq'].filter((t) => !onPath(t)),
  };
}

/** Whether QEMU can back the NICs with vhost-net (it opens /dev/vhost-net once per queue pair). */
export async function vhostNet(path = VHOST_NET_DEVICE): Promise<{ usable: boolean; reason: string }> {
  const o = await openableDevice(path);
  return o.usable ? { usable: true, reason: `${path} opens` } : { usable: false, reason: o.reason };
}

/** The interface of the default route (the pod's uplink). */
export async function defaultRouteDevice(): Promise<string> {
  const routes = JSON.parse(
    (await run(['ip', '-j', 'route', 'show', 'default'])).toString() || '[]',
  ) as Array<{ dev?: string }>;
  return routes[0]?.dev ?? 'eth0';
}

/** First nameserver and search domains of a resolv.conf (passed to the guest over DHCP). */
export function parseResolvConf(text: string): { dnsServer?: string; searchDomains: string[] } {
  let dnsServer: string | undefined;
  let searchDomains: string[] = [];
  for (const line of text.split('\n')) {
    const [key, ...rest] = line.trim().split(/\s+/);
    if (key === 'nameserver' && !dnsServer) dnsServer = rest[0];
    if (key === 'search') searchDomains = rest;
  }
  return { dnsServer, searchDomains };
}

export interface TapNetwork {
  dnsmasq: ChildProcess;
  /** Stops dnsmasq (SIGTERM, SIGKILL after 1 s) and waits for it. */
  stop(): Promise<void>;
}

/**
 * Sets one sysctl of the pod's network namespace unless it already has the value. A read-only /proc/sys
 * (an unprivileged container) is fine when the value is already right; otherwise a required setting is
 * an error that says who should have set it, an optional one a log line.
 */
export async function applySysctl(s: PlannedSysctl, log: (m: string) => void): Promise<void> {
  const file = `/proc/sys/${s.key.replace(/\./g, '/')}`;
  if ((await readFile(file, 'utf8')).trim() === s.value) return;
  try {
    await writeFile(file, `${s.value}\n`);
  } catch (e) {
    const why = `${s.key} is not ${s.value} and cannot be set here (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
    if (s.required)
      throw new Error(
        `${why}: ${s.purpose} needs it (in a runner pod the runner image's init-sysctl container sets it)`,
      );
    log(`${why}: without it, no ${s.purpose}`);
  }
}

export async function setupTapNetwork(
  plan: Extract<NetworkPlan, { mode: 'tap' }>,
  log: (m: string) => void,
  clock: Clock = systemClock,
): Promise<TapNetwork> {
  for (const sysctl of plan.sysctls) await applySysctl(sysctl, log);
  for (const argv of plan.commands) await run(argv);
  const [cmd, ...args] = plan.dnsmasq;
  const dnsmasq = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  dnsmasq.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-4000);
    log(`dnsmasq: ${b.toString().trim()}`);
  });
  await dnsmasqStarted(dnsmasq, () => stderr, clock);
  return {
    dnsmasq,
    stop: async () => {
      if (dnsmasq.exitCode !== null || dnsmasq.signalCode !== null) return;
      const gone = new Promise<void>((r) => dnsmasq.once('exit', () => r()));
      dnsmasq.kill('SIGTERM');
      const timer = clock.setTimer(1000, () => dnsmasq.kill('SIGKILL'));
      await gone;
      timer.cancel();
    },
  };
}

/**
 * Resolves once dnsmasq logged that it started (or after a grace period); rejects when it exits
 * first, e.g. on a bad option or a missing user, so the VM does not boot into endless DHCP discovers.
 */
function dnsmasqStarted(
  dnsmasq: ChildProcess,
  stderr: () => string,
  clock: Clock,
  graceMs = 3000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      timer.cancel();
      dnsmasq.stderr?.off('data', onData);
      dnsmasq.off('exit', onExit);
      dnsmasq.off('error', onError);
      if (err) reject(err);
      else resolve();
    };
    const onData = () => {
      if (/\bstarted\b/.test(stderr())) done();
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      done(new Error(`dnsmasq exited (${code ?? signal}) while starting: ${stderr().trim()}`));
    const onError = (err: Error) => done(new Error(`dnsmasq: ${err.message}`));
    const timer = clock.setTimer(graceMs, () => done());
    dnsmasq.stderr?.on('data', onData);
    dnsmasq.once('exit', onExit);
    dnsmasq.once('error', onError);
  });
}

/** True when the pod has the network interface (e.g. Multus's `net1`). */
export async function hasInterface(dev: string): Promise<boolean> {
  return run(['ip', 'link', 'show', 'dev', dev]).then(
    () => true,
    () => false,
  );
}

/** Runs the overlay plan: the pod's Multus interface and QEMU's overlay tap in one bridge. */
export async function setupOverlayNetwork(plan: OverlayPlan): Promise<void> {
  for (const argv of plan.commands) await run(argv);
}
