/**
 * Reads the live VirtualMachine during preview so the component can classify the planned change.
 * A component cannot see its own previous state, and `CustomResource.get` fails the whole deployment
 * when the object does not exist yet, so the read goes to the API server directly and any failure
 * (no cluster, no object, no permission) simply means "no previous spec".
 */
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { GROUP, VERSION, VIRTUAL_MACHINE, type VirtualMachine } from '../crds';

export interface LiveObjectReader {
  readVirtualMachine(namespace: string, name: string): Promise<VirtualMachine | undefined>;
}

/** Reads with the default kubeconfig (`KUBECONFIG` or `~/.kube/config`), the one the provider uses. */
export function kubeconfigReader(kubeconfigPath?: string): LiveObjectReader {
  return {
    async readVirtualMachine(namespace, name) {
      try {
        const kc = new KubeConfig();
        if (kubeconfigPath) kc.loadFromFile(kubeconfigPath);
        else kc.loadFromDefault();
        const api = kc.makeApiClient(CustomObjectsApi);
        const obj: unknown = await api.getNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          namespace,
          plural: VIRTUAL_MACHINE.plural,
          name,
        });
        return obj as VirtualMachine;
      } catch {
        return undefined;
      }
    },
  };
}
