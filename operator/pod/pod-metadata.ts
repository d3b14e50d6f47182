/**
 * Labels and annotations of a runner pod (upstream §1.7): the VM's own, plus the contract keys read by
 * the scheduler plugin and autoscaler (`vm.neon.tech/usage`, `vm.neon.tech/resources`).
 */
import {
  ANNOTATION_DEFAULT_CONTAINER,
  ANNOTATION_MULTUS_NETWORKS,
  ANNOTATION_OVERCOMMIT,
  ANNOTATION_RESOURCES,
  ANNOTATION_USAGE,
  LABEL_APP_NAME,
  LABEL_VM_NAME,
  RUNNER_APP_NAME,
  RUNNER_CONTAINER_NAME,
  canonicalMilliCpu,
  canonicalQuantity,
  formatQuantity,
  parseMilliCpu,
  quantityBytes,
  quantityFromInteger,
  quantityFromMilli,
  type VirtualMachine,
} from '../../crds';
import { vmCpus, vmMemorySlots, vmMemorySlotSize } from '../vm/vm-spec';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
/** Annotations Multus writes on pods; never removed when syncing metadata. */
export const MULTUS_MANAGED_ANNOTATIONS = [
  ANNOTATION_MULTUS_NETWORKS,
  'k8s.v1.cni.cncf.io/network-status',
  'k8s.v1.cni.cncf.io/networks-status',
];

export function runnerPodLabels(vm: VirtualMachine): Record<string, string> {
  return {
    ...(vm.metadata?.labels ?? {}),
    [LABEL_APP_NAME]: RUNNER_APP_NAME,
    [LABEL_VM_NAME]: vm.metadata?.name ?? '',
  };
}

/** `{"cpu": "250m"|"1", "memory": "4Gi"}`: what the VM uses now. */
export function usageAnnotation(vm: VirtualMachine): string {
  const cpus = vmCpus(vm);
  const memoryBytes = BigInt(vmMemorySlots(vm).use) * quantityBytes(vmMemorySlotSize(vm));
  return JSON.stringify({
    cpu: formatQuantity(quantityFromMilli(parseMilliCpu(cpus.use))),
    memory: formatQuantity(quantityFromInteger(memoryBytes)),
  });
}

export function resourcesAnnotation(vm: VirtualMachine): string {
  const cpus = vmCpus(vm);
  const slots = vmMemorySlots(vm);
  return JSON.stringify({
    cpus: {
      min: canonicalMilliCpu(cpus.min),
      max: canonicalMilliCpu(cpus.max),
      use: canonicalMilliCpu(cpus.use),
    },
    memorySlots: { min: slots.min, max: slots.max, use: slots.use },
    memorySlotSize: canonicalQuantity(vmMemorySlotSize(vm)),
  });
}

/** `<namespace/name>@<interface>` of the VM's extra network, or undefined when it has none. */
export function multusNetworkAnnotation(
  vm: VirtualMachine,
  defaultNetwork: string | undefined,
): string | undefined {
  const net = vm.spec.extraNetwork;
  if (!net?.enable) return undefined;
  const nad = net.multusNetwork ?? defaultNetwork;
  if (!nad) return undefined;
  return `${nad}@${net.interface ?? 'net1'}`;
}

export function runnerPodAnnotations(vm: VirtualMachine, defaultNetwork?: string): Record<string, string> {
  const own = { ...(vm.metadata?.annotations ?? {}) };
  delete own[LAST_APPLIED];
  const out: Record<string, string> = {
    ...own,
    [ANNOTATION_DEFAULT_CONTAINER]: RUNNER_CONTAINER_NAME,
    [ANNOTATION_USAGE]: usageAnnotation(vm),
    [ANNOTATION_RESOURCES]: resourcesAnnotation(vm),
  };
  if (vm.spec.overcommit) out[ANNOTATION_OVERCOMMIT] = JSON.stringify(vm.spec.overcommit);
  const networks = multusNetworkAnnotation(vm, defaultNetwork);
  if (networks) out[ANNOTATION_MULTUS_NETWORKS] = networks;
  return out;
}

/**
 * The merge patch that brings a pod's labels/annotations to the expected ones (`null` removes a key),
 * leaving Multus-managed annotations alone; undefined when the pod is up to date.
 */
export function podMetadataPatch(
  current: { labels?: Record<string, string>; annotations?: Record<string, string> },
  expected: { labels: Record<string, string>; annotations: Record<string, string> },
):
  | { metadata: { labels?: Record<string, string | null>; annotations?: Record<string, string | null> } }
  | undefined {
  const diff = (have: Record<string, string> = {}, want: Record<string, string>, keep: readonly string[]) => {
    const out: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(want)) if (have[k] !== v) out[k] = v;
    for (const k of Object.keys(have)) if (!(k in want) && !keep.includes(k)) out[k] = null;
    return Object.keys(out).length > 0 ? out : undefined;
  };
  const labels = diff(current.labels, expected.labels, []);
  const annotations = diff(current.annotations, expected.annotations, MULTUS_MANAGED_ANNOTATIONS);
  if (!labels && !annotations) return undefined;
  return { metadata: { ...(labels ? { labels } : {}), ...(annotations ? { annotations } : {}) } };
}
