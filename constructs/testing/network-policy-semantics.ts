/**
 * What a set of NetworkPolicies allows, evaluated by the rules of the NetworkPolicy API reference
 * (isolation by selection, additive allow rules, peers, ports with endPort) — to check the install
 * bundle's synthesized policies where no enforcing CNI runs. It is the specification's meaning, not
 * an enforcement: tests using it say so.
 */
import type { V1LabelSelector, V1NetworkPolicyPeer, V1NetworkPolicyPort } from '@kubernetes/client-node';

/** A NetworkPolicy as JSON (client-node's model renames `from` to `_from`). */
export interface NetworkPolicyJson {
  readonly metadata?: { readonly namespace?: string };
  readonly spec?: {
    readonly podSelector?: V1LabelSelector;
    readonly policyTypes?: readonly string[];
    readonly ingress?: ReadonlyArray<{
      readonly from?: readonly V1NetworkPolicyPeer[];
      readonly ports?: readonly V1NetworkPolicyPort[];
    }>;
  };
}

export interface Endpoint {
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface Connection {
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly port: number;
  readonly protocol?: 'TCP' | 'UDP' | 'SCTP';
}

/** Namespace labels as the API server sets them (kubernetes.io/metadata.name) plus any given. */
export type NamespaceLabels = (namespace: string) => Readonly<Record<string, string>>;

export const defaultNamespaceLabels: NamespaceLabels = (ns) => ({ 'kubernetes.io/metadata.name': ns });

export function selectorMatches(sel: V1LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = e.key in labels;
    const inValues = (e.values ?? []).includes(labels[e.key]);
    const ok = { In: has && inValues, NotIn: !inValues, Exists: has, DoesNotExist: !has }[e.operator];
    if (!ok) return false;
  }
  return true;
}

function peerMatches(
  peer: V1NetworkPolicyPeer,
  policyNamespace: string,
  from: Endpoint,
  ns: NamespaceLabels,
) {
  if (peer.ipBlock) return false; // pod-to-pod checks only
  const nsOk = peer.namespaceSelector
    ? selectorMatches(peer.namespaceSelector, ns(from.namespace))
    : from.namespace === policyNamespace;
  const podOk = peer.podSelector ? selectorMatches(peer.podSelector, from.labels) : true;
  return nsOk && podOk;
}

function portMatches(p: V1NetworkPolicyPort, port: number, protocol: string): boolean {
  if ((p.protocol ?? 'TCP') !== protocol) return false;
  if (p.port === undefined) return true;
  if (typeof p.port !== 'number') return false; // named ports: not used by the bundle
  return port >= p.port && port <= (p.endPort ?? p.port);
}

/** Whether `c` is allowed into its destination by `policies` (ingress only). */
export function ingressAllowed(
  policies: readonly NetworkPolicyJson[],
  c: Connection,
  ns: NamespaceLabels = defaultNamespaceLabels,
): boolean {
  const protocol = c.protocol ?? 'TCP';
  const selecting = policies.filter(
    (p) =>
      p.metadata?.namespace === c.to.namespace &&
      (p.spec?.policyTypes ?? ['Ingress']).includes('Ingress') &&
      selectorMatches(p.spec?.podSelector ?? {}, c.to.labels),
  );
  if (selecting.length === 0) return true; // not isolated
  return selecting.some((p) =>
    (p.spec?.ingress ?? []).some(
      (rule) =>
        (rule.from === undefined ||
          rule.from.length === 0 ||
          rule.from.some((peer) => peerMatches(peer, c.to.namespace, c.from, ns))) &&
        (rule.ports === undefined ||
          rule.ports.length === 0 ||
          rule.ports.some((port) => portMatches(port, c.port, protocol))),
    ),
  );
}
