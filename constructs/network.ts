/**
 * `Network`: the NeonVM overlay network as a construct (three NetworkAttachmentDefinitions, see
 * network-objects.ts). A VirtualMachine joins it with `extraNetwork: network`.
 */
import type { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { buildOverlayNetwork, type ObjectRef, type OverlayNetworkOptions } from './network-objects';
import { syncWaveAnnotations } from './argocd-sync-wave';
import { addApiObject } from './api-object';
import { asKubeObject, withAnnotations } from './kube-object';
import type { NetworkAttachmentDefinition } from '../crds';

/** Anything a VM can attach its extra interface to. */
export interface INetworkAttachment {
  /** `namespace/name` of the NetworkAttachmentDefinition for VM runner pods; unset for the operator's default. */
  readonly multusNetwork?: string;
}

export interface NetworkProps extends OverlayNetworkOptions {
  /**
   * ArgoCD sync wave of the attachment definitions.
   * @default - no annotation
   */
  readonly syncWave?: number;
}

/**
 * The overlay network VMs attach a second interface to (`extraNetwork`): the three Multus
 * NetworkAttachmentDefinitions NeonVM uses (`neonvm-overlay-for-vms`, `-for-pods`, `-ipam`), with
 * Whereabouts IPAM. Pass it as a VM's `extraNetwork`, or refer to an existing one with
 * `Network.fromMultusNetwork('namespace/name')`.
 */
export class Network extends Construct implements INetworkAttachment {
  /** An existing attachment (e.g. the one `NeonVmInstall` created), by `namespace/name`. */
  public static fromMultusNetwork(multusNetwork: string): INetworkAttachment {
    return { multusNetwork };
  }

  /** The operator's default attachment (its `NAD_RUNNER_NAMESPACE/NAD_RUNNER_NAME`). */
  public static operatorDefault(): INetworkAttachment {
    return {};
  }

  public readonly multusNetwork: string;
  /** The attachment for VM runner pods (the operator's `NAD_RUNNER_*`). */
  public readonly runnerRef: ObjectRef;
  /** The IPAM configuration (the operator's `NAD_IPAM_*`). */
  public readonly ipamRef: ObjectRef;
  public readonly forVms: ApiObject;
  public readonly forPods: ApiObject;
  public readonly ipam: ApiObject;

  public constructor(scope: Construct, id: string, props: NetworkProps = {}) {
    super(scope, id);
    const net = buildOverlayNetwork(props);
    const annotations = syncWaveAnnotations(props.syncWave);
    const wrap = (childId: string, obj: NetworkAttachmentDefinition) =>
      addApiObject(this, childId, withAnnotations(asKubeObject(obj), annotations));
    this.forVms = wrap('ForVms', net.forVms);
    this.forPods = wrap('ForPods', net.forPods);
    this.ipam = wrap('Ipam', net.ipam);
    this.runnerRef = net.runnerRef;
    this.ipamRef = net.ipamRef;
    this.multusNetwork = `${net.runnerRef.namespace}/${net.runnerRef.name}`;
  }
}
