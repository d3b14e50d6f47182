/**
 * A real node's place in the local cluster's addressing scheme (cluster/network/addressing.ts). Node i of
 * slot s is a routed host of its own, as a machine of a real cluster is:
 *
 *   cluster bridge nvm<s>br (10.(244+s).0.1/16, the API server listens there)
 *     └─ veth nvm<s>hn<i> ── eth0 of the node's network namespace nvm<s>-rn<i>: 10.(244+s).i.1/16
 *                              (InternalIP: kubelet API; kube-proxy's rules; proxy ARP for its pods)
 *                              └─ bridge cni0 10.(244+s).i.1/24 (made by the CNI bridge plugin)
 *                                   └─ pods 10.(244+s).i.2-254, default route via 10.(244+s).i.1
 *
 * The node answers ARP on the cluster bridge for its /24 (proxy ARP), so the host, node-agent pods
 * (which see the whole /16 as one link) and other real nodes reach its pods without any route of
 * their own, and its pods reach everything through the node, which routes. Pure.
 */
import { ClusterAddressing, nodeAddress } from '../network';
import { CniConfigInput } from './cni-config';

/** The node-local bridge the CNI bridge plugin creates in the node's network namespace. */
export const NODE_POD_BRIDGE = 'cni0';

export interface RealNodeAddressing {
  /** InternalIP, on eth0 of the node's network namespace (kubelet API at :10250). */
  readonly address: string;
  /** The node's pod range as a CIDR (Node spec.podCIDR), on its own bridge. */
  readonly podCidr: string;
  /** All pod addresses of the cluster (kube-proxy's clusterCIDR). */
  readonly clusterCidr: string;
  /** The cluster bridge's address: the node's default gateway, where the API server listens. */
  readonly gateway: string;
  readonly prefixLength: number;
  /** The cluster bridge the node's uplink is attached to. */
  readonly clusterBridge: string;
  /**
   * The node's network namespace (a named one: `ip netns`) and the host end of its uplink. Both carry
   * the cluster's prefix, so a later cluster in the same slot removes them if this run crashed.
   */
  readonly netns: string;
  readonly hostVeth: string;
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
    clusterCidr: `${o1}.${o2}.0.0/${a.prefixLength}`,
    gateway: a.gateway,
    prefixLength: a.prefixLength,
    clusterBridge: a.bridge,
    // `-rn` and `hn` are not hex, so they never collide with the node agent's per-pod names.
    netns: `${a.prefix}-rn${index}`,
    hostVeth: `${a.prefix}hn${index}`,
    cni: {
      bridge: NODE_POD_BRIDGE,
      subnet: `${net}.0/24`,
      gateway: address,
      rangeStart: `${net}.2`,
      rangeEnd: `${net}.254`,
    },
    cgroupRoot: `/neonvm-s${a.slot}-${name}`,
  };
}
