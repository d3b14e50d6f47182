/**
 * The overlay IPAM of a running operator: its ranges come from the CNI config of the
 * NetworkAttachmentDefinition named by NAD_IPAM_NAMESPACE/NAD_IPAM_NAME (whereabouts format, as
 * upstream), read once when the controllers start; its IPPools live in that NAD's namespace.
 */
import type { IpPool, NetworkAttachmentDefinition } from '../../crds';
import { CustomResourceClient, isNotFound, type CustomObjectsClient } from '../../kube';
import type { OperatorMetrics } from '../controller-kit';
import { IP_POOL_RESOURCE } from '../neonvm-resources';
import { Ipam } from './ipam';
import { parseIpamConfig } from './ipam-config';

export interface IpamSource {
  readonly custom: CustomObjectsClient;
  /** `namespace/name` of the NetworkAttachmentDefinition holding the overlay IPAM config. */
  readonly nad: { readonly namespace: string; readonly name: string };
  readonly metrics?: OperatorMetrics;
}

export async function loadIpam({ custom, nad, metrics }: IpamSource): Promise<Ipam> {
  let obj: NetworkAttachmentDefinition;
  try {
    obj = (await custom.getNamespacedCustomObject({
      group: 'k8s.cni.cncf.io',
      version: 'v1',
      plural: 'network-attachment-definitions',
      namespace: nad.namespace,
      name: nad.name,
    })) as NetworkAttachmentDefinition;
  } catch (err) {
    const hint = isNotFound(err)
      ? ' (not found: is Multus installed, with its NetworkAttachmentDefinition CRD, and the NAD applied?)'
      : '';
    throw new Error(
      `cannot read the IPAM NetworkAttachmentDefinition ${nad.namespace}/${nad.name} named by NAD_IPAM_NAMESPACE/NAD_IPAM_NAME${hint}: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`,
    );
  }
  const config = parseIpamConfig(obj.spec?.config ?? '{}');
  const pools = new CustomResourceClient<IpPool>(custom, IP_POOL_RESOURCE);
  return new Ipam({ pools, namespace: nad.namespace, config, ...(metrics ? { metrics } : {}) });
}
