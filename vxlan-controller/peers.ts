/**
 * The tunnel peers: every other node's IPv4 InternalIP (upstream's choice: the address nodes reach
 * each other on; IPv6 addresses are skipped, as upstream, since the FDB entries are IPv4 here).
 */
import { isIPv4 } from 'node:net';

export interface NodeAddresses {
  readonly metadata?: { readonly name?: string; readonly deletionTimestamp?: unknown };
  readonly status?: {
    readonly addresses?: ReadonlyArray<{ readonly type: string; readonly address: string }>;
  };
}

export function peerAddresses(
  nodes: readonly NodeAddresses[],
  self: { readonly localIp: string; readonly nodeName?: string },
): string[] {
  const peers = new Set<string>();
  for (const node of nodes) {
    if (self.nodeName && node.metadata?.name === self.nodeName) continue;
    for (const a of node.status?.addresses ?? [])
      if (a.type === 'InternalIP' && isIPv4(a.address) && a.address !== self.localIp) peers.add(a.address);
  }
  return [...peers].sort(compareIPv4);
}

export function compareIPv4(a: string, b: string): number {
  const n = (ip: string) => ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
  return n(a) - n(b);
}
