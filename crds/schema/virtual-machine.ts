/**
 * VirtualMachine (vm.neon.tech/v1): field names, order, defaults and ranges exactly as upstream NeonVM's
 * Go types declare them (property order = Go struct order, so our serialisation matches upstream's).
 * Deliberate differences, each fixing a known upstream hole, are marked FIX.
 */
import { Type, type Static } from '@sinclair/typebox';
import type {
  Affinity as V1Affinity,
  Container as V1Container,
  LocalObjectReference as V1LocalObjectReference,
  ResourceRequirements as V1ResourceRequirements,
  Toleration as V1Toleration,
} from 'kubernetes-types/core/v1';
import {
  Conditions,
  Embedded,
  Int32,
  Int64,
  MilliCpuSchema,
  Port,
  QuantitySchema,
  StringEnum,
  StringMap,
  TypeMeta,
  X_MAP_TYPE,
} from './common';

export const CPU_SCALING_MODES = ['QmpScaling', 'SysfsScaling'] as const;
export const TARGET_ARCHITECTURES = ['amd64', 'arm64'] as const;
export const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'] as const;
export const VM_PHASES = [
  'Pending',
  'Running',
  'Scaling',
  'PreMigrating',
  'Migrating',
  'Succeeded',
  'Failed',
] as const;

export const CpusSchema = Type.Object(
  {
    min: MilliCpuSchema({ description: 'Minimum CPUs (immutable). Boot CPUs in QmpScaling mode.' }),
    max: MilliCpuSchema({ description: 'Maximum CPUs (immutable); the number of vCPU slots.' }),
    use: MilliCpuSchema({ description: 'CPUs in use; hot-plugged live when changed. min <= use <= max.' }),
  },
  // FIX: upstream has no default, so a VM without `cpus` decoded as all-zero and booted nothing.
  { default: { min: 1, max: 1, use: 1 }, description: 'Guest CPUs, in CPUs or milli-CPUs ("250m").' },
);

const SlotCount = (description: string) => Int32({ minimum: 1, maximum: 512, description });
export const MemorySlotsSchema = Type.Object(
  {
    min: SlotCount('Memory slots present at boot (immutable).'),
    max: SlotCount('Maximum memory slots (immutable).'),
    use: SlotCount('Memory slots in use; hot-plugged live through virtio-mem. min <= use <= max.'),
  },
  // FIX: as for cpus, a missing object now defaults to one slot instead of zero memory.
  { default: { min: 1, max: 1, use: 1 }, description: 'Guest memory as a count of memorySlotSize slots.' },
);

export const RootDiskSchema = Type.Object(
  {
    image: Type.String({
      minLength: 1,
      description: 'Image holding /disk.qcow2 (built by `neonvm image build`).',
    }),
    size: Type.Optional(QuantitySchema({ description: 'Grow the root disk to this size (never shrinks).' })),
    imagePullPolicy: Type.Optional(
      StringEnum(['Always', 'Never', 'IfNotPresent'] as const, { default: 'IfNotPresent' }),
    ),
    execute: Type.Optional(Type.Array(Type.String(), { description: 'Declared by upstream; unused.' })),
  },
  { description: 'The guest root filesystem (immutable).' },
);

export const EnvVarSchema = Type.Object({
  name: Type.String({ description: 'Variable name.' }),
  value: Type.Optional(Type.String({ default: '' })),
});

export const GuestPortSchema = Type.Object({
  name: Type.Optional(Type.String({ description: 'Port name (`qmp` is reserved).' })),
  port: Port({ description: 'Port forwarded from the pod to the guest.' }),
  protocol: Type.Optional(Type.String({ default: 'TCP', description: 'TCP or UDP.' })),
});

export const GuestSettingsSchema = Type.Object({
  sysctl: Type.Optional(Type.Array(Type.String(), { description: 'Lines of sysctl.conf applied at boot.' })),
  swap: Type.Optional(QuantitySchema({ description: 'Size of a swap disk.' })),
});

export const GuestSchema = Type.Object(
  {
    kernelImage: Type.Optional(
      Type.String({ description: 'Image holding /vmlinuz to boot instead of the runner default.' }),
    ),
    memhpAutoMovableRatio: Type.Optional(
      Type.String({ description: 'Kernel memory_hotplug.auto_movable_ratio.' }),
    ),
    appendKernelCmdline: Type.Optional(
      Type.String({ description: 'Appended to the guest kernel command line.' }),
    ),
    cpus: Type.Optional(CpusSchema),
    memorySlotSize: Type.Optional(
      QuantitySchema({ default: '1Gi', description: 'Size of one memory slot; a multiple of 8Mi.' }),
    ),
    memorySlots: Type.Optional(MemorySlotsSchema),
    rootDisk: RootDiskSchema,
    command: Type.Optional(Type.Array(Type.String(), { description: 'Replaces the image ENTRYPOINT.' })),
    args: Type.Optional(Type.Array(Type.String(), { description: 'Replaces the image CMD.' })),
    env: Type.Optional(Type.Array(EnvVarSchema, { description: 'Environment of the guest command.' })),
    ports: Type.Optional(
      Type.Array(GuestPortSchema, { description: 'Ports forwarded from the pod to the guest.' }),
    ),
    settings: Type.Optional(GuestSettingsSchema),
  },
  { description: 'The guest: CPUs, memory, root disk and workload.' },
);

const KeyToPath = Type.Object({
  key: Type.String(),
  mode: Type.Optional(Int32()),
  path: Type.String(),
});
export const ConfigMapVolumeSourceSchema = Type.Object(
  {
    defaultMode: Type.Optional(Int32()),
    items: Type.Optional(Type.Array(KeyToPath)),
    name: Type.Optional(Type.String({ default: '' })),
    optional: Type.Optional(Type.Boolean()),
  },
  { [X_MAP_TYPE]: 'atomic' },
);
export const SecretVolumeSourceSchema = Type.Object({
  defaultMode: Type.Optional(Int32()),
  items: Type.Optional(Type.Array(KeyToPath)),
  optional: Type.Optional(Type.Boolean()),
  secretName: Type.Optional(Type.String()),
});
export const EmptyDiskSchema = Type.Object({
  size: QuantitySchema({ description: 'Size of the fresh ext4 disk.' }),
  discard: Type.Optional(Type.Boolean({ description: 'Pass discards (TRIM) to the host file.' })),
  enableQuotas: Type.Optional(Type.Boolean({ description: 'Enable ext4 project quotas.' })),
});
export const TmpfsDiskSchema = Type.Object({ size: QuantitySchema({ description: 'Size of the tmpfs.' }) });

export const DiskSchema = Type.Object({
  name: Type.String({ description: 'Disk name: a DNS label of at most 32 characters.' }),
  mountPath: Type.String({ description: 'Absolute path inside the guest.' }),
  readOnly: Type.Optional(Type.Boolean({ default: false })),
  watch: Type.Optional(
    Type.Boolean({ default: false, description: 'Sync live changes of a configMap/secret.' }),
  ),
  emptyDisk: Type.Optional(EmptyDiskSchema),
  configMap: Type.Optional(ConfigMapVolumeSourceSchema),
  secret: Type.Optional(SecretVolumeSourceSchema),
  tmpfs: Type.Optional(TmpfsDiskSchema),
});

export const ExtraNetworkSchema = Type.Object({
  enable: Type.Boolean({ default: false }),
  interface: Type.Optional(Type.String({ default: 'net1', description: 'Multus interface inside the pod.' })),
  multusNetwork: Type.Optional(
    Type.String({ description: 'NetworkAttachmentDefinition as namespace/name.' }),
  ),
});

export const TlsProvisioningSchema = Type.Object({
  certificateIssuer: Type.Optional(Type.String({ description: 'cert-manager ClusterIssuer name.' })),
  expireAfter: Type.Optional(Type.String({ description: 'Certificate duration (e.g. 2160h).' })),
  renewBefore: Type.Optional(Type.String({ description: 'Renew this long before expiry.' })),
  serverName: Type.Optional(Type.String({ description: 'Common name and DNS SAN.' })),
  mountPath: Type.Optional(
    Type.String({ default: '/var/tls', description: 'Guest directory for tls.key/tls.crt.' }),
  ),
});

export const OvercommitSchema = Type.Object({
  cpu: Type.Optional(QuantitySchema()),
  memory: Type.Optional(QuantitySchema()),
});

export const RevisionSchema = Type.Object({
  value: Int64(),
  flags: Int64({ minimum: 0 }),
});
export const RevisionWithTimeSchema = Type.Object({
  revision: RevisionSchema,
  updatedAt: Type.String({ format: 'date-time' }),
});

export const VirtualMachineSpecSchema = Type.Object(
  {
    qmp: Type.Optional(
      Port({ default: 20183, description: 'QMP port (kept for compatibility; QMP stays inside the pod).' }),
    ),
    qmpManual: Type.Optional(Port({ default: 20184 })),
    runnerPort: Type.Optional(Port({ default: 25183, description: 'Runner HTTP API port.' })),
    terminationGracePeriodSeconds: Type.Optional(Int64({ default: 5, minimum: 0 })),
    nodeSelector: Type.Optional(StringMap()),
    affinity: Type.Optional(Embedded<V1Affinity>('Pod affinity (core/v1 Affinity).')),
    tolerations: Type.Optional(Type.Array(Embedded<V1Toleration>('core/v1 Toleration.'))),
    schedulerName: Type.Optional(Type.String()),
    serviceAccountName: Type.Optional(Type.String()),
    podResources: Type.Optional(Embedded<V1ResourceRequirements>('Runner container resources (immutable).')),
    restartPolicy: Type.Optional(StringEnum(RESTART_POLICIES, { default: 'Always' })),
    imagePullSecrets: Type.Optional(
      Type.Array(Embedded<V1LocalObjectReference>('core/v1 LocalObjectReference.')),
    ),
    targetArchitecture: Type.Optional(
      StringEnum(TARGET_ARCHITECTURES, { description: 'Node architecture; may only be set once.' }),
    ),
    guest: GuestSchema,
    extraInitContainers: Type.Optional(Type.Array(Embedded<V1Container>('core/v1 Container.'))),
    initScript: Type.Optional(
      Type.String({ description: 'Shell script run by the runner before QEMU (immutable).' }),
    ),
    disks: Type.Optional(Type.Array(DiskSchema, { description: 'Extra disks (immutable).' })),
    extraNetwork: Type.Optional(ExtraNetworkSchema),
    service_links: Type.Optional(Type.Boolean({ description: 'Sets the runner pod enableServiceLinks.' })),
    enableAcceleration: Type.Optional(
      Type.Boolean({ default: true, description: 'Use KVM when it works (immutable).' }),
    ),
    runnerImage: Type.Optional(Type.String()),
    enableSSH: Type.Optional(
      Type.Boolean({ default: true, description: 'Generate an SSH key secret (immutable).' }),
    ),
    tls: Type.Optional(TlsProvisioningSchema),
    overcommit: Type.Optional(OvercommitSchema),
    targetRevision: Type.Optional(RevisionWithTimeSchema),
    cpuScalingMode: Type.Optional(
      StringEnum(CPU_SCALING_MODES, { description: 'How CPUs are scaled; may only be set once.' }),
    ),
    enableNetworkMonitoring: Type.Optional(Type.Boolean({ default: false })),
  },
  { description: 'VirtualMachineSpec defines the desired state of a VirtualMachine.' },
);

export const VirtualMachineStatusSchema = Type.Object(
  {
    conditions: Type.Optional(Conditions),
    phase: Type.Optional(StringEnum(['', ...VM_PHASES] as const)),
    restartCount: Type.Optional(Int32({ minimum: 0 })),
    podName: Type.Optional(Type.String()),
    podIP: Type.Optional(Type.String()),
    extraNetIP: Type.Optional(Type.String()),
    extraNetMask: Type.Optional(Type.String()),
    node: Type.Optional(Type.String()),
    cpus: Type.Optional(MilliCpuSchema()),
    memorySize: Type.Optional(QuantitySchema()),
    sshSecretName: Type.Optional(Type.String()),
    tlsSecretName: Type.Optional(Type.String()),
    currentRevision: Type.Optional(RevisionWithTimeSchema),
  },
  { description: 'VirtualMachineStatus defines the observed state of a VirtualMachine.' },
);

export const VirtualMachineSchema = Type.Object(
  { ...TypeMeta, spec: VirtualMachineSpecSchema, status: Type.Optional(VirtualMachineStatusSchema) },
  { description: 'VirtualMachine is the Schema for the virtualmachines API.' },
);

export type Cpus = Static<typeof CpusSchema>;
export type MemorySlots = Static<typeof MemorySlotsSchema>;
export type RootDisk = Static<typeof RootDiskSchema>;
export type EnvVar = Static<typeof EnvVarSchema>;
export type GuestPort = Static<typeof GuestPortSchema>;
export type GuestSettings = Static<typeof GuestSettingsSchema>;
export type Guest = Static<typeof GuestSchema>;
export type Disk = Static<typeof DiskSchema>;
export type EmptyDisk = Static<typeof EmptyDiskSchema>;
export type ExtraNetwork = Static<typeof ExtraNetworkSchema>;
export type TlsProvisioning = Static<typeof TlsProvisioningSchema>;
export type Overcommit = Static<typeof OvercommitSchema>;
export type Revision = Static<typeof RevisionSchema>;
export type RevisionWithTime = Static<typeof RevisionWithTimeSchema>;
export type VirtualMachineSpec = Static<typeof VirtualMachineSpecSchema>;
export type VirtualMachineStatus = Static<typeof VirtualMachineStatusSchema>;
export type VirtualMachine = Static<typeof VirtualMachineSchema>;
export type CpuScalingMode = (typeof CPU_SCALING_MODES)[number];
export type TargetArchitecture = (typeof TARGET_ARCHITECTURES)[number];
export type RestartPolicy = (typeof RESTART_POLICIES)[number];
export type VmPhase = (typeof VM_PHASES)[number];
