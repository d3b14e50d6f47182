/**
 * Reads the live VirtualMachine during preview so the component can classify the planned change.
 * A component cannot see its own previous state, and `CustomResource.get` fails the whole deployment
 * when the object does not exist yet, so the read goes to the API server directly — with the cluster
 * and credentials of the component's own Kubernetes provider — and any failure (no cluster, no object,
 * no permission) simply means "no previous spec".
 *
 * The client is `@kubernetes/client-node` (an optional peer dependency: it handles every kubeconfig
 * auth kind, exec plugins included), loaded only when a preview reads.
 */
import * as pulumi from '@pulumi/pulumi';
import { GROUP, VERSION, VIRTUAL_MACHINE, type VirtualMachine } from '../crds';

export interface LiveObjectReader {
  /** The live object, or undefined (absent, unreachable); rejects with `LiveReaderUnavailable`. */
  readVirtualMachine(namespace: string, name: string): Promise<VirtualMachine | undefined>;
}

/** `@kubernetes/client-node` is not installed: the preview says so once and skips the report. */
export class LiveReaderUnavailable extends Error {
  constructor() {
    super(
      'neonvm: install @kubernetes/client-node (npm i -D @kubernetes/client-node) to see at preview which edits to a running VM hot-plug, restart or will be rejected',
    );
    this.name = 'LiveReaderUnavailable';
  }
}

/** Cluster access as the Kubernetes provider takes it: `kubeconfig` is a path or the file's contents. */
export interface KubeconfigSource {
  readonly kubeconfig?: string;
  readonly context?: string;
}

type ClientNode = typeof import('@kubernetes/client-node');

async function loadClient(): Promise<ClientNode> {
  try {
    return await import('@kubernetes/client-node');
  } catch {
    throw new LiveReaderUnavailable();
  }
}

/** Reads with the given kubeconfig, or the default one (`KUBECONFIG`, `~/.kube/config`). */
export function kubeconfigReader(source: KubeconfigSource = {}): LiveObjectReader {
  return {
    async readVirtualMachine(namespace, name) {
      const { CustomObjectsApi, KubeConfig } = await loadClient();
      try {
        const kc = new KubeConfig();
        const config = source.kubeconfig;
        if (!config) kc.loadFromDefault();
        else if (/[\n{]/.test(config)) kc.loadFromString(config);
        else kc.loadFromFile(config);
        if (source.context) kc.setCurrentContext(source.context);
        const obj: unknown = await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
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

/** The provider's inputs, which the SDK exposes as outputs on the provider resource. */
interface KubernetesProviderInputs {
  readonly kubeconfig?: pulumi.Output<string | undefined>;
  readonly context?: pulumi.Output<string | undefined>;
}

/**
 * The value, or undefined where it is unknown. In a preview, an input the provider was not given
 * (`context` when only `kubeconfig` is set) comes back unknown, and one unknown member would keep the
 * whole report from running. Reads the SDK's `isKnown`, which Output instances carry (not in its
 * typings).
 */
function knownOrUndefined(
  output: pulumi.Output<string | undefined> | undefined,
): pulumi.Output<string | undefined> {
  if (!output) return pulumi.output(undefined);
  const internal = output as unknown as { isKnown?: Promise<boolean> };
  if (!internal.isKnown) return output;
  const known = internal.isKnown;
  return pulumi.output(
    known.then((isKnown) =>
      isKnown ? new Promise<string | undefined>((resolve) => output.apply((v) => resolve(v))) : undefined,
    ),
  );
}

/**
 * Where the component's Kubernetes provider connects: an explicit provider's `kubeconfig`/`context`,
 * or — for the default provider — the stack's `kubernetes:kubeconfig`/`kubernetes:context` config,
 * then `KUBECONFIG`, which is what the default provider reads.
 */
export function providerKubeconfig(component: pulumi.ComponentResource): pulumi.Output<KubeconfigSource> {
  const provider = component.getProvider('kubernetes::') as
    (pulumi.ProviderResource & KubernetesProviderInputs) | undefined;
  if (provider && (provider.kubeconfig || provider.context)) {
    return pulumi
      .all([knownOrUndefined(provider.kubeconfig), knownOrUndefined(provider.context)])
      .apply(([kubeconfig, context]) => ({ kubeconfig, context }));
  }
  const config = new pulumi.Config('kubernetes');
  return pulumi.output({
    kubeconfig: config.get('kubeconfig') ?? process.env.KUBECONFIG,
    context: config.get('context'),
  });
}
