/**
 * The node's network as the controller sees and changes it: iproute2's `ip` and `bridge` (JSON
 * output) and `iptables`, run in the controller's own network namespace — the node's, as a
 * hostNetwork pod. An interface so the reconcile logic is tested without touching a namespace.
 */
import { runText } from '../host';
import { parseLinks, type ObservedLink } from './links';
import { parseFloodPeers } from './fdb';
import { parseNatRules, type NatRules } from './nat-rules';

export interface NetworkTools {
  links(): Promise<ObservedLink[]>;
  floodPeers(vxlan: string): Promise<string[]>;
  natRules(): Promise<NatRules>;
  ip(args: readonly string[]): Promise<void>;
  bridge(args: readonly string[]): Promise<void>;
  /** `iptables -t nat <args>`. */
  nat(args: readonly string[]): Promise<void>;
}

const TIMEOUT_MS = 10_000;
/** iptables waits this long for the xtables lock that kube-proxy and CNI plugins also take. */
const XTABLES_WAIT_S = '5';

export function hostNetworkTools(): NetworkTools {
  const text = (argv: string[]) => runText(argv, { timeoutMs: TIMEOUT_MS });
  return {
    links: async () => parseLinks(await text(['ip', '-d', '-j', 'link', 'show'])),
    floodPeers: async (vxlan) => parseFloodPeers(await text(['bridge', '-j', 'fdb', 'show', 'dev', vxlan])),
    natRules: async () => parseNatRules(await text(['iptables', '-w', XTABLES_WAIT_S, '-t', 'nat', '-S'])),
    ip: async (args) => void (await text(['ip', ...args])),
    bridge: async (args) => void (await text(['bridge', ...args])),
    nat: async (args) => void (await text(['iptables', '-w', XTABLES_WAIT_S, '-t', 'nat', ...args])),
  };
}
