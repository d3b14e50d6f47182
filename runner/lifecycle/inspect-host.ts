/**
 * The inspect-host stage: reads what the plan depends on and changes nothing in the pod — the guest's
 * kernel, initramfs and root disk (building the built-in guest when they are absent), the accelerator
 * verdict, the network mode and what it needs (uplink, resolv.conf, free loopback ports, the
 * overlay's pod interface, whether the pod can open /dev/vhost-net), whether setpriv exists, the guest kernel's HZ and the host's CPU clock.
 */
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { kernelHz } from '../../guest';
import { freePort, hostCpuMhz, type Clock } from '../../host';
import type { RunnerConfig } from '../config/runner-config';
import {
  defaultRouteDevice,
  hasInterface,
  networkFacts,
  parseResolvConf,
  vhostNet,
} from '../pod-resources/network-setup';
import { decideNetworkMode, type TunDeviceFact } from '../plan/network-mode';
import { needsEmulation, planGuestArch } from '../plan/guest-arch';
import { tokenFromFileContent } from '../api/auth';
import { deriveAgentToken } from '../plan/agent-access';
import { inPod } from '../plan/pod-paths';
import { accelVerdict } from './accel';
import { resolveGuestFiles } from './guest-files';
import type { Log } from './lifecycle';
import { SETPRIV, type InspectedHost } from './runner-plan';

/** `tun`: what the tun-device stage found or made, when it ran (see prepareTunDevice). */
export async function inspectHost(
  c: RunnerConfig,
  log: Log,
  clock: Clock,
  tun?: TunDeviceFact,
): Promise<InspectedHost> {
  // spec.targetArchitecture selects the guest (arm64 on an amd64 host runs emulated under TCG).
  const arch = planGuestArch(c.spec);
  const files = await resolveGuestFiles({
    kernelPath: c.kernelPath,
    initrdPath: c.initrdPath,
    imagesDir: c.paths.images,
    rootDiskBase: c.rootDiskBase,
    rootDiskImage: c.spec.guest.rootDisk.image,
    arch,
    progress: (line) => log(line),
  });
  const accel =
    c.spec.enableAcceleration === false
      ? { accel: 'tcg' as const, reason: 'spec.enableAcceleration is false' }
      : needsEmulation(arch)
        ? { accel: 'tcg' as const, reason: `guest architecture ${arch} is emulated on this host` }
        : await accelVerdict(files.kernel, process.env, clock);
  log('accelerator', { ...accel });
  const network = await inspectNetwork(c, tun);
  log('network mode', {
    mode: network.mode,
    reason: network.reason,
    ...(network.mode === 'tap'
      ? { vhostNet: network.vhostNet.usable, vhostNetReason: network.vhostNet.reason }
      : {}),
  });
  return {
    arch,
    files,
    accel,
    network,
    agentToken: await agentToken(c.tokenFile, log),
    setpriv: existsSync(SETPRIV),
    delayLoop: { kernelHz: kernelHz(files.kernel), hostCpuMhz: hostCpuMhz() },
  };
}

/**
 * Derived from the runner API token (the same on a migration's source and target pods); without
 * one (a runner nobody else talks to) a random token still keeps the agent closed to others.
 */
async function agentToken(tokenFile: string, log: Log): Promise<string> {
  const runnerToken = tokenFromFileContent(await readFile(tokenFile, 'utf8').catch(() => ''));
  if (runnerToken) return deriveAgentToken(runnerToken);
  log('no runner API token: the guest agent gets a random token (no migration possible)', { tokenFile });
  return randomBytes(32).toString('hex');
}

async function inspectNetwork(c: RunnerConfig, tun?: TunDeviceFact): Promise<InspectedHost['network']> {
  const decision = decideNetworkMode(c.networkMode, await networkFacts(tun));
  if (decision.mode === 'user') {
    const [agentHostPort, sshHostPort] = [await freePort(), await freePort()];
    return { mode: 'user', reason: decision.reason, agentHostPort, sshHostPort };
  }
  const resolv = parseResolvConf(
    await readFile(inPod(c.paths.root, '/etc/resolv.conf'), 'utf8').catch(() => ''),
  );
  const extra = c.spec.extraNetwork;
  const overlayName = extra?.interface ?? 'net1';
  return {
    mode: 'tap',
    reason: decision.reason,
    uplink: await defaultRouteDevice(),
    ...resolv,
    overlayInterface: extra?.enable
      ? { name: overlayName, present: await hasInterface(overlayName) }
      : undefined,
    vhostNet: await vhostNet(),
  };
}
