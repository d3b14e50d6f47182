/**
 * A real node's place in the local cluster's addressing scheme (cluster/network/addressing.ts): node i of
 * slot s has InternalIP 10.(244+s).i.1 on the cluster bridge and hands out 10.(244+s).i.2-254 to its
 * pods, which live in the bridge's /16 with the bridge address as gateway, exactly like node-agent pods.
 * Pure.
 */
import { ClusterAddressing, nodeAddress } from '../network';
import { CniConfigInput } from './cni-config';

export interface RealNodeAddressing {
  /** InternalIP, where the kubelet API listens. */
  readonly address: string;
  /** The node's pod range as a CIDR (Node spec.podCIDR). */
  readonly podCidr: string;
  readonly cni: Omit<CniConfigInput, 'networkName'>;
  /** The node's cgroupRoot: slot and name keep two clusters' nodes apart. */
  readonly cgroupRoot: string;
}

export function realNodeAddressing(a: ClusterAddressing, index: number, name: string): RealNodeAddressing {
  const address = nodeAddress(a, index);
  const net = address.split('.').slice(0, 3).join('.');
  const [o1, o2] = a.gateway.split('.');
  return {
    address,
    podCidr: `${net}.0/24`,
    cni: {
      bridge: a.bridge,
      subnet: `${o1}.${o2}.0.0/${a.prefixLength}`,
      gateway: a.gateway,
      rangeStart: `${net}.2`,
      rangeEnd: `${net}.254`,
    },
    cgroupRoot: `/neonvm-s${a.slot}-${name}`,
  };
}
