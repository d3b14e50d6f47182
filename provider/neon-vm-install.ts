/**
 * `neonvm:index:NeonVmInstall`: the operator install, created from the construct library's pure
 * bundle builder (`buildInstallBundle`) — the same objects `cdk8s synth` writes, no second description.
 * One `yaml.v2.ConfigGroup`: it orders CRDs and namespaces before the objects that need them itself
 * (v1 groups created everything in parallel, which took three dependent groups).
 */
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { buildInstallBundle, type NeonVmInstallOptions } from '../constructs/objects';

/** Arguments of `NeonVmInstall`: the install options of the construct, plus Pulumi's await switch. */
export interface NeonVmInstallArgs extends NeonVmInstallOptions {
  /**
   * Do not wait for the objects to become ready (e.g. before the images are pushed).
   * @default false
   */
  readonly skipAwait?: boolean;
}

/**
 * The NeonVM operator install: namespace, CRDs, RBAC, the controller Deployment, its admission
 * webhooks and certificates, the device plugin DaemonSet (optionally Multus and Whereabouts).
 *
 * ```ts
 * const install = new NeonVmInstall('neonvm', { ...releaseImages({ registry, digests }) });
 * new VirtualMachine('pg', { ... }, { dependsOn: [install] });
 * ```
 */
export class NeonVmInstall extends pulumi.ComponentResource {
  /** The namespace the operator runs in. */
  public readonly namespace: pulumi.Output<string>;
  /** The one group holding every object of the install. */
  public readonly configGroup: k8s.yaml.v2.ConfigGroup;

  public constructor(name: string, args: NeonVmInstallArgs, opts?: pulumi.ComponentResourceOptions) {
    super('neonvm:index:NeonVmInstall', name, {}, opts);
    const { skipAwait, ...options } = args;
    const bundle = buildInstallBundle(options);
    this.configGroup = new k8s.yaml.v2.ConfigGroup(
      name,
      { objs: [...bundle.crds, ...bundle.objects], skipAwait },
      { parent: this },
    );
    this.namespace = pulumi.output(options.namespace ?? 'neonvm-system');
    this.registerOutputs({ namespace: this.namespace });
  }
}
