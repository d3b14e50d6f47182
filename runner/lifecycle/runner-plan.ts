/**
 * The plan stage: everything the runner will do to the host and hand to QEMU, decided from the
 * config and what the host inspection found, without touching anything (unit-tested in
 * runner-plan.test.ts). The stages after it only execute this plan.
 */
import { parseMilliCpu } from '../../crds';
import { archInfo, GUEST_AGENT_PORT, type GuestArch } from '../../guest';
import type { RunnerConfig } from '../config/runner-config';
import { planDisks, type DiskPlan, type RootDiskInput } from '../plan/disks';
import { kernelCmdline, planLoopsPerJiffy } from '../plan/kernel-cmdline';
import { netQueues, type NetBacking } from '../plan/network-mode';
import {
  GUEST_IP,
  guestMac,
  planOverlayNetwork,
  planTapNetwork,
  planUserNetwork,
  type NetworkPlan,
  type OverlayPlan,
} from '../plan/network-plan';
import { buildQemuArgs } from '../plan/qemu-args';

/** Where setpriv is looked for: with it QEMU dies with the runner (parent-death SIGKILL). */
export const SETPRIV = '/usr/bin/setpriv';

/** What the host inspection stage found (inspect-host.ts): the only I/O results the plan depends on. */
export interface InspectedHost {
  readonly arch: GuestArch;
  readonly files: { readonly kernel: string; readonly initrd?: string; readonly root: RootDiskInput };
  readonly accel: { readonly accel: 'kvm' | 'tcg'; readonly reason: string };
  readonly network:
    | {
        readonly mode: 'tap';
        readonly reason: string;
        /** The pod's default-route interface. */
        readonly uplink: string;
        readonly dnsServer?: string;
        readonly searchDomains: readonly string[];
        /** `spec.extraNetwork`'s pod interface and whether the pod has it (Multus attached it). */
        readonly overlayInterface?: { readonly name: string; readonly present: boolean };
        /** The pod can open /dev/vhost-net (the device plugin mounts it where the node has it). */
        readonly vhostNet: { readonly usable: boolean; readonly reason: string };
      }
    | {
        readonly mode: 'user';
        readonly reason: string;
        /** Free loopback ports for the guest agent and sshd forwards. */
        readonly agentHostPort: number;
        readonly sshHostPort: number;
      };
  /** The guest agent's bearer token (agent-access.ts: derived from the runner API token). */
  readonly agentToken: string;
  /** setpriv exists (util-linux), so QEMU can get a parent-death signal. */
  readonly setpriv: boolean;
  /** For the kernel's `lpj=` (planLoopsPerJiffy): CONFIG_HZ of the guest kernel and the host's "cpu MHz", when known. */
  readonly delayLoop?: { readonly kernelHz?: number; readonly hostCpuMhz?: number };
}

export interface RunnerPlan {
  readonly network: NetworkPlan;
  readonly overlay?: OverlayPlan;
  readonly disks: DiskPlan;
  /** QEMU's argv (binary first) and, for the log, the binary and arguments without a wrapper. */
  readonly qemu: { readonly argv: readonly string[]; readonly binary: string; readonly args: string[] };
  /** QEMU's CPU cgroup quota at start, when the runner manages one (`-skip-cgroup-management` off). */
  readonly cgroup?: { readonly initialMilliCpu: number };
  /** How the runner reaches the guest agent and sshd. */
  readonly guest: {
    readonly agentUrl: string;
    readonly agentToken: string;
    readonly ssh: { readonly host: string; readonly port: number };
  };
  /** The runner API's address for clients (runner.json). */
  readonly apiUrl: string;
  /**
   * What of the VM's spec it runs without (or with less), and why: logged as warnings and reported in
   * the runner API's `/status` (`degraded`), which the operator turns into the Degraded condition.
   */
  readonly degraded: readonly string[];
}

/** The guest's NIC MAC: from the VM identity (image + pod name without the replica suffix), so a migration target matches. */
function vmMac(c: RunnerConfig): string {
  const pod = (c.status?.podName ?? c.podName).replace(/-[a-z0-9]{5}$/, '');
  return guestMac(`${c.spec.guest.rootDisk.image}/${pod}`);
}

export function planRunner(c: RunnerConfig, host: InspectedHost): RunnerPlan {
  const degraded: string[] = [];
  const mac = vmMac(c);
  const ports = c.spec.guest.ports ?? [];
  const net = host.network;

  let network: NetworkPlan;
  let guest: RunnerPlan['guest'];
  let backing: NetBacking | undefined;
  if (net.mode === 'tap') {
    backing = { queues: netQueues(c.shape), vhost: net.vhostNet.usable };
    network = planTapNetwork({
      mac,
      ports,
      uplink: net.uplink,
      dnsServer: net.dnsServer,
      searchDomains: net.searchDomains,
      backing,
    });
    guest = {
      agentUrl: `http://${GUEST_IP}:${GUEST_AGENT_PORT}`,
      agentToken: host.agentToken,
      ssh: { host: GUEST_IP, port: 22 },
    };
  } else {
    network = planUserNetwork({
      mac,
      ports,
      podIp: c.podIp === '0.0.0.0' ? '' : c.podIp, // slirp: empty host address = any
      agentHostPort: net.agentHostPort,
      sshHostPort: net.sshHostPort,
      agentGuestPort: GUEST_AGENT_PORT,
    });
    guest = {
      agentUrl: `http://127.0.0.1:${net.agentHostPort}`,
      agentToken: host.agentToken,
      ssh: { host: '127.0.0.1', port: net.sshHostPort },
    };
    // Still reachable at <pod IP>:<port>, but through QEMU's user-mode stack: every client appears
    // as the gateway address (client-address rules in the guest no longer match), at lower throughput.
    if (ports.length > 0)
      degraded.push(
        `spec.guest.ports ${ports.map((p) => `${p.port}/${(p.protocol ?? 'TCP').toLowerCase()}`).join(', ')} forwarded by QEMU user-mode networking (the guest sees every client as 169.254.254.253): tap networking unavailable (${net.reason})`,
      );
  }

  // spec.extraNetwork: the guest's eth1 on the pod's Multus interface, when there is one to join.
  let overlay: OverlayPlan | undefined;
  if (c.spec.extraNetwork?.enable) {
    if (net.mode !== 'tap' || !backing) {
      degraded.push(`spec.extraNetwork not attached: it needs tap networking (${net.reason})`);
    } else if (!net.overlayInterface?.present) {
      degraded.push(
        `spec.extraNetwork not attached: the pod has no interface ${net.overlayInterface?.name ?? 'net1'} (Multus adds it from the k8s.v1.cni.cncf.io/networks annotation)`,
      );
    } else {
      overlay = planOverlayNetwork({
        mac: guestMac(`${mac}/overlay`),
        podInterface: net.overlayInterface.name,
        backing,
      });
    }
  }

  const disks = planDisks(c.spec, c.shape, c.paths, host.files.root, host.agentToken);
  const cmdline = kernelCmdline({
    shape: c.shape,
    arch: host.arch,
    hostname: `vm-${c.podName}`,
    memhpAutoMovableRatio: c.memhpAutoMovableRatio,
    useVirtioConsole: c.useVirtioConsole,
    appendKernelCmdline: c.appendKernelCmdline,
    lpj: planLoopsPerJiffy({ accel: host.accel.accel, arch: host.arch, ...host.delayLoop }),
    extraNet:
      c.status?.extraNetIP && c.status.extraNetMask
        ? { ip: c.status.extraNetIP, mask: c.status.extraNetMask, podName: c.podName }
        : undefined,
  });
  const args = buildQemuArgs(c.shape, disks.drives, {
    arch: host.arch,
    accel: host.accel.accel,
    kernelPath: host.files.kernel,
    initrdPath: host.files.initrd,
    qmpSocket: c.paths.qmpSocket,
    qmpManualSocket: c.paths.qmpManualSocket,
    logSocket: c.paths.logSocket,
    diskCacheSettings: c.diskCacheSettings,
    useVirtioConsole: c.useVirtioConsole,
    network,
    overlay: overlay && { mac: overlay.mac },
    // The target plugs the source's vCPUs before the stream starts, hence `defer`.
    incoming: c.receiveMigration ? { kind: 'defer' } : undefined,
    cmdline,
    name: c.podName,
  });
  const binary = archInfo(host.arch).qemuBinary;
  const argv = host.setpriv ? [SETPRIV, '--pdeathsig', 'KILL', '--', binary, ...args] : [binary, ...args];

  return {
    network,
    overlay,
    disks,
    qemu: { argv, binary, args },
    // A migration target continues with the source's CPUs (-vmstatus cpus), fractions included.
    cgroup: c.manageCgroup
      ? {
          initialMilliCpu:
            c.receiveMigration && c.status?.cpus !== undefined
              ? parseMilliCpu(c.status.cpus)
              : c.shape.cpus.useMilli,
        }
      : undefined,
    guest,
    apiUrl: `http://${c.podIp === '0.0.0.0' ? '127.0.0.1' : c.podIp}:${c.apiPort}`,
    degraded,
  };
}
