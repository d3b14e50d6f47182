/**
 * One pass over the node: links, then the flood list, then the nat chain — each observed, planned
 * (pure) and applied only where it differs, so a pass on a node already in shape runs no command.
 * Returns what it changed, for the log.
 */
import { planFlood } from './fdb';
import { planLinkRemoval, planLinks } from './links';
import { planNatRemoval, planNatRules } from './nat-rules';
import type { NetworkTools } from './network-tools';
import type { OverlaySettings } from './settings';

export interface OverlayChanges {
  readonly links: string[][];
  readonly flood: string[][];
  readonly nat: string[][];
}

export function changed(c: OverlayChanges): boolean {
  return c.links.length + c.flood.length + c.nat.length > 0;
}

export async function reconcileOverlay(
  s: OverlaySettings,
  peers: readonly string[],
  tools: NetworkTools,
): Promise<OverlayChanges> {
  const links = planLinks(s, await tools.links());
  for (const args of links) await tools.ip(args);
  const flood = planFlood(s.vxlan, await tools.floodPeers(s.vxlan), peers);
  for (const args of flood) await tools.bridge(args);
  const nat = s.overlayCidr ? planNatRules(s.overlayCidr, await tools.natRules()) : [];
  for (const args of nat) await tools.nat(args);
  return { links, flood, nat };
}

/** `--delete`: upstream's teardown (both links and the chain). */
export async function removeOverlay(s: OverlaySettings, tools: NetworkTools): Promise<OverlayChanges> {
  const links = planLinkRemoval(s, await tools.links());
  for (const args of links) await tools.ip(args);
  const nat = s.overlayCidr ? planNatRemoval(await tools.natRules()) : [];
  for (const args of nat) await tools.nat(args);
  return { links, flood: [], nat };
}
