import { randomBytes } from 'node:crypto';
import { registerEmergencyCleanup } from '../../host';
import {
  ClusterAddressing,
  clusterAddressing,
  HostNumberAllocator,
  nodeAddress,
  ownedByCluster,
  podAddress,
  podLinkNames,
} from './addressing';
import { acquireSlot, SlotLease } from './cluster-slot';
import { IpBatchProcess, type IpFailure } from './ip-batch-process';
import { ip, ipBatch, ipSync, parseLinkNames, parseNetnsList } from './ip-command';
import { ensureNeighbourTableCapacity } from './neighbour-table';

/** A pod's network sandbox: its own namespace (own port space) with one address on the cluster bridge. */
export interface PodSandbox {
  netns: string;
  ip: string;
  /** Prefix for running a program inside the namespace. */
  execPrefix: string[];
  /**
   * With `configureInside: false`: the `ip -batch` commands (one per line) that give the namespace its
   * address, links and route, for the caller to run inside it; empty once they have been run here.
   */
  insideCommands: string[];
}

/**
 * The network of one local cluster: a bridge, one address per node on it (the node's InternalIP, where
 * its agent serves the kubelet API), and a network namespace + veth pair per pod. Requires root.
 */
export class ClusterNetwork {
  private readonly allocators = new Map<number, HostNumberAllocator>();
  private readonly sandboxes = new Map<string, PodSandbox & { nodeIndex: number; hostVeth: string }>();
  /** Runs the host-side commands of every sandbox (see ip-batch-process.ts: a process less per pod). */
  private readonly hostIp = new IpBatchProcess();
  private unregister: () => void = () => undefined;

  private constructor(
    readonly addressing: ClusterAddressing,
    private readonly lease: SlotLease,
  ) {}

  static async create(): Promise<ClusterNetwork> {
    const lease = acquireSlot();
    const network = new ClusterNetwork(clusterAddressing(lease.slot), lease);
    try {
      // Leftovers of a crashed run in this slot (their PID file owner is dead, or we just took it over).
      removeOwned(network.addressing);
      // Room in the host's ARP table for every pod (best effort: below the old limit nothing changes).
      ensureNeighbourTableCapacity();
      const a = network.addressing;
      await ip('link', 'add', a.bridge, 'type', 'bridge');
      await ip('addr', 'add', a.bridgeCidr, 'dev', a.bridge);
      await ip('link', 'set', a.bridge, 'up');
      network.unregister = registerEmergencyCleanup(`remove network ${a.prefix}`, () => {
        removeOwned(a);
        lease.release();
      });
      return network;
    } catch (err) {
      removeOwned(network.addressing);
      lease.release();
      throw err;
    }
  }

  /** Adds node `index`'s address to the bridge and returns it. */
  async addNode(index: number): Promise<string> {
    const address = nodeAddress(this.addressing, index);
    await ip('addr', 'add', `${address}/${this.addressing.prefixLength}`, 'dev', this.addressing.bridge);
    return address;
  }

  /**
   * Creates (or returns the existing) sandbox of pod `key` on node `nodeIndex`. With
   * `configureInside: false` the namespace's own side (address, links up, default route) is left to the
   * caller, who runs `insideCommands` in a process it starts in the namespace anyway (the node agent's
   * namespace holder: one process start less per pod).
   */
  async createSandbox(
    key: string,
    nodeIndex: number,
    { configureInside = true }: { configureInside?: boolean } = {},
  ): Promise<PodSandbox> {
    const existing = this.sandboxes.get(key);
    // The inside commands were handed out with the sandbox the first time.
    if (existing) return { ...existing, insideCommands: [] };
    const a = this.addressing;
    let allocator = this.allocators.get(nodeIndex);
    if (!allocator) this.allocators.set(nodeIndex, (allocator = new HostNumberAllocator()));
    const address = podAddress(a, nodeIndex, allocator.allocate(key));
    const names = podLinkNames(a, randomBytes(4).toString('hex'));
    const inside = [
      `addr add ${address}/${a.prefixLength} dev eth0`,
      'link set eth0 up',
      'link set lo up',
      `route add default via ${a.gateway}`,
    ];
    try {
      // The host's side (the namespace, the veth pair with its pod end created inside as eth0, the host
      // end on the bridge) by the cluster's long-lived `ip -batch` process; the namespace's side by one
      // `ip -n` process (it switches namespaces in-process; ip's batch mode has no per-line namespace),
      // started by the process launcher's helper, or by the caller (configureInside). An
      // `ip netns exec` per command would fork, copy the mount table and mount a sysfs each time.
      throwIfFailed(
        await this.hostIp.run([
          `netns add ${names.netns}`,
          `link add ${names.hostVeth} type veth peer name eth0 netns ${names.netns}`,
          `link set ${names.hostVeth} master ${a.bridge} up`,
        ]),
      );
      if (configureInside) await ipBatch(inside, { netns: names.netns });
    } catch (err) {
      ipSync('netns', 'del', names.netns);
      ipSync('link', 'del', names.hostVeth);
      allocator.release(key);
      throw err;
    }
    const sandbox = {
      netns: names.netns,
      ip: address,
      execPrefix: ['ip', 'netns', 'exec', names.netns],
      insideCommands: configureInside ? [] : inside,
      nodeIndex,
      hostVeth: names.hostVeth,
    };
    this.sandboxes.set(key, sandbox);
    return sandbox;
  }

  /** Deletes the pod's namespace (its veth pair goes with it) and frees its address. */
  async deleteSandbox(key: string): Promise<void> {
    const sandbox = this.sandboxes.get(key);
    if (!sandbox) return;
    this.sandboxes.delete(key);
    this.allocators.get(sandbox.nodeIndex)?.release(key);
    // Deleting the namespace normally takes the veth pair with it; the link delete covers the case
    // where something still held the namespace open.
    await this.hostIp.run([`netns del ${sandbox.netns}`, `link del ${sandbox.hostVeth}`]);
  }

  /** Removes every namespace and link of this cluster, and frees the slot. */
  async destroy(): Promise<void> {
    this.hostIp.close();
    this.sandboxes.clear();
    removeOwned(this.addressing);
    this.unregister();
    this.lease.release();
  }
}

function throwIfFailed(failures: readonly IpFailure[]): void {
  if (failures.length > 0)
    throw new Error(`ip: ${failures.map((f) => `${f.command}: ${f.message || 'failed'}`).join('; ')}`);
}

/**
 * Deletes every namespace and link named with this cluster's prefix. Processes still inside a namespace
 * are killed first (they would otherwise keep it alive as an unnamed namespace). Synchronous, because it
 * also runs from exit handlers.
 */
function removeOwned(a: ClusterAddressing): void {
  for (const ns of parseNetnsList(ipSync('netns', 'list')).filter((n) => ownedByCluster(a, n))) {
    for (const pid of ipSync('netns', 'pids', ns).split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    ipSync('netns', 'del', ns);
  }
  for (const link of parseLinkNames(ipSync('-j', 'link', 'show')).filter((n) => ownedByCluster(a, n))) {
    ipSync('link', 'del', link);
  }
}

/** Names of every namespace and link on the machine owned by slot `slot` (for leak checks in tests). */
export function listOwnedNetworkObjects(slot: number): string[] {
  const a = clusterAddressing(slot);
  return [...parseNetnsList(ipSync('netns', 'list')), ...parseLinkNames(ipSync('-j', 'link', 'show'))].filter(
    (n) => ownedByCluster(a, n),
  );
}
