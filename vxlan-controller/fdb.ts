/**
 * The VXLAN's flood list: one permanent all-zeros FDB entry per peer node (upstream's broadcast
 * entries), so broadcast and unknown-unicast frames (ARP first) reach every other node. FIX: upstream
 * only ever appends, so a node that left stays in every node's list forever and keeps receiving
 * flooded overlay traffic; here entries of nodes gone are removed.
 */
import { FLOOD_MAC } from './settings';

interface FdbJson {
  mac: string;
  dst?: string;
  state?: string;
  flags?: string[];
}

/** The peers currently in the flood list, from `bridge -j fdb show dev <vxlan>`. */
export function parseFloodPeers(json: string): string[] {
  if (!json.trim()) return [];
  return (JSON.parse(json) as FdbJson[])
    .filter((e) => e.mac === FLOOD_MAC && e.dst !== undefined)
    .map((e) => e.dst as string);
}

/** `bridge` argv (without the leading `bridge`) that make the flood list exactly `peers`. */
export function planFlood(vxlan: string, current: readonly string[], peers: readonly string[]): string[][] {
  const want = new Set(peers);
  const have = new Set(current);
  return [
    ...peers.filter((p) => !have.has(p)).map((p) => ['fdb', 'append', FLOOD_MAC, 'dev', vxlan, 'dst', p]),
    ...[...have].filter((p) => !want.has(p)).map((p) => ['fdb', 'del', FLOOD_MAC, 'dev', vxlan, 'dst', p]),
  ];
}
