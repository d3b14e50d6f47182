/**
 * Names and addresses of one local cluster's network, derived from its slot number so that several
 * clusters (parallel test runs, another engineer's tests) can run on one machine without clashing:
 *
 *   slot s: bridge nvm<s>br with 10.(244+s).0.1/16; node i (1-based) at 10.(244+s).i.1;
 *           pods of node i at 10.(244+s).i.2 .. .254; netns "nvm<s>-<pod>"; host veth ends "nvm<s>h<id>".
 *
 * Everything carries the "nvm<s>" prefix, which is how a later run finds leftovers of a crashed one.
 * Pods of all nodes share the bridge's L2 segment, so pods on different nodes reach each other, and the
 * host reaches every pod through the bridge address. Nothing is routed off the machine.
 */
export const MAX_SLOTS = 10;
export const MAX_NODES = 250;

export interface ClusterAddressing {
  slot: number;
  prefix: string;
  bridge: string;
  /** Bridge (gateway) address with prefix length, e.g. 10.244.0.1/16. */
  bridgeCidr: string;
  gateway: string;
  prefixLength: number;
}

export function clusterAddressing(slot: number): ClusterAddressing {
  if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_SLOTS)
    throw new Error(`network slot ${slot} out of range`);
  const gateway = `10.${244 + slot}.0.1`;
  return {
    slot,
    prefix: `nvm${slot}`,
    bridge: `nvm${slot}br`,
    bridgeCidr: `${gateway}/16`,
    gateway,
    prefixLength: 16,
  };
}

export function nodeAddress(a: ClusterAddressing, nodeIndex: number): string {
  if (!Number.isInteger(nodeIndex) || nodeIndex < 1 || nodeIndex > MAX_NODES)
    throw new Error(`node index ${nodeIndex} out of range`);
  return `10.${244 + a.slot}.${nodeIndex}.1`;
}

export function podAddress(a: ClusterAddressing, nodeIndex: number, host: number): string {
  if (host < 2 || host > 254) throw new Error(`pod host number ${host} out of range`);
  return `10.${244 + a.slot}.${nodeIndex}.${host}`;
}

/**
 * Names of a pod's namespace and the host end of its veth pair (the pod end is `eth0` inside the
 * namespace). Link names are limited to 15 characters (IFNAMSIZ - 1); `id` is a short per-pod token.
 */
export function podLinkNames(a: ClusterAddressing, id: string): { netns: string; hostVeth: string } {
  const short = id.replace(/[^a-z0-9]/gi, '').slice(0, 8);
  return { netns: `${a.prefix}-${short}`, hostVeth: `${a.prefix}h${short}` };
}

/** True for any netns or link this cluster's addressing could have created. */
export function ownedByCluster(a: ClusterAddressing, name: string): boolean {
  return (
    name === a.bridge ||
    name.startsWith(`${a.prefix}-`) ||
    name.startsWith(`${a.prefix}h`) ||
    name.startsWith(`${a.prefix}p`)
  );
}

/**
 * Hands out the host numbers .2-.254 of one node's /24 round-robin: the next free one after the last
 * handed out, as the host-local IPAM of real clusters does. Never the number just freed: a peer that
 * talked to the pod that had it (a migration source streaming to a target that was killed) still has
 * that pod's MAC in its neighbour cache, so a new pod at the same address is unreachable from it for
 * minutes (measured: TCP connects time out after 135 s; the fault suite's migration after a killed
 * target failed this way). All pods share one L2 segment, so nothing else corrects the stale entry.
 */
export class HostNumberAllocator {
  private readonly used = new Map<string, number>();
  private last = 1;

  allocate(key: string): number {
    const existing = this.used.get(key);
    if (existing !== undefined) return existing;
    const taken = new Set(this.used.values());
    for (let i = 1; i <= 253; i++) {
      const n = ((this.last - 2 + i) % 253) + 2;
      if (!taken.has(n)) {
        this.used.set(key, n);
        this.last = n;
        return n;
      }
    }
    throw new Error('no free pod address on this node (253 pods)');
  }

  release(key: string): void {
    this.used.delete(key);
  }
}
