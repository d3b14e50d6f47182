/**
 * The two links: observed from `ip -d -j link show`, compared with the settings, and the `ip`
 * commands that make them so (pure). Idempotent by construction: an empty plan when all is in place.
 * Repairs what upstream's controller only checks by name (FIX): a VXLAN with another local address,
 * VNI or port (a node whose address changed) is made again, a link left down is brought up, a VXLAN
 * not on the bridge is put back on it.
 */
import type { OverlaySettings } from './settings';

export interface ObservedLink {
  readonly name: string;
  /** `linkinfo.info_kind`: bridge, vxlan, veth… (undefined for plain devices). */
  readonly kind?: string;
  readonly up: boolean;
  readonly master?: string;
  readonly vxlan?: { readonly id?: number; readonly local?: string; readonly port?: number };
}

interface IpLinkJson {
  ifname: string;
  flags?: string[];
  master?: string;
  linkinfo?: { info_kind?: string; info_data?: { id?: number; local?: string; port?: number } };
}

/** Parses `ip -d -j link show`. */
export function parseLinks(json: string): ObservedLink[] {
  if (!json.trim()) return [];
  return (JSON.parse(json) as IpLinkJson[]).map((l) => ({
    name: l.ifname,
    kind: l.linkinfo?.info_kind,
    up: (l.flags ?? []).includes('UP'),
    master: l.master,
    ...(l.linkinfo?.info_kind === 'vxlan'
      ? {
          vxlan: {
            id: l.linkinfo.info_data?.id,
            local: l.linkinfo.info_data?.local,
            port: l.linkinfo.info_data?.port,
          },
        }
      : {}),
  }));
}

/** A link of ours has a name someone else uses for another kind of device: never touched, reported. */
export class ForeignLinkError extends Error {
  constructor(name: string, kind: string | undefined, wanted: string) {
    super(
      `link ${name} exists as ${kind ?? 'a plain device'}, not a ${wanted}; remove it or choose other names (--bridge-name, --vxlan-name)`,
    );
    this.name = 'ForeignLinkError';
  }
}

/** `ip` argv (without the leading `ip`) that bring the links to the settings, in order. */
export function planLinks(s: OverlaySettings, links: readonly ObservedLink[]): string[][] {
  const bridge = links.find((l) => l.name === s.bridge);
  const vxlan = links.find((l) => l.name === s.vxlan);
  if (bridge && bridge.kind !== 'bridge') throw new ForeignLinkError(s.bridge, bridge.kind, 'bridge');
  if (vxlan && vxlan.kind !== 'vxlan') throw new ForeignLinkError(s.vxlan, vxlan.kind, 'vxlan');
  const plan: string[][] = [];
  if (!bridge) plan.push(['link', 'add', s.bridge, 'type', 'bridge']);
  if (!bridge?.up) plan.push(['link', 'set', s.bridge, 'up']);
  const stale =
    vxlan !== undefined &&
    (vxlan.vxlan?.id !== s.vni || vxlan.vxlan?.local !== s.localIp || vxlan.vxlan?.port !== s.port);
  if (stale) plan.push(['link', 'del', s.vxlan]);
  if (!vxlan || stale)
    // As upstream: learning on (remote MACs are learned from received packets; the FDB entries
    // below only say where to flood).
    plan.push([
      ...['link', 'add', s.vxlan, 'type', 'vxlan', 'id', String(s.vni)],
      ...['local', s.localIp, 'dstport', String(s.port), 'learning'],
    ]);
  if (!vxlan || stale || vxlan.master !== s.bridge) plan.push(['link', 'set', s.vxlan, 'master', s.bridge]);
  if (!vxlan || stale || !vxlan.up) plan.push(['link', 'set', s.vxlan, 'up']);
  return plan;
}

/** Teardown (`--delete`): the VXLAN first, then the bridge (pods still attached lose the overlay). */
export function planLinkRemoval(s: OverlaySettings, links: readonly ObservedLink[]): string[][] {
  return [s.vxlan, s.bridge]
    .filter((name) => links.some((l) => l.name === name))
    .map((name) => ['link', 'del', name]);
}
