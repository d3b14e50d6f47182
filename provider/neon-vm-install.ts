/**
 * `neonvm:index:NeonVmInstall`: the operator install, created from the construct library's pure
 * bundle builder (`buildInstallBundle`) — the same objects `cdk8s synth` writes, no second description.
 * CRDs and the namespace go in ConfigGroups that the rest depends on.
 */
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { buildInstallBundle, type NeonVmInstallOptions } from '../constructs';

export interface NeonVmInstallArgs extends NeonVmInstallOptions {
  /**
   * Do not wait for the operator Deployment to become ready (e.g. before its image is pushed).
   * @default false
   */
  readonly skipAwait?: boolean;
}

export class NeonVmInstall extends pulumi.ComponentResource {
  public readonly namespace: pulumi.Output<string>;
  public readonly crds: k8s.yaml.ConfigGroup;
  public readonly namespaces: k8s.yaml.ConfigGroup;
  public readonly objects: k8s.yaml.ConfigGroup;

  public constructor(name: string, args: NeonVmInstallArgs, opts?: pulumi.ComponentResourceOptions) {
    super('neonvm:index:NeonVmInstall', name, {}, opts);
    const { skipAwait, ...options } = args;
    const bundle = buildInstallBundle(options);
    // v1 ConfigGroups create their members in parallel, so the order the API server needs (CRDs and
    // the namespace before what lives in them) is expressed as three dependent groups.
    const isNamespace = (o: { kind: string }) => o.kind === 'Namespace';
    this.crds = new k8s.yaml.ConfigGroup(
      `${name}-crds`,
      { objs: [...bundle.crds], skipAwait },
      { parent: this },
    );
    this.namespaces = new k8s.yaml.ConfigGroup(
      `${name}-namespaces`,
      { objs: bundle.objects.filter(isNamespace), skipAwait },
      { parent: this },
    );
    this.objects = new k8s.yaml.ConfigGroup(
      `${name}-objects`,
      { objs: bundle.objects.filter((o) => !isNamespace(o)), skipAwait },
      { parent: this, dependsOn: [this.crds, this.namespaces] },
    );
    this.namespace = pulumi.output(options.namespace ?? 'neonvm-system');
    this.registerOutputs({ namespace: this.namespace });
  }
}
