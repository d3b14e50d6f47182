/**
 * The pure core of the Pulumi VirtualMachine component: plain args (inputs resolved) → the
 * VirtualMachine object, built by the construct's spec builder and checked by `crds` validation.
 * Nothing about the NeonVM API is written here.
 */
import {
  API_VERSION,
  VIRTUAL_MACHINE,
  ValidationError,
  canonicalObject,
  validateVirtualMachine,
  type Disk,
  type ExtraNetwork,
  type VirtualMachine,
} from '../crds';
import {
  buildVirtualMachineSpec,
  envVars,
  guestPort,
  type MemoryProps,
  type RootDiskProps,
  type VirtualMachineSpecProps,
} from '../constructs/objects';
import type { ObjectMetaArgs } from './inputs';

/**
 * The construct's spec props with the cdk8s value types replaced by their wire forms: sizes are
 * quantity strings (`"1Gi"`), the grace period is seconds. (Pulumi inputs are plain data.)
 */
export interface VirtualMachineSpecArgs extends Omit<
  VirtualMachineSpecProps,
  'rootDisk' | 'memory' | 'swap' | 'terminationGracePeriod'
> {
  readonly rootDisk: Omit<RootDiskProps, 'size'> & { readonly size?: string };
  readonly memory?: Omit<MemoryProps, 'slotSize'> & { readonly slotSize?: string };
  readonly swap?: string;
  readonly terminationGracePeriodSeconds?: number;
  /** Extra disks, in the API's own shape. */
  readonly disks?: readonly Disk[];
  /** Overlay attachment, in the API's own shape (`{enable: true, multusNetwork: 'ns/name'}`). */
  readonly extraNetwork?: ExtraNetwork;
}

export function buildVirtualMachineObject(
  name: string,
  metadata: ObjectMetaArgs,
  args: VirtualMachineSpecArgs,
): VirtualMachine {
  const { disks, extraNetwork, terminationGracePeriodSeconds, ...props } = args;
  const spec = buildVirtualMachineSpec(
    {
      ...props,
      spec: {
        ...props.spec,
        ...(terminationGracePeriodSeconds !== undefined ? { terminationGracePeriodSeconds } : {}),
      },
    },
    {
      env: envVars(props.env),
      ports: (props.ports ?? []).map(guestPort),
      disks: [...(disks ?? [])],
      extraNetwork,
    },
  );
  const vm: VirtualMachine = canonicalObject<VirtualMachine>({
    apiVersion: API_VERSION,
    kind: VIRTUAL_MACHINE.kind,
    metadata: {
      name: metadata.name ?? name,
      ...(metadata.namespace ? { namespace: metadata.namespace } : {}),
      ...(metadata.labels ? { labels: { ...metadata.labels } } : {}),
      ...(metadata.annotations ? { annotations: { ...metadata.annotations } } : {}),
    },
    spec,
  });
  return JSON.parse(JSON.stringify(vm)) as VirtualMachine;
}

/** Throws a `ValidationError` naming every failing field; preview stops before anything is sent. */
export function assertValidVirtualMachine(vm: VirtualMachine): void {
  const errors = validateVirtualMachine(vm);
  if (errors.length > 0) throw new ValidationError(`VirtualMachine ${vm.metadata?.name ?? ''}`, errors);
}
