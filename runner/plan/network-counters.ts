/**
 * `spec.enableNetworkMonitoring`: the VM's public TCP traffic in bytes, from the pod's iptables
 * counters, as upstream counts it: the filter table's INPUT (ingress) and OUTPUT (egress) chains, summing
 * the TCP rules whose source and destination are neither loopback nor private (the rules themselves are
 * installed by whoever runs the VM, e.g. through initScript). Reads `iptables-save -c` rather than
 * `iptables -L`, whose columns shift when a rule has no target.
 */

export interface CounterRule {
  readonly chain: string;
  readonly protocol?: string;
  readonly source?: string;
  readonly destination?: string;
  readonly bytes: bigint;
}

/** Rules of the `*filter` table in `iptables-save -c` output, with their byte counters. */
export function parseIptablesSave(text: string): CounterRule[] {
  const rules: CounterRule[] = [];
  let table = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('*')) table = line.slice(1);
    if (table !== 'filter') continue;
    const m = /^\[(\d+):(\d+)\]\s+-A\s+(\S+)(.*)$/.exec(line);
    if (!m) continue;
    const args = tokenize(m[4] ?? '');
    rules.push({
      chain: m[3] ?? '',
      bytes: BigInt(m[2] ?? '0'),
      protocol: option(args, ['-p', '--protocol']),
      source: option(args, ['-s', '--source']),
      destination: option(args, ['-d', '--destination']),
    });
  }
  return rules;
}

/** Value of an option, `!`-prefixed when negated (`! -s 10.0.0.0/8` → `!10.0.0.0/8`). */
function option(args: string[], names: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (!names.includes(args[i] ?? '')) continue;
    const value = args[i + 1];
    return args[i - 1] === '!' ? `!${value}` : value;
  }
  return undefined;
}

function tokenize(s: string): string[] {
  return (s.match(/"[^"]*"|\S+/g) ?? []).map((t) => t.replace(/^"|"$/g, ''));
}

/** 127/8, 10/8, 172.16/12, 192.168/16 (by the network address of a CIDR). A negated match is neither. */
export function isLoopbackOrPrivate(address: string | undefined): boolean {
  if (!address || address.startsWith('!')) return false;
  const octets = (address.split('/')[0] ?? '').split('.').map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) return false;
  const [a = 0, b = 0] = octets;
  return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
}

/** Bytes of the chain's TCP rules for public traffic (no -s/-d means any address, which counts). */
export function publicTcpBytes(rules: readonly CounterRule[], chain: 'INPUT' | 'OUTPUT'): bigint {
  let total = 0n;
  for (const r of rules) {
    if (r.chain !== chain || r.protocol !== 'tcp') continue;
    if (isLoopbackOrPrivate(r.source) || isLoopbackOrPrivate(r.destination)) continue;
    total += r.bytes;
  }
  return total;
}

/**
 * Turns absolute iptables counters into increments for monotonic Prometheus counters. A counter that
 * went down was reset (rules re-created, `iptables -Z`): its new value is all new traffic.
 */
export class CounterDelta {
  private last: bigint | undefined;

  next(current: bigint): bigint {
    const delta = this.last === undefined ? current : current >= this.last ? current - this.last : current;
    this.last = current;
    return delta;
  }
}
