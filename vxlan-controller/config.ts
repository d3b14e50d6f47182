/**
 * Command line and environment of `neonvm-vxlan-controller`, parsed into one typed configuration
 * (pure, tested). Upstream's only flag is `-delete`; its node address comes from `MY_NODE_IP`
 * (downward API `status.hostIP`) — both kept; the rest are upstream's constants made flags.
 */
import { isIPv4 } from 'node:net';
import { Command, InvalidArgumentError } from 'commander';
import {
  DEFAULT_BRIDGE,
  DEFAULT_OVERLAY_CIDR,
  DEFAULT_VNI,
  DEFAULT_VXLAN,
  DEFAULT_VXLAN_PORT,
  type OverlaySettings,
} from './settings';

export interface VxlanControllerConfig {
  /** `localIp` is '' with `--delete` and no address (teardown needs none). */
  readonly settings: OverlaySettings;
  readonly nodeName?: string;
  readonly delete: boolean;
  readonly resyncMs: number;
  readonly kubeconfig?: string;
  readonly logLevel: string;
}

function intIn(min: number, max: number): (text: string) => number {
  return (text) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`'${text}' must be an integer from ${min} to ${max}`);
    return n;
  };
}

/** `30s`, `2m`, `500ms` → milliseconds. */
function duration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text.trim());
  if (!m || Number(m[1]) <= 0)
    throw new InvalidArgumentError(`'${text}' is not a positive duration (e.g. 30s)`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] as 'ms' | 's' | 'm'];
}

/** Linux interface names: 1-15 characters, no '/', ':' or whitespace. */
function linkName(text: string): string {
  if (!/^[^\s/:]{1,15}$/.test(text))
    throw new InvalidArgumentError(
      `'${text}' is not an interface name (1-15 characters, no '/', ':' or spaces)`,
    );
  return text;
}

function ipv4Cidr(text: string): string {
  const [addr, bits, extra] = text.split('/');
  if (extra !== undefined || !isIPv4(addr ?? '') || !/^\d+$/.test(bits ?? '') || Number(bits) > 32)
    throw new InvalidArgumentError(`'${text}' is not an IPv4 CIDR (e.g. ${DEFAULT_OVERLAY_CIDR})`);
  return text;
}

export function vxlanControllerCommand(): Command {
  return new Command('neonvm-vxlan-controller')
    .description(
      "The overlay network's node part: bridge + VXLAN with a tunnel to every other node, kept in step with the cluster's Nodes",
    )
    .option('--node-ip <ip>', "this node's IPv4 address, the tunnels' source (env MY_NODE_IP)")
    .option('--node-name <name>', 'this node, left out of the peers (env NODE_NAME)')
    .option(
      '--bridge-name <name>',
      'bridge the overlay NetworkAttachmentDefinitions use',
      linkName,
      DEFAULT_BRIDGE,
    )
    .option('--vxlan-name <name>', 'VXLAN interface', linkName, DEFAULT_VXLAN)
    .option('--vxlan-id <vni>', 'VXLAN network identifier', intIn(0, 16_777_215), DEFAULT_VNI)
    .option('--vxlan-port <port>', 'UDP port of the tunnels', intIn(1, 65_535), DEFAULT_VXLAN_PORT)
    .option(
      '--overlay-cidr <cidr>',
      'overlay range kept from masquerading (nat chain NEON-EXTRANET)',
      ipv4Cidr,
      DEFAULT_OVERLAY_CIDR,
    )
    .option('--no-iptables', 'leave iptables alone (no NEON-EXTRANET chain)')
    .option('--resync-interval <d>', 'full reconcile besides Node events (repairs drift)', duration, 30_000)
    .option('--delete', 'remove the bridge, the VXLAN and the nat chain, then exit (upstream -delete)', false)
    .option('--kubeconfig <path>', 'kubeconfig file (default: in-cluster, then $KUBECONFIG)')
    .option('--log-level <level>', 'pino log level', 'info');
}

export function parseVxlanControllerConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): VxlanControllerConfig {
  // Errors are thrown, not printed: main.ts prints the message once (commander would print it too).
  const cmd = vxlanControllerCommand()
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
  // Go's flag package spells upstream's flag with one dash: keep `-delete` working.
  cmd.parse(
    argv.map((a) => (a === '-delete' ? '--delete' : a)),
    { from: 'user' },
  );
  const o = cmd.opts<{
    nodeIp?: string;
    nodeName?: string;
    bridgeName: string;
    vxlanName: string;
    vxlanId: number;
    vxlanPort: number;
    overlayCidr: string;
    iptables: boolean;
    resyncInterval: number;
    delete: boolean;
    kubeconfig?: string;
    logLevel: string;
  }>();
  const localIp = o.nodeIp ?? env.MY_NODE_IP ?? '';
  if (!o.delete && !isIPv4(localIp))
    throw new InvalidArgumentError(
      localIp
        ? `--node-ip / MY_NODE_IP: '${localIp}' is not an IPv4 address`
        : "--node-ip or MY_NODE_IP is required: this node's IPv4 address (downward API status.hostIP)",
    );
  if (o.bridgeName === o.vxlanName)
    throw new InvalidArgumentError(`--bridge-name and --vxlan-name must differ (both '${o.bridgeName}')`);
  return {
    settings: {
      bridge: o.bridgeName,
      vxlan: o.vxlanName,
      vni: o.vxlanId,
      port: o.vxlanPort,
      localIp,
      ...(o.iptables ? { overlayCidr: o.overlayCidr } : {}),
    },
    nodeName: o.nodeName ?? env.NODE_NAME ?? undefined,
    delete: o.delete,
    resyncMs: o.resyncInterval,
    kubeconfig: o.kubeconfig,
    logLevel: o.logLevel,
  };
}
