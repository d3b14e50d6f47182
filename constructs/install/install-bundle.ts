/**
 * The NeonVM install bundle as plain objects, in apply order. The one description of an install:
 * the `NeonVmInstall` construct wraps these objects, and the Pulumi `NeonVmInstall` component creates
 * them — neither re-describes anything.
 */
import { buildCustomResourceDefinitions } from '../../crds';
import { SyncWave, syncWaveAnnotations } from '../argocd-sync-wave';
import { withAnnotations, type KubeObject } from '../kube-object';
import { buildOverlayNetwork, type OverlayNetwork } from '../network-objects';
import { asKubeObject } from '../kube-object';
import type { NeonVmInstallOptions } from './install-options';
import { buildAggregatedRoles, buildOperatorRbac } from './operator-rbac';
import { buildOperatorDeployment } from './operator-deployment';
import { buildWebhooks } from './webhooks';
import { buildDevicePluginDaemonSet } from './device-plugin-daemonset';
import { buildVxlanControllerObjects } from './vxlan-controller-daemonset';
import { buildMultus, buildWhereabouts } from './third-party';
import { buildRunnerNetworkPolicy } from './runner-network-policy';

export interface InstallBundle {
  /** CustomResourceDefinitions (NeonVM's, and Multus/Whereabouts when requested): apply first. */
  readonly crds: readonly KubeObject[];
  /** Everything else, in dependency order (namespace first). */
  readonly objects: readonly KubeObject[];
}

function optionsOf<T extends object>(v: T | boolean | undefined): T | undefined {
  if (v === undefined || v === false) return undefined;
  return v === true ? ({} as T) : v;
}

export function buildInstallBundle(options: NeonVmInstallOptions): InstallBundle {
  const namespace = options.namespace ?? 'neonvm-system';
  const certificates = options.certificates ?? 'self-managed';
  const network =
    options.network === false ? undefined : buildOverlayNetwork({ namespace, ...options.network });
  const multusOptions = optionsOf(options.multus);
  const whereaboutsOptions = optionsOf(options.whereabouts);
  const multus = multusOptions ? buildMultus(multusOptions) : undefined;
  const whereabouts = whereaboutsOptions ? buildWhereabouts(whereaboutsOptions) : undefined;

  const crds: KubeObject[] = [
    ...buildCustomResourceDefinitions().map((crd) => asKubeObject(crd)),
    ...(multus?.crds ?? []),
    ...(whereabouts?.crds ?? []),
  ];
  const objects: KubeObject[] = [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace, labels: { 'app.kubernetes.io/part-of': 'neonvm' } },
    },
    ...(multus?.objects ?? []),
    ...(whereabouts?.objects ?? []),
    ...buildOperatorRbac(namespace, certificates),
    ...buildAggregatedRoles(options.aggregateVmEditorTo),
    ...(network ? [network.forVms, network.forPods, network.ipam].map((n) => asKubeObject(n)) : []),
    ...buildWebhooks(namespace, certificates),
    buildOperatorDeployment({
      ...options,
      namespace,
      certificates,
      runnerNetwork: network?.runnerRef,
      ipamNetwork: network?.ipamRef,
    }),
    ...devicePluginObjects(options, namespace),
    ...vxlanControllerObjects(options, namespace, network),
    ...runnerNetworkPolicies(options, namespace),
  ];
  if (!options.syncWaves) return { crds, objects };
  return {
    crds: crds.map((o) => withAnnotations(o, syncWaveAnnotations(SyncWave.CRDS))),
    objects: objects.map((o) => withAnnotations(o, syncWaveAnnotations(SyncWave.OPERATOR))),
  };
}

function devicePluginObjects(options: NeonVmInstallOptions, namespace: string): KubeObject[] {
  if (options.devicePlugin === false) return [];
  if (!options.devicePluginImage)
    throw new Error(
      'NeonVmInstall: devicePluginImage is required (runner pods request neonvm/kvm and neonvm/vhost-net, ' +
        'which the device plugin offers); set devicePlugin: false to install without it',
    );
  return [
    buildDevicePluginDaemonSet({
      ...(options.devicePlugin ?? {}),
      namespace,
      image: options.devicePluginImage,
      imagePullPolicy: options.imagePullPolicy,
    }),
  ];
}

function vxlanControllerObjects(
  options: NeonVmInstallOptions,
  namespace: string,
  network: OverlayNetwork | undefined,
): KubeObject[] {
  if (!network) {
    if (options.vxlanController)
      throw new Error(
        'NeonVmInstall: vxlanController needs the overlay network (its bridge and range); ' +
          'network is false — drop vxlanController or set network',
      );
    return [];
  }
  if (options.vxlanController === false) return [];
  return buildVxlanControllerObjects({
    ...(options.vxlanController ?? {}),
    namespace,
    image: options.runnerImage,
    imagePullPolicy: options.imagePullPolicy,
    bridge: network.bridge,
    overlayCidr: network.range,
  });
}

function runnerNetworkPolicies(options: NeonVmInstallOptions, operatorNamespace: string): KubeObject[] {
  if (options.networkPolicy === false) return [];
  const { namespaces = ['default'], runnerApiFrom } = options.networkPolicy ?? {};
  return namespaces.map((ns) =>
    buildRunnerNetworkPolicy(ns, operatorNamespace, runnerApiFrom ? { runnerApiFrom } : {}),
  );
}

/** The bundle as one list, CRDs first. */
export function installBundleObjects(options: NeonVmInstallOptions): KubeObject[] {
  const bundle = buildInstallBundle(options);
  return [...bundle.crds, ...bundle.objects];
}
