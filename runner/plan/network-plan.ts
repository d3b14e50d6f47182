/**
 * Guest networking, two ways with the same guest view (eth0 = 169.254.254.254/30, gateway .253,
 * guest ports reachable at <podIP>:<port>):
 *  - `tap`: the runner owns the pod's network namespace (CAP_NET_ADMIN): bridge + tap + dnsmasq +
 *    iptables DNAT, as upstream §4.5;
 *  - `user`: unprivileged, QEMU user-mode networking (slirp) with host forwards.
 * Pure: the commands are returned as argv lists and executed by runner/pod-resources/network-setup.ts.
 */
import type { GuestPort } from '../../crds';
import { GUEST_LINK_IP } from '../../guest';
import type { NetBacking } from './network-mode';

/** The guest's eth0 (the guest agent listens there only). */
export const GUEST_IP = GUEST_LINK_IP;
export const POD_SIDE_IP = '169.254.254.253';
export const GUEST_NET = '169.254.254.252/30';
export const BRIDGE = 'br-def';
export const TAP = 'tap-def';
export const GUEST_HOSTNAME = 'guest-vm';

export interface Forward {
  readonly proto: 'tcp' | 'udp';
  readonly hostAddr: string;
  readonly hostPort: number;
  readonly guestPort: number;
}

/**
 * A kernel setting of the pod's network namespace the tap network wants. In a real container /proc/sys
 * is read-only (runc mounts it so for unprivileged containers), so each is checked first and written
 * only when it differs. In a runner pod both are already set by the runner image's `init-sysctl` init
 * container (operator/pod/build-runner-pod.ts SYSCTL_COMMAND), so the runner writes nothing there;
 * elsewhere (`neonvm run` as root) it writes them. `required` ones must hold, `optional` ones only
 * improve something and are reported when they cannot be set.
 */
export interface PlannedSysctl {
  readonly key: string;
  readonly value: string;
  readonly required: boolean;
  /** What is missing without it. */
  readonly purpose: string;
}

export type NetworkPlan =
  | {
      mode: 'tap';
      mac: string;
      sysctls: PlannedSysctl[];
      commands: string[][];
      dnsmasq: string[];
      backing: NetBacking;
    }
  | { mode: 'user'; mac: string; forwards: Forward[] };

/** The tap network's sysctls (see PlannedSysctl). Pure. */
export const TAP_SYSCTLS: readonly PlannedSysctl[] = [
  { key: 'net.ipv4.ip_forward', value: '1', required: true, purpose: 'the guest reaches the network' },
  {
    key: 'net.ipv4.conf.all.route_localnet',
    value: '1',
    required: false,
    // Traffic to the pod IP reaches the guest ports either way.
    purpose: 'guest ports through 127.0.0.1 inside the pod',
  },
];

function proto(p: GuestPort): 'tcp' | 'udp' {
  return (p.protocol ?? 'TCP').toUpperCase() === 'UDP' ? 'udp' : 'tcp';
}

/** A locally administered unicast MAC derived from the VM identity: source and target of a migration agree. */
export function guestMac(identity: string): string {
  let h = 0x811c9dc5; // FNV-1a: stable, no dependency, good enough to spread VMs over 32 bits
  for (const ch of Buffer.from(identity)) h = Math.imul(h ^ ch, 0x01000193) >>> 0;
  const b = [0x52, 0x54, (h >>> 24) & 0xff, (h >>> 16) & 0xff, (h >>> 8) & 0xff, h & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export interface TapInput {
  readonly mac: string;
  readonly ports: readonly GuestPort[];
  /** The pod's uplink (its veth), for masquerading and DNAT. */
  readonly uplink: string;
  readonly dnsServer?: string;
  readonly searchDomains: readonly string[];
  readonly backing: NetBacking;
}

/** `ip tuntap add`: a multi-queue tap when QEMU opens it once per queue pair. */
function addTap(name: string, backing: NetBacking): string[] {
  return ['ip', 'tuntap', 'add', 'dev', name, 'mode', 'tap', ...(backing.queues > 1 ? ['multi_queue'] : [])];
}

export function planTapNetwork(input: TapInput): NetworkPlan {
  const c: string[][] = [
    ['ip', 'link', 'add', BRIDGE, 'type', 'bridge'],
    ['ip', 'addr', 'add', `${POD_SIDE_IP}/30`, 'dev', BRIDGE],
    ['ip', 'link', 'set', BRIDGE, 'up'],
    addTap(TAP, input.backing),
    ['ip', 'link', 'set', TAP, 'master', BRIDGE],
    ['ip', 'link', 'set', TAP, 'up'],
    ['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-o', input.uplink, '-j', 'MASQUERADE'],
  ];
  for (const p of input.ports) {
    const port = String(p.port);
    // Same DNAT to the guest for traffic from the pod IP and for locally generated traffic (localhost).
    const toGuest = [
      '-p',
      proto(p),
      '--dport',
      port,
      '-j',
      'DNAT',
      '--to-destination',
      `${GUEST_IP}:${port}`,
    ];
    c.push(['iptables', '-t', 'nat', '-A', 'PREROUTING', '-i', input.uplink, ...toGuest]);
    c.push([
      'iptables',
      '-t',
      'nat',
      '-A',
      'OUTPUT',
      '-m',
      'addrtype',
      '--src-type',
      'LOCAL',
      '--dst-type',
      'LOCAL',
      ...toGuest,
    ]);
  }
  c.push([
    'iptables',
    '-t',
    'nat',
    '-A',
    'POSTROUTING',
    '-m',
    'addrtype',
    '--src-type',
    'LOCAL',
    '--dst-type',
    'UNICAST',
    '-j',
    'MASQUERADE',
  ]);
  const dnsmasq = [
    'dnsmasq',
    '--port=0',
    '--no-resolv',
    '--no-hosts',
    '--keep-in-foreground',
    '--bind-interfaces',
    '--dhcp-authoritative',
    `--interface=${BRIDGE}`,
    `--dhcp-range=${GUEST_IP},static,255.255.255.252`,
    `--dhcp-host=${input.mac},${GUEST_IP},infinite`,
    `--dhcp-option=option:router,${POD_SIDE_IP}`,
    `--shared-network=${BRIDGE},${GUEST_IP}`,
    '--dhcp-leasefile=/dev/null',
    // stderr, not syslog (a container has no /dev/log): the runner logs it and sees start-up errors.
    '--log-facility=-',
  ];
  if (input.dnsServer) dnsmasq.push(`--dhcp-option=option:dns-server,${input.dnsServer}`);
  if (input.searchDomains.length)
    dnsmasq.push(`--dhcp-option=option:domain-search,${input.searchDomains.join(',')}`);
  return {
    mode: 'tap',
    mac: input.mac,
    // Reaching the guest through 127.0.0.1:<port> needs DNAT of locally generated packets.
    sysctls: [...TAP_SYSCTLS],
    commands: c,
    dnsmasq,
    backing: input.backing,
  };
}

export const OVERLAY_BRIDGE = 'br-overlay';
export const OVERLAY_TAP = 'tap-overlay';

/** The overlay NIC (`spec.extraNetwork`): the guest's eth1, bridged to the pod's Multus interface. */
export interface OverlayPlan {
  readonly mac: string;
  /** The pod interface Multus attached (`extraNetwork.interface`, default `net1`). */
  readonly podInterface: string;
  readonly commands: string[][];
  /** The same as the default NIC's. */
  readonly backing: NetBacking;
}

/**
 * Upstream §4.5: bridge `br-overlay` with a tap for QEMU; the Multus interface loses its IPv4
 * addresses (the guest owns the overlay IP, configured from the kernel's `ip=`) and joins the bridge.
 */
export function planOverlayNetwork(input: {
  mac: string;
  podInterface: string;
  backing: NetBacking;
}): OverlayPlan {
  const dev = input.podInterface;
  return {
    ...input,
    commands: [
      ['ip', 'link', 'add', OVERLAY_BRIDGE, 'type', 'bridge'],
      addTap(OVERLAY_TAP, input.backing),
      ['ip', 'link', 'set', OVERLAY_TAP, 'master', OVERLAY_BRIDGE],
      ['ip', '-4', 'addr', 'flush', 'dev', dev],
      ['ip', 'link', 'set', dev, 'master', OVERLAY_BRIDGE],
      ['ip', 'link', 'set', OVERLAY_TAP, 'up'],
      ['ip', 'link', 'set', dev, 'up'],
      ['ip', 'link', 'set', OVERLAY_BRIDGE, 'up'],
    ],
  };
}

export interface UserInput {
  readonly mac: string;
  readonly ports: readonly GuestPort[];
  /** Address guest ports are published on (the pod IP). */
  readonly podIp: string;
  /** Loopback ports for the runner's own access to the guest agent and sshd. */
  readonly agentHostPort: number;
  readonly sshHostPort: number;
  readonly agentGuestPort: number;
}

export function planUserNetwork(input: UserInput): NetworkPlan {
  const forwards: Forward[] = [
    { proto: 'tcp', hostAddr: '127.0.0.1', hostPort: input.agentHostPort, guestPort: input.agentGuestPort },
    { proto: 'tcp', hostAddr: '127.0.0.1', hostPort: input.sshHostPort, guestPort: 22 },
  ];
  for (const p of input.ports)
    forwards.push({ proto: proto(p), hostAddr: input.podIp, hostPort: p.port, guestPort: p.port });
  return { mode: 'user', mac: input.mac, forwards };
}

/**
 * `-netdev` and `-device` values of a tap NIC, in upstream's form (§4.4 item 11):
 * `tap,id=default,ifname=tap-def,queues=4,script=no,downscript=no,vhost=on` and
 * `virtio-net-pci,mq=on,vectors=10,netdev=default,mac=…` — queues/mq only with several queue pairs
 * (vectors: one per queue direction, plus config and control), vhost only where the pod has it.
 */
export function tapNicArgs(
  id: string,
  ifname: string,
  mac: string,
  backing: NetBacking,
): { netdev: string; device: string } {
  const multi = backing.queues > 1;
  const netdev = [
    'tap',
    `id=${id}`,
    `ifname=${ifname}`,
    ...(multi ? [`queues=${backing.queues}`] : []),
    'script=no',
    'downscript=no',
    ...(backing.vhost ? ['vhost=on'] : []),
  ].join(',');
  const device = [
    'virtio-net-pci',
    ...(multi ? ['mq=on', `vectors=${2 * backing.queues + 2}`] : []),
    `netdev=${id}`,
    `mac=${mac}`,
  ].join(',');
  return { netdev, device };
}

/** `-netdev` value for user mode: slirp configured to the same addresses the tap mode hands out. */
export function userNetdev(plan: Extract<NetworkPlan, { mode: 'user' }>): string {
  const opts = [
    'user',
    'id=default',
    `net=${GUEST_NET}`,
    `host=${POD_SIDE_IP}`,
    `dhcpstart=${GUEST_IP}`,
    // slirp wants a DNS address distinct from the host one and inside the net; the /30 has none left,
    // so the network address is used (accepted by QEMU 7.2; the guest gets no working DNS in user mode).
    `dns=169.254.254.252`,
    ...plan.forwards.map((f) => `hostfwd=${f.proto}:${f.hostAddr}:${f.hostPort}-${GUEST_IP}:${f.guestPort}`),
  ];
  return opts.join(',');
}
