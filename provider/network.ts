/** `neonvm:index:Network`: the overlay NetworkAttachmentDefinitions, from the same builder as the construct. */
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { buildOverlayNetwork, type OverlayNetworkOptions } from '../constructs/objects';
import type { NetworkAttachmentDefinition } from '../crds';

export type NetworkArgs = OverlayNetworkOptions;

/**
 * The overlay network as a Pulumi component: the three Multus NetworkAttachmentDefinitions
 * (`<name>-for-vms`, `-for-pods`, `-ipam`). `multusNetwork` is what a VM's `extraNetwork` refers to.
 */
export class Network extends pulumi.ComponentResource {
  /** `namespace/name` for `extraNetwork.multusNetwork`. */
  public readonly multusNetwork: pulumi.Output<string>;
  public readonly attachments: readonly k8s.apiextensions.CustomResource[];

  public constructor(name: string, args: NetworkArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super('neonvm:index:Network', name, {}, opts);
    const net = buildOverlayNetwork(args);
    const child = (role: string, nad: NetworkAttachmentDefinition) =>
      new k8s.apiextensions.CustomResource(
        `${name}-${role}`,
        { apiVersion: nad.apiVersion!, kind: nad.kind!, metadata: nad.metadata, spec: nad.spec },
        { parent: this },
      );
    this.attachments = [
      child('for-vms', net.forVms),
      child('for-pods', net.forPods),
      child('ipam', net.ipam),
    ];
    this.multusNetwork = pulumi.output(`${net.runnerRef.namespace}/${net.runnerRef.name}`);
    this.registerOutputs({ multusNetwork: this.multusNetwork });
  }
}
