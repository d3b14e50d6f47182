/**
 * A "raw" QEMU for baselines: the same command line the runner would build (same planners, disks,
 * kernel, initramfs), started directly and driven over QMP without the runner process or its API.
 */
import { join } from 'node:path';
import { defaultVirtualMachine, type VirtualMachineSpec } from '../../crds';
import { buildDisks, imageVirtualSize } from '../pod-resources/disk-builder';
import { freePort } from '../pod-resources/network-setup';
import { archInfo, GUEST_AGENT_PORT, type GuestArtifacts } from '../../guest';
import { planDisks } from '../plan/disks';
import { planGuestArch } from '../plan/guest-arch';
import { kernelCmdline } from '../plan/kernel-cmdline';
import { guestMac, planUserNetwork } from '../plan/network-plan';
import { podPaths } from '../plan/pod-paths';
import { buildQemuArgs } from '../plan/qemu-args';
import { vmShape } from '../plan/vm-shape';
import { spawnQemu, type QemuProcess } from '../qemu/qemu-process';
import { QmpClient } from '../qmp';
import { GuestAgent } from '../vm-control/guest-agent';

export interface RawVm {
  qemu: QemuProcess;
  qmp: QmpClient;
  agent: GuestAgent;
  /** When preparation started (disks, then QEMU): boot times are measured from here. */
  spawnedAt: number;
  stop(): Promise<void>;
}

export async function startRawVm(o: {
  dir: string;
  guest: GuestArtifacts;
  spec: Record<string, unknown>;
  name: string;
  incoming?: { host: string; port: number };
  accel: 'kvm' | 'tcg';
  /** Console and QEMU diagnostics (optional). */
  onOutput?: (chunk: string) => void;
}): Promise<RawVm> {
  // Timed from here: the same disk preparation the runner does, then QEMU.
  const spawnedAt = Date.now();
  const spec = defaultVirtualMachine({ metadata: { name: o.name }, spec: o.spec as VirtualMachineSpec }).spec;
  const shape = vmShape(spec);
  // spec.targetArchitecture picks the guest arch (default: the host's); o.guest must match it.
  const arch = planGuestArch(spec);
  const paths = podPaths(o.dir, join(o.dir, 'r'));
  const disks = planDisks(spec, shape, paths, {
    path: o.guest.rootDisk,
    mode: 'overlay',
    virtualSizeBytes: await imageVirtualSize(o.guest.rootDisk),
  });
  await buildDisks(disks);
  const agentPort = await freePort();
  const network = planUserNetwork({
    mac: guestMac(o.name),
    ports: [],
    podIp: '',
    agentHostPort: agentPort,
    sshHostPort: await freePort(),
    agentGuestPort: GUEST_AGENT_PORT,
  });
  const args = buildQemuArgs(shape, disks.drives, {
    arch,
    accel: o.accel,
    kernelPath: o.guest.kernel,
    initrdPath: o.guest.initramfs,
    qmpSocket: paths.qmpSocket,
    qmpManualSocket: paths.qmpManualSocket,
    diskCacheSettings: 'cache=writeback',
    useVirtioConsole: false,
    network,
    incoming: o.incoming ? { kind: 'tcp', host: o.incoming.host, port: o.incoming.port } : undefined,
    cmdline: kernelCmdline({
      shape,
      arch,
      hostname: `vm-${o.name}`,
      memhpAutoMovableRatio: '301',
      useVirtioConsole: false,
    }),
    name: o.name,
  });
  const { mkdir } = await import('node:fs/promises');
  await mkdir(paths.state, { recursive: true });
  const qemu = spawnQemu(archInfo(arch).qemuBinary, args, { onOutput: o.onOutput });
  const qmp = await QmpClient.connect({ socketPath: paths.qmpSocket, connectTimeoutMs: 15_000 });
  return {
    qemu,
    qmp,
    agent: new GuestAgent(`http://127.0.0.1:${agentPort}`),
    spawnedAt,
    stop: async () => {
      await qmp.close().catch(() => undefined);
      await qemu.kill();
    },
  };
}

/** Milliseconds until the guest agent answers (the same readiness signal the runner uses). */
export async function waitAgent(vm: RawVm, timeoutMs = 120_000): Promise<number> {
  while (Date.now() - vm.spawnedAt < timeoutMs) {
    if (await vm.agent.ready(300)) return Date.now() - vm.spawnedAt;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('raw VM: guest agent never answered');
}
