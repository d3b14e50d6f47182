/**
 * The examples as a Pulumi program, inline-program friendly: `neonvmExamplesProgram(options)` returns
 * the function the Automation API runs (`LocalWorkspace.createOrSelectStack({program})`); `index.ts`
 * calls it for the standard `pulumi up`.
 */
import * as k8s from '@pulumi/kubernetes';
import type * as pulumi from '@pulumi/pulumi';
import { NeonVmInstall, VirtualMachine, VirtualMachineMigration } from '../../provider';

export interface ExamplesProgramOptions {
  /**
   * Install the operator (CRDs, RBAC, webhooks, Deployment). Without a running operator image, leave
   * this off: the webhooks would reject VMs.
   * @default false
   */
  readonly install?: boolean;
  /**
   * Install Multus with the operator (its CRD is needed for the overlay NetworkAttachmentDefinitions).
   * @default false
   */
  readonly multus?: boolean;
  /**
   * Declare the example VMs.
   * @default true
   */
  readonly vms?: boolean;
  /**
   * Declare the migration (it only succeeds with a running operator and two nodes).
   * @default false
   */
  readonly migration?: boolean;
  /**
   * Wait for VMs to be Running (needs the operator).
   * @default true
   */
  readonly waitForRunning?: boolean;
  /**
   * @default 'default'
   */
  readonly namespace?: string;
  /**
   * `cpus.use` of the example VM (an autoscaler-style edit; see the preview warning).
   * @default 1
   */
  readonly exampleCpuUse?: number;
  /**
   * Kubeconfig (path or contents) of an explicit Kubernetes provider for every resource; the
   * components' preview reads the live VMs through it too.
   * @default - the default provider (stack config `kubernetes:kubeconfig`, then KUBECONFIG)
   */
  readonly kubeconfig?: string;
  readonly operatorImage?: string;
  readonly runnerImage?: string;
  readonly devicePluginImage?: string;
}

export function neonvmExamplesProgram(options: ExamplesProgramOptions = {}): () => Promise<Record<string, unknown>> {
  return async () => {
    const waitForRunning = options.waitForRunning ?? true;
    const providers = options.kubeconfig ? [new k8s.Provider('cluster', { kubeconfig: options.kubeconfig })] : [];
    const install = options.install
      ? new NeonVmInstall('neonvm', {
          image: options.operatorImage ?? 'ghcr.io/neonvm-ts/neonvm-operator:0.1.0',
          runnerImage: options.runnerImage ?? 'ghcr.io/neonvm-ts/neonvm-runner:0.1.0',
          devicePluginImage: options.devicePluginImage ?? 'ghcr.io/neonvm-ts/neonvm-device-plugin:0.1.0',
          // Without a pullable operator image the Deployment never becomes ready.
          skipAwait: !waitForRunning,
          multus: options.multus,
        }, { providers })
      : undefined;
    const outputs: Record<string, unknown> = install ? { installNamespace: install.namespace } : {};
    if (options.vms === false) return outputs;
    return { ...outputs, ...declareVms(options, waitForRunning, install ? [install] : [], providers) };
  };
}

function declareVms(
  options: ExamplesProgramOptions,
  waitForRunning: boolean,
  dependsOn: pulumi.Resource[],
  providers: pulumi.ProviderResource[],
): Record<string, unknown> {
  const namespace = options.namespace ?? 'default';
  const debian = new VirtualMachine(
    'vm-debian',
    { metadata: { name: 'vm-debian', namespace }, rootDisk: { image: 'neondatabase/vm-debian:11' }, waitForRunning },
    { dependsOn, providers },
  );
  const example = new VirtualMachine(
    'example',
    {
      metadata: { name: 'example', namespace },
      cpus: { min: 1, max: 4, use: options.exampleCpuUse ?? 1 },
      memory: { slotSize: '1Gi', min: 1, max: 4, use: 2 },
      rootDisk: { image: 'vm-postgres:15-bullseye', size: '8Gi' },
      args: ['-c', 'config_file=/etc/postgresql/postgresql.conf'],
      env: { POSTGRES_HOST_AUTH_METHOD: 'trust' },
      ports: [
        { name: 'postgres', port: 5432 },
        { name: 'host-metrics', port: 9100 },
      ],
      disks: [
        { name: 'pgdata', mountPath: '/var/lib/postgresql', emptyDisk: { size: '16Gi' } },
        { name: 'cache', mountPath: '/neonvm/cache', tmpfs: { size: '1Gi' } },
      ],
      waitForRunning,
    },
    { dependsOn, providers },
  );
  const migration = options.migration
    ? // The component itself: the migration takes the VM's name and namespace and depends on it.
      new VirtualMachineMigration('example-migration', { vm: example, metadata: { name: 'example' } }, { providers })
    : undefined;
  return {
    vmDebianPhase: debian.phase,
    examplePhase: example.phase,
    exampleName: example.name,
    exampleNamespace: example.namespace,
    examplePod: example.podName,
    exampleNode: example.node,
    ...(migration ? { migrationPhase: migration.phase } : {}),
  };
}
