/**
 * The network namespace of one real node (see node-addressing.ts for the addressing): a named namespace
 * `nvm<s>-rn<i>` with a veth uplink on the cluster bridge, the node address on eth0, a default route via
 * the bridge, forwarding on (the node routes for its pods) and proxy ARP for its pod range on eth0.
 * Everything the node runs — kubelet, containerd, kube-proxy, hostNetwork pods — lives in it, so its
 * firewall (kube-proxy's and the kubelet's iptables rules, portmap's hostPort rules) and its sysctls
 * are the node's, never the host's or another node's. Requires root.
 */
import { ipBatch, ipSync, parseLinkNames, parseNetnsList } from '../network';
import { RealNodeAddressing } from './node-addressing';

/**
 * Node sysctls (per network namespace). proxy_delay 0: the kernel otherwise delays each proxied ARP
 * answer by up to 0.8 s.
 */
export function nodeSysctls(uplink = 'eth0'): string[] {
  return [
    'net.ipv4.ip_forward=1',
    `net.ipv4.conf.${uplink}.proxy_arp=1`,
    `net.ipv4.neigh.${uplink}.proxy_delay=0`,
  ];
}

/** The `ip -batch` lines that create the namespace and its uplink. Pure. */
export function nodeNetworkCommands(a: RealNodeAddressing): string[] {
  const inNode = (command: string): string => `netns exec ${a.netns} ${command}`;
  return [
    `netns add ${a.netns}`,
    `link add ${a.hostVeth} type veth peer name eth0 netns ${a.netns}`,
    `link set ${a.hostVeth} master ${a.clusterBridge} up`,
    inNode(`ip addr add ${a.address}/${a.prefixLength} dev eth0`),
    inNode('ip link set lo up'),
    inNode('ip link set eth0 up'),
    inNode(`ip route add default via ${a.gateway} dev eth0`),
    inNode(`sysctl -q -w ${nodeSysctls().join(' ')}`),
  ];
}

export class NodeNetwork {
  private constructor(readonly addressing: RealNodeAddressing) {}

  /** `/run/netns/<name>`: what `nsenter --net=` takes. */
  get path(): string {
    return `/run/netns/${this.addressing.netns}`;
  }

  static async create(a: RealNodeAddressing): Promise<NodeNetwork> {
    const network = new NodeNetwork(a);
    try {
      await ipBatch(nodeNetworkCommands(a));
    } catch (err) {
      network.removeSync();
      throw err;
    }
    return network;
  }

  /** PIDs of processes in the namespace. Synchronous (exit handlers use it). */
  processes(): number[] {
    return ipSync('netns', 'pids', this.addressing.netns).split('\n').filter(Boolean).map(Number);
  }

  /**
   * Deletes the uplink (both veth ends go at once) and the namespace's name. The namespace itself goes
   * when no process (nor mount namespace) holds it any more, and its pods' veths and cni0 with it.
   * Synchronous, never throws.
   */
  removeSync(): void {
    ipSync('link', 'del', this.addressing.hostVeth);
    ipSync('netns', 'del', this.addressing.netns);
  }

  /** The namespace name and the uplink, where they still exist. */
  leftovers(): string[] {
    const netns = parseNetnsList(ipSync('netns', 'list')).filter((n) => n === this.addressing.netns);
    const links = parseLinkNames(ipSync('-j', 'link', 'show')).filter((l) => l === this.addressing.hostVeth);
    return [...netns.map((n) => `netns ${n}`), ...links.map((l) => `link ${l}`)];
  }
}
