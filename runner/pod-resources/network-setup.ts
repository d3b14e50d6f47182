/**
 * Host side of guest networking: decides the mode and runs the tap-mode plan (bridge, tap, NAT,
 * dnsmasq). Tap mode needs CAP_NET_ADMIN inside a network namespace of our own (a pod); otherwise,
 * or when a tool is missing, user-mode networking needs nothing from the host.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { run, systemClock, type Clock } from '../../host';
import type { NetworkPlan, OverlayPlan } from '../plan/network-plan';

export interface ModeDecision {
  mode: 'tap' | 'user';
  reason: string;
}

function hasCapNetAdmin(): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m !== null && (BigInt(`0x${m[1]}`) & (1n << 12n)) !== 0n; // CAP_NET_ADMIN = 12
}

/**
 * True when our network namespace belongs to a pod, so changing it cannot hurt the host: a named
 * namespace (`ip netns add`, how the local cluster's node agent isolates pods) or a container of a
 * real cluster. Unsure means no: the caller falls back to user-mode networking.
 */
function ownNetns(): boolean {
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

export function decideNetworkMode(requested: 'auto' | 'tap' | 'user'): ModeDecision {
  if (requested !== 'auto') return { mode: requested, reason: `-network-mode=${requested}` };
  if (!ownNetns()) return { mode: 'user', reason: 'the runner shares the host network namespace' };
  if (!hasCapNetAdmin()) return { mode: 'user', reason: 'no CAP_NET_ADMIN' };
  if (!existsSync('/dev/net/tun')) return { mode: 'user', reason: '/dev/net/tun is missing' };
  const missing = ['ip', 'iptables', 'dnsmasq'].filter((t) => !onPath(t));
  if (missing.length) return { mode: 'user', reason: `missing tools: ${missing.join(', ')}` };
  return { mode: 'tap', reason: 'own network namespace with CAP_NET_ADMIN' };
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

export async function setupTapNetwork(
  plan: Extract<NetworkPlan, { mode: 'tap' }>,
  log: (m: string) => void,
  clock: Clock = systemClock,
): Promise<TapNetwork> {
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
