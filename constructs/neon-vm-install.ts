/**
 * `NeonVmInstall`: the operator, its CRDs, RBAC, webhooks and networks, as a construct. A thin
 * wrapper over `buildInstallBundle` (install/install-bundle.ts), which the Pulumi component uses too.
 * Put it in a chart without a namespace: most objects are cluster-scoped or carry their own.
 */
import type { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { buildInstallBundle, type NeonVmInstallOptions } from './install';
import { addApiObject } from './api-object';
import type { KubeObject } from './kube-object';

export type NeonVmInstallProps = NeonVmInstallOptions;

/** A stable, readable construct id per object: `Deployment-neonvm-system-neonvm-controller`. */
function objectId(o: KubeObject): string {
  return [o.kind, o.metadata.namespace, o.metadata.name].filter(Boolean).join('-');
}

/**
 * The NeonVM operator install: namespace, CRDs, RBAC, the controller Deployment with its HTTPS
 * admission webhooks and certificates, the device plugin DaemonSet, optionally Multus and
 * Whereabouts — the objects of `buildInstallBundle(options)`, the same the Pulumi component and
 * `dist/install/neonvm.yaml` contain.
 *
 * ```ts
 * new NeonVmInstall(chart, 'neonvm', { ...releaseImages({ registry, digests }), syncWaves: true });
 * ```
 */
export class NeonVmInstall extends Construct {
  public readonly namespace: string;
  /** The CRD objects (apply first). */
  public readonly crds: readonly ApiObject[];
  public readonly objects: readonly ApiObject[];

  public constructor(scope: Construct, id: string, props: NeonVmInstallProps) {
    super(scope, id);
    this.namespace = props.namespace ?? 'neonvm-system';
    const bundle = buildInstallBundle(props);
    this.crds = bundle.crds.map((o) => addApiObject(this, objectId(o), o));
    this.objects = bundle.objects.map((o) => addApiObject(this, objectId(o), o));
  }

  /** The L1 object of a kind/name, for escape hatches (`addJsonPatch`). */
  public findObject(kind: string, name: string): ApiObject | undefined {
    return [...this.crds, ...this.objects].find((o) => o.kind === kind && o.name === name);
  }
}
