/**
 * How the guest is networked, decided from facts about the pod (pure; the facts are read by
 * runner/pod-resources/network-setup.ts): tap mode needs a network namespace of our own,
 * CAP_NET_ADMIN, a usable /dev/net/tun and the tools; otherwise QEMU user-mode networking. And the
 * virtio-net backing in tap mode: queue pairs from the VM's shape, vhost-net when the pod can open it.
 */
import type { VmShape } from './vm-shape';

export type TunDeviceFact =
  { readonly usable: true; readonly created: boolean } | { readonly usable: false; readonly reason: string };

export interface NetworkFacts {
  /** The network namespace is the pod's, not the host's (changing it cannot hurt the host). */
  readonly ownNetns: boolean;
  readonly capNetAdmin: boolean;
  readonly tun: TunDeviceFact;
  /** Of ip, iptables, dnsmasq. */
  readonly missingTools: readonly string[];
}

export interface ModeDecision {
  readonly mode: 'tap' | 'user';
  readonly reason: string;
}

export function decideNetworkMode(requested: 'auto' | 'tap' | 'user', facts: NetworkFacts): ModeDecision {
  if (requested !== 'auto') return { mode: requested, reason: `-network-mode=${requested}` };
  if (!facts.ownNetns) return { mode: 'user', reason: 'the runner shares the host network namespace' };
  if (!facts.capNetAdmin) return { mode: 'user', reason: 'no CAP_NET_ADMIN' };
  if (!facts.tun.usable) return { mode: 'user', reason: facts.tun.reason };
  if (facts.missingTools.length)
    return { mode: 'user', reason: `missing tools: ${facts.missingTools.join(', ')}` };
  return {
    mode: 'tap',
    reason: `own network namespace with CAP_NET_ADMIN${facts.tun.created ? ' (created /dev/net/tun)' : ''}`,
  };
}

/** Upstream's queue pairs per NIC (`queues=4`). */
export const MAX_NET_QUEUES = 4;

/**
 * Queue pairs of a tap NIC: one per vCPU the VM can have, at most upstream's 4 (more queues than
 * vCPUs only cost vhost threads and interrupt vectors). From the shape alone, never from the node:
 * the queue count is part of the virtio-net device a live migration carries, so source and target
 * must agree even when only one of them has /dev/vhost-net.
 */
export function netQueues(shape: Pick<VmShape, 'vcpus'>): number {
  return Math.max(1, Math.min(MAX_NET_QUEUES, shape.vcpus.max));
}

/** The tap NIC's backing: `queues` pairs; `vhost`: the kernel's vhost-net instead of QEMU's user space. */
export interface NetBacking {
  readonly queues: number;
  readonly vhost: boolean;
}
