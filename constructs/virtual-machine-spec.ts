/**
 * The pure half of the VirtualMachine construct: readable props in, a `crds` VirtualMachineSpec out.
 * It maps names and units only; defaults and rules stay in `crds/` (the produced spec carries what the
 * user wrote, and the API server or `defaultVirtualMachine` fills in the rest).
 */
import type {
  CpuScalingMode,
  EnvVar,
  Guest,
  GuestPort,
  Disk,
  RestartPolicy,
  RootDisk,
  TargetArchitecture,
  TlsProvisioning,
  VirtualMachineSpec,
} from '../crds';
import {
  optionalSizeQuantity,
  sizeQuantity,
  type CpuAmount,
  type DurationLike,
  type SizeLike,
} from './amounts';

export interface CpuProps {
  /** CPUs at boot; the lower bound for scaling (immutable). */
  readonly min: CpuAmount;
  /** Upper bound for scaling: the number of vCPU slots (immutable). */
  readonly max: CpuAmount;
  /** CPUs in use now; hot-plugged live when changed. */
  readonly use: CpuAmount;
}

export interface MemoryProps {
  /**
   * Size of one memory slot; a multiple of 8 MiB.
   * @default Size.gibibytes(1) (the CRD default)
   */
  readonly slotSize?: SizeLike;
  /** Slots present at boot (immutable). */
  readonly min: number;
  /** Maximum slots (immutable). */
  readonly max: number;
  /** Slots in use now; hot-plugged live through virtio-mem. */
  readonly use: number;
}

export interface RootDiskProps {
  /** Image holding `/disk.qcow2` (built by `neonvm image build` or upstream's vm-builder). */
  readonly image: string;
  /**
   * Grow the root disk to this size (never shrinks).
   * @default - the image's size
   */
  readonly size?: SizeLike;
  /**
   * @default IfNotPresent (the CRD default)
   */
  readonly imagePullPolicy?: RootDisk['imagePullPolicy'];
}

export type PortProtocol = 'TCP' | 'UDP' | 'SCTP';

export interface GuestPortProps {
  /** Port forwarded from the runner pod into the guest. */
  readonly port: number;
  /**
   * Name, used as a Service `targetPort` (`qmp` is reserved).
   * @default - unnamed
   */
  readonly name?: string;
  /**
   * @default TCP
   */
  readonly protocol?: PortProtocol;
}

/** Everything else of the spec, typed by `crds` (the escape hatch for fields without a readable prop). */
export type VirtualMachineSpecOverrides = Partial<Omit<VirtualMachineSpec, 'guest'>> & {
  readonly guest?: Partial<Guest>;
};

/** The spec-shaping props of a VirtualMachine (the construct adds metadata and ArgoCD options). */
export interface VirtualMachineSpecProps {
  /** The root filesystem image. */
  readonly rootDisk: RootDiskProps;
  /**
   * Guest CPUs.
   * @default - the CRD default (1 CPU, not scalable)
   */
  readonly cpus?: CpuProps;
  /**
   * Guest memory in slots of `slotSize`.
   * @default - the CRD default (one 1 GiB slot)
   */
  readonly memory?: MemoryProps;
  /**
   * Replaces the image ENTRYPOINT.
   * @default - the image's entrypoint
   */
  readonly command?: readonly string[];
  /**
   * Replaces the image CMD.
   * @default - the image's command
   */
  readonly args?: readonly string[];
  /**
   * Environment of the guest command (name → value). More with `addEnv()`.
   * @default - none
   */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Ports forwarded into the guest. More with `addPort()`.
   * @default - none
   */
  readonly ports?: readonly GuestPortProps[];
  /**
   * How CPUs are scaled; may only be set once.
   * @default - the operator's default (`--default-cpu-scaling-mode`)
   */
  readonly cpuScalingMode?: CpuScalingMode;
  /**
   * Node architecture the VM must run on; may only be set once.
   * @default - any
   */
  readonly targetArchitecture?: TargetArchitecture;
  /**
   * Controller-level restart policy of the guest.
   * @default Always (the CRD default)
   */
  readonly restartPolicy?: RestartPolicy;
  /**
   * Image holding `/vmlinuz` to boot instead of the runner's kernel.
   * @default - the runner's kernel
   */
  readonly kernelImage?: string;
  /**
   * Appended to the guest kernel command line.
   * @default - nothing
   */
  readonly appendKernelCmdline?: string;
  /**
   * Lines of sysctl.conf applied at boot.
   * @default - none
   */
  readonly sysctl?: readonly string[];
  /**
   * Size of a swap disk.
   * @default - no swap
   */
  readonly swap?: SizeLike;
  /**
   * Generate an SSH key Secret and authorise it in the guest (immutable).
   * @default true (the CRD default)
   */
  readonly enableSsh?: boolean;
  /**
   * Use KVM when available (immutable).
   * @default true (the CRD default)
   */
  readonly enableAcceleration?: boolean;
  /**
   * Runner container resources (immutable). NeonVM does not derive them from the guest size.
   * @default - none
   */
  readonly podResources?: VirtualMachineSpec['podResources'];
  /**
   * Runner image instead of the operator's `VM_RUNNER_IMAGE`.
   * @default - the operator's runner image
   */
  readonly runnerImage?: string;
  /**
   * Node selector of the runner pod.
   * @default - none
   */
  readonly nodeSelector?: Readonly<Record<string, string>>;
  /**
   * Grace period of the runner pod.
   * @default Duration.seconds(5) (the CRD default)
   */
  readonly terminationGracePeriod?: DurationLike;
  /**
   * cert-manager TLS certificate provisioned into the guest.
   * @default - none
   */
  readonly tls?: TlsProvisioning;
  /**
   * Everything else of the spec, typed by `crds`. Readable props above take precedence.
   * @default - none
   */
  readonly spec?: VirtualMachineSpecOverrides;
}

/** What the construct accumulates after construction (`addDisk`, `addPort`, `addEnv`, `extraNetwork`). */
export interface VirtualMachineSpecExtras {
  readonly env: readonly EnvVar[];
  readonly ports: readonly GuestPort[];
  readonly disks: readonly Disk[];
  readonly extraNetwork?: VirtualMachineSpec['extraNetwork'];
}

/** Drops undefined members so the produced spec holds only what was written. */
function defined<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

function nonEmpty<T>(items: readonly T[] | undefined): T[] | undefined {
  return items && items.length > 0 ? [...items] : undefined;
}

export function envVars(env: Readonly<Record<string, string>> | undefined): EnvVar[] {
  return Object.entries(env ?? {}).map(([name, value]) => ({ name, value }));
}

export function guestPort(props: GuestPortProps): GuestPort {
  return defined({ name: props.name, port: props.port, protocol: props.protocol });
}

/** Builds the spec; pure and deterministic (a snapshot of the same props is the same object). */
export function buildVirtualMachineSpec(
  props: VirtualMachineSpecProps,
  extras: VirtualMachineSpecExtras,
): VirtualMachineSpec {
  const overrides = props.spec ?? {};
  const cpus = props.cpus;
  const memory = props.memory;
  const settings =
    props.sysctl !== undefined || props.swap !== undefined
      ? defined({
          ...overrides.guest?.settings,
          sysctl: props.sysctl ? [...props.sysctl] : undefined,
          swap: optionalSizeQuantity(props.swap),
        })
      : overrides.guest?.settings;
  const guest: Guest = defined({
    ...overrides.guest,
    kernelImage: props.kernelImage ?? overrides.guest?.kernelImage,
    appendKernelCmdline: props.appendKernelCmdline ?? overrides.guest?.appendKernelCmdline,
    cpus: cpus ? { min: cpus.min, max: cpus.max, use: cpus.use } : overrides.guest?.cpus,
    memorySlotSize:
      memory?.slotSize !== undefined ? sizeQuantity(memory.slotSize) : overrides.guest?.memorySlotSize,
    memorySlots: memory
      ? { min: memory.min, max: memory.max, use: memory.use }
      : overrides.guest?.memorySlots,
    rootDisk: defined({
      image: props.rootDisk.image,
      size: optionalSizeQuantity(props.rootDisk.size),
      imagePullPolicy: props.rootDisk.imagePullPolicy,
    }),
    command: props.command ? [...props.command] : overrides.guest?.command,
    args: props.args ? [...props.args] : overrides.guest?.args,
    env: nonEmpty([...(overrides.guest?.env ?? []), ...extras.env]),
    ports: nonEmpty([...(overrides.guest?.ports ?? []), ...extras.ports]),
    settings,
  });
  return defined({
    ...overrides,
    terminationGracePeriodSeconds:
      props.terminationGracePeriod?.toSeconds() ?? overrides.terminationGracePeriodSeconds,
    nodeSelector: props.nodeSelector ? { ...props.nodeSelector } : overrides.nodeSelector,
    podResources: props.podResources ?? overrides.podResources,
    restartPolicy: props.restartPolicy ?? overrides.restartPolicy,
    targetArchitecture: props.targetArchitecture ?? overrides.targetArchitecture,
    guest,
    disks: nonEmpty([...(overrides.disks ?? []), ...extras.disks]),
    extraNetwork: extras.extraNetwork ?? overrides.extraNetwork,
    enableAcceleration: props.enableAcceleration ?? overrides.enableAcceleration,
    runnerImage: props.runnerImage ?? overrides.runnerImage,
    enableSSH: props.enableSsh ?? overrides.enableSSH,
    tls: props.tls ?? overrides.tls,
    cpuScalingMode: props.cpuScalingMode ?? overrides.cpuScalingMode,
  });
}
