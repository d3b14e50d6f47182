/**
 * The CNI network of a real node: the `bridge` plugin attaching each pod's veth to the local cluster's
 * existing bridge (so real-node pods share one L2 segment with node-agent pods and the host), `host-local`
 * IPAM handing out the node's part of the cluster's addressing scheme (node i: 10.(244+s).i.2-254 out of
 * the /16, gateway = the bridge's address), then `portmap` for hostPort pods. The bridge plugin must not
 * touch the bridge itself (isGateway/ipMasq off: the cluster network owns its address and no NAT is
 * wanted, nothing is routed off the machine). Pure.
 */

export interface CniConfigInput {
  readonly networkName: string;
  readonly bridge: string;
  /** The cluster's /16, e.g. 10.244.0.0/16. */
  readonly subnet: string;
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
        isGateway: false,
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
