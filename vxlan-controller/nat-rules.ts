/**
 * Upstream's `NEON-EXTRANET` nat chain: jumped to first in POSTROUTING for traffic to the overlay,
 * where traffic from or to the overlay is accepted, so no later MASQUERADE rule (the cluster's CNI,
 * kube-proxy) rewrites overlay addresses. Planned from `iptables -t nat -S` (pure). FIX: upstream
 * hard-codes 10.100.0.0/16; the range is a setting here, and rules for an old range are replaced.
 */
import { IPTABLES_CHAIN } from './settings';

export interface NatRules {
  readonly chainExists: boolean;
  /** Rules of POSTROUTING that jump to the chain, as `-S` prints them without `-A POSTROUTING`. */
  readonly jumps: string[][];
  /** The chain's own rules, likewise. */
  readonly chainRules: string[][];
}

/** Parses `iptables -t nat -S`. */
export function parseNatRules(text: string, chain = IPTABLES_CHAIN): NatRules {
  const lines = text.split('\n').map((l) => l.trim().split(/\s+/));
  return {
    chainExists: lines.some((w) => w[0] === '-N' && w[1] === chain),
    jumps: lines
      .filter((w) => w[0] === '-A' && w[1] === 'POSTROUTING' && w.includes(chain))
      .map((w) => w.slice(2)),
    chainRules: lines.filter((w) => w[0] === '-A' && w[1] === chain).map((w) => w.slice(2)),
  };
}

const same = (a: readonly string[], b: readonly string[]) => a.join(' ') === b.join(' ');

/** iptables argv (without `iptables -t nat`) that make the chain exactly upstream's for `cidr`. */
export function planNatRules(cidr: string, observed: NatRules, chain = IPTABLES_CHAIN): string[][] {
  const jump = ['-d', cidr, '-j', chain];
  const rules = [
    ['-s', cidr, '-j', 'ACCEPT'],
    ['-d', cidr, '-j', 'ACCEPT'],
  ];
  const plan: string[][] = [];
  if (!observed.chainExists) plan.push(['-N', chain]);
  for (const j of observed.jumps) if (!same(j, jump)) plan.push(['-D', 'POSTROUTING', ...j]);
  if (!observed.jumps.some((j) => same(j, jump))) plan.push(['-I', 'POSTROUTING', '1', ...jump]);
  const exact =
    observed.chainRules.length === rules.length && observed.chainRules.every((r, i) => same(r, rules[i]));
  if (!exact) {
    if (observed.chainRules.length > 0) plan.push(['-F', chain]);
    for (const r of rules) plan.push(['-A', chain, ...r]);
  }
  return plan;
}

/** Teardown (`--delete`): the jumps, then the chain. */
export function planNatRemoval(observed: NatRules, chain = IPTABLES_CHAIN): string[][] {
  if (!observed.chainExists) return [];
  return [...observed.jumps.map((j) => ['-D', 'POSTROUTING', ...j]), ['-F', chain], ['-X', chain]];
}
