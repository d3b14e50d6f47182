/**
 * The stages that change the pod before QEMU starts: the runner's directories, the guest network
 * (tap: bridge, tap, NAT, dnsmasq; overlay: the Multus interface bridged to a second tap), the disk
 * images, QEMU's CPU cgroup. Each registers the undo of what outlives the runner otherwise.
 */
import { spawn } from 'node:child_process';
import { mkdir, rm } from 'node:fs/promises';
import type { RunnerConfig } from '../config/runner-config';
import { QemuCpuCgroup } from '../pod-resources/cpu-cgroup';
import {
  ensureTunDevice,
  ownNetns,
  setupOverlayNetwork,
  setupTapNetwork,
} from '../pod-resources/network-setup';
import type { TunDeviceFact } from '../plan/network-mode';
import type { PodPaths } from '../plan/pod-paths';
import type { Log, StageContext } from './lifecycle';
import type { RunnerPlan } from './runner-plan';

/**
 * `spec.initScript`, run by the runner before anything else (upstream). In its own process group, so
 * an abort (SIGTERM while starting) stops the script and whatever it started.
 */
export function runInitScript(script: string, ctx: StageContext): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', script], { stdio: 'inherit', detached: true });
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    ctx.onUndo('stop the init script', async () => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      process.kill(-child.pid, 'SIGKILL');
      await exited;
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`spec.initScript failed with exit code ${code}`)),
    );
  });
}

/** State, socket and image directories. State (runner.json, ssh_config) stays for tools after exit. */
export async function prepareDirs(paths: PodPaths, ctx: StageContext): Promise<void> {
  await mkdir(paths.state, { recursive: true });
  await mkdir(paths.socketDir, { recursive: true, mode: 0o700 });
  // A short socket directory outside the pod (deep pod roots) is ours to remove.
  if (paths.socketDir !== paths.state)
    ctx.onUndo('remove the socket directory', () => rm(paths.socketDir, { recursive: true, force: true }));
  await mkdir(paths.images, { recursive: true });
}

/**
 * /dev/net/tun for tap networking, made when the pod lacks it (upstream §4.5 step 2). Skipped (no
 * fact) when user-mode networking was asked for or the network namespace may be the host's: then
 * nothing in /dev is touched. The node is left behind on purpose: it is the pod's /dev.
 */
export async function prepareTunDevice(c: RunnerConfig, log: Log): Promise<TunDeviceFact | undefined> {
  if (c.networkMode === 'user' || !ownNetns()) return undefined;
  const tun = await ensureTunDevice();
  if (tun.usable && tun.created) log('created /dev/net/tun (c 10 200)');
  return tun;
}

/**
 * Tap mode's bridge, tap, NAT rules and dnsmasq; the overlay's bridge. Only dnsmasq needs undoing: the
 * links and rules live in the pod's network namespace and go with it.
 */
export async function prepareNetwork(
  c: RunnerConfig,
  plan: RunnerPlan,
  log: Log,
  ctx: StageContext,
): Promise<void> {
  if (plan.network.mode === 'tap') {
    const tap = await setupTapNetwork(plan.network, (m) => log(m), ctx.clock);
    ctx.onUndo('stop dnsmasq', () => tap.stop());
  }
  if (plan.overlay) {
    await setupOverlayNetwork(plan.overlay);
    const { podInterface, mac } = plan.overlay;
    log('overlay network attached', { podInterface, mac, ip: c.status?.extraNetIP });
  }
}

/**
 * QEMU's CPU cgroup with its initial quota (QEMU joins it right after the spawn). Without a usable
 * cgroup filesystem QEMU runs unlimited and the runner says why.
 */
export async function createCpuCgroup(
  c: RunnerConfig,
  plan: RunnerPlan,
  log: Log,
  ctx: StageContext,
): Promise<QemuCpuCgroup | undefined> {
  if (!plan.cgroup) return undefined;
  const created = await QemuCpuCgroup.create(c.podName);
  if (typeof created === 'string') {
    log(`warning: QEMU runs without a CPU limit: ${created} (-skip-cgroup-management silences this)`);
    return undefined;
  }
  ctx.onUndo('remove the CPU cgroup', () => created.remove());
  try {
    await created.setCpu(plan.cgroup.initialMilliCpu);
  } catch (e) {
    log(`warning: QEMU runs without a CPU limit: ${(e as Error).message}`);
    await created.remove();
    return undefined;
  }
  return created;
}
