/**
 * The CNI network of a real node, as the classic `bridge` + `host-local` setup of a routed node: inside
 * the node's network namespace the bridge plugin creates the node-local bridge (cni0), gives it the
 * gateway address (isGateway: the node's own address, so pods route through the node) and attaches
 * each pod's veth to it; `host-local` hands out the node's /24 (node i: 10.(244+s).i.2-254); `portmap`
 * serves hostPort pods. No NAT (ipMasq off): pod addresses are routable in the whole cluster network
 * (node-addressing.ts). hairpinMode lets a pod reach itself through a Service. Pure.
 */

export interface CniConfigInput {
  readonly networkName: string;
  /** The node-local bridge (created by the plugin). */
  readonly bridge: string;
  /** The node's pod range, e.g. 10.244.4.0/24. */
  readonly subnet: string;
  /** The node's address (on the bridge as the pods' gateway). */
  readonly gateway: string;
  readonly rangeStart: string;
  readonly rangeEnd: string;
}

export const CNI_VERSION = '1.0.0';

export function renderCniConfig(input: CniConfigInput): string {
  const conflist = {
    cniVersion: CNI_VERSION,
    name: input.networkName,
    plugins: [
      {
        type: 'bridge',
        bridge: input.bridge,
        isGateway: true,
        isDefaultGateway: false,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [
            [
              {
                subnet: input.subnet,
                rangeStart: input.rangeStart,
                rangeEnd: input.rangeEnd,
                gateway: input.gateway,
              },
            ],
          ],
          routes: [{ dst: '0.0.0.0/0', gw: input.gateway }],
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
  return `${JSON.stringify(conflist, null, 2)}\n`;
}
