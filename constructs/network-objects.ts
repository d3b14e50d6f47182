/**
 * The overlay network of upstream NeonVM (§6): three Multus NetworkAttachmentDefinitions on one
 * per-node bridge (`neon-br0`, joined across nodes by VXLAN). VMs attach to `*-overlay-for-vms`
 * without pod-side IPAM (the operator assigns VM addresses from the range in `*-overlay-ipam`);
 * ordinary pods attach to `*-overlay-for-pods` with Whereabouts IPAM from the low part of the range.
 * Pure: used by the Network construct and by the install bundle.
 */
import type { CniConfig, NetworkAttachmentDefinition } from '../crds';

export const NAD_API_VERSION = 'k8s.cni.cncf.io/v1';
export const NAD_KIND = 'NetworkAttachmentDefinition';

export interface OverlayNetworkOptions {
  /**
   * Namespace of the NetworkAttachmentDefinitions.
   * @default 'neonvm-system'
   */
  readonly namespace?: string;
  /**
   * Prefix of the three object names.
   * @default 'neonvm'
   */
  readonly namePrefix?: string;
  /**
   * Linux bridge on every node (created by the VXLAN controller).
   * @default 'neon-br0'
   */
  readonly bridge?: string;
  /**
   * The whole overlay range.
   * @default '10.100.0.0/16'
   */
  readonly range?: string;
  /**
   * First address Whereabouts hands to ordinary pods.
   * @default '10.100.1.0'
   */
  readonly podRangeStart?: string;
  /**
   * Last address Whereabouts hands to ordinary pods.
   * @default '10.100.127.255'
   */
  readonly podRangeEnd?: string;
  /**
   * First address the operator hands to VMs.
   * @default '10.100.128.0'
   */
  readonly vmRangeStart?: string;
  /**
   * IPAM network name (prefix of the operator's IPPool objects).
   * @default 'neonvm'
   */
  readonly networkName?: string;
}

export interface ObjectRef {
  readonly namespace: string;
  readonly name: string;
}

export interface OverlayNetwork {
  /** Attachment for VM runner pods (`spec.extraNetwork.multusNetwork` and the operator's `NAD_RUNNER_*`). */
  readonly forVms: NetworkAttachmentDefinition;
  /** Attachment for ordinary pods that talk to VMs over the overlay. */
  readonly forPods: NetworkAttachmentDefinition;
  /** IPAM configuration the operator reads (`NAD_IPAM_*`). */
  readonly ipam: NetworkAttachmentDefinition;
  readonly runnerRef: ObjectRef;
  readonly ipamRef: ObjectRef;
  /** The bridge and range in effect (the VXLAN controller's `--bridge-name` and `--overlay-cidr`). */
  readonly bridge: string;
  readonly range: string;
}

function nad(namespace: string, name: string, config: CniConfig): NetworkAttachmentDefinition {
  return {
    apiVersion: NAD_API_VERSION,
    kind: NAD_KIND,
    metadata: { name, namespace },
    spec: { config: JSON.stringify(config) },
  };
}

export function buildOverlayNetwork(options: OverlayNetworkOptions = {}): OverlayNetwork {
  const namespace = options.namespace ?? 'neonvm-system';
  const prefix = options.namePrefix ?? 'neonvm';
  const bridge = options.bridge ?? 'neon-br0';
  const range = options.range ?? '10.100.0.0/16';
  const runnerRef = { namespace, name: `${prefix}-overlay-for-vms` };
  const ipamRef = { namespace, name: `${prefix}-overlay-ipam` };
  return {
    forVms: nad(namespace, runnerRef.name, {
      cniVersion: '0.3.1',
      name: 'overlay-for-vms',
      type: 'bridge',
      bridge,
      ipam: {},
    }),
    forPods: nad(namespace, `${prefix}-overlay-for-pods`, {
      cniVersion: '0.3.1',
      name: 'overlay-for-pods',
      type: 'bridge',
      bridge,
      ipam: {
        type: 'whereabouts',
        range,
        range_start: options.podRangeStart ?? '10.100.1.0',
        range_end: options.podRangeEnd ?? '10.100.127.255',
      },
    }),
    ipam: nad(namespace, ipamRef.name, {
      ipam: {
        network_name: options.networkName ?? 'neonvm',
        ipRanges: [{ range, range_start: options.vmRangeStart ?? '10.100.128.0' }],
      },
    }),
    runnerRef,
    ipamRef,
    bridge,
    range,
  };
}
