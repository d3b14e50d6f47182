/**
 * What the VXLAN controller makes on its node, with upstream's names and numbers (its manifests, the
 * overlay NetworkAttachmentDefinitions and operators' runbooks refer to them): bridge `neon-br0`,
 * VXLAN `neon-vxlan0` with VNI 100 on UDP 4789, and the nat chain `NEON-EXTRANET` that keeps overlay
 * traffic from being masqueraded.
 */
export interface OverlaySettings {
  /** The bridge the overlay NetworkAttachmentDefinitions name (CNI `bridge` plugin). */
  readonly bridge: string;
  readonly vxlan: string;
  readonly vni: number;
  /** UDP port of the VXLAN tunnels. */
  readonly port: number;
  /** This node's address: the tunnels' source, and the address other nodes send to. */
  readonly localIp: string;
  /** Overlay range exempted from masquerading; undefined = leave iptables alone. */
  readonly overlayCidr?: string;
}

export const DEFAULT_BRIDGE = 'neon-br0';
export const DEFAULT_VXLAN = 'neon-vxlan0';
export const DEFAULT_VNI = 100;
/** IANA's VXLAN port (Linux's own default, 8472, predates it). */
export const DEFAULT_VXLAN_PORT = 4789;
export const DEFAULT_OVERLAY_CIDR = '10.100.0.0/16';
export const IPTABLES_CHAIN = 'NEON-EXTRANET';
/** The all-zeros MAC: an FDB entry with it floods broadcast and unknown traffic to that peer. */
export const FLOOD_MAC = '00:00:00:00:00:00';
