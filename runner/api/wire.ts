/**
 * Wire types of the runner HTTP API: the only contract between the operator (or any tool) and a
 * runner. Upstream-compatible endpoints keep upstream's exact JSON (`VCPUs` key, MilliCPU encoding);
 * the rest is ours. Every JSON body here is what goes over the wire — no class instances, no bigint.
 */
import type { CpuScalingMode, MigrationInfo, MilliCpuWire, TargetArchitecture } from '../../crds';

/** Default runner API port (upstream `spec.runnerPort` default). */
export const RUNNER_API_PORT = 25183;

/** Paths, one place, so server and client cannot drift apart. */
export const RUNNER_PATHS = {
  ready: '/ready',
  cpuChange: '/cpu_change',
  cpuCurrent: '/cpu_current',
  memory: '/memory',
  swap: '/swap',
  status: '/status',
  migration: '/migration',
  qemu: '/qemu',
  metrics: '/metrics',
} as const;

/** Paths served without a bearer token (probes and Prometheus scrapes). */
export const UNAUTHENTICATED_PATHS: readonly string[] = [RUNNER_PATHS.ready, RUNNER_PATHS.metrics];

/** `POST /cpu_change` body and `GET /cpu_current` response (upstream: key literally `VCPUs`). */
export interface VCpusBody {
  VCPUs: MilliCpuWire;
}

/** `PUT /memory` body: the number of memory slots the guest should have (min..max of the spec). */
export interface MemorySetRequest {
  slots: number;
}

/** `GET /memory` and `PUT /memory` response: what QEMU reports after the change has settled. */
export interface MemoryState {
  /** Slots currently present: (base + plugged) / slot size. */
  slots: number;
  /** Slots requested (virtio-mem `requested-size`/slot + min); differs from `slots` while settling. */
  requestedSlots: number;
  minSlots: number;
  maxSlots: number;
  slotSizeBytes: number;
  /** base + plugged, as QEMU reports it (`query-memory-size-summary`). */
  sizeBytes: number;
  /** Boot memory (min slots). */
  baseBytes: number;
  /** Memory plugged through virtio-mem. */
  pluggedBytes: number;
}

/** `PUT /swap` body: the swap the guest should use, at most the swap disk (`spec.guest.settings.swap`). */
export interface SwapSetRequest {
  sizeBytes: number;
}

/** `GET /swap` and `PUT /swap` response. */
export interface SwapState {
  /** The swap disk's size (`spec.guest.settings.swap`): the most a resize can ask for. */
  diskBytes: number;
  /** Last size requested (at boot: the disk size). */
  requestedBytes: number;
  /** What the guest kernel has enabled (`SwapTotal`; slightly below the request: the swap header). */
  guestBytes?: number;
}

/** QEMU accelerator in use (decided by a real probe, not by the presence of /dev/kvm). */
export type Accel = 'kvm' | 'tcg';
/** How the guest is networked: tap+bridge+DHCP in the pod netns, or QEMU user-mode with forwards. */
export type NetworkMode = 'tap' | 'user';
/** Migration role of this runner: a normal VM, a migration source, or a target waiting for the stream. */
export type MigrationRole = 'none' | 'source' | 'target';

/** `GET /status`: everything the operator needs to derive VM status, in one call. */
export interface RunnerStatus {
  /** The guest agent answers (the guest has booted); the same condition as `GET /ready`. */
  guestReady: boolean;
  /** QEMU's `query-status` status (`running`, `inmigrate`, `postmigrate`, `paused`, ...). */
  qemuStatus: string;
  accel: Accel;
  arch: TargetArchitecture;
  networkMode: NetworkMode;
  /** Tap mode: the NICs' queue pairs, and whether the kernel's vhost-net backs them (else QEMU's user space). */
  netBacking?: { queues: number; vhost: boolean };
  /**
   * What of the VM's spec the VM runs without (or with less), and why — e.g. `spec.extraNetwork` when
   * tap networking is impossible in the pod. The operator reports these as the Degraded condition.
   */
  degraded: string[];
  cpuScalingMode: CpuScalingMode;
  cpus: {
    /** Last successfully applied CPU amount (what `/cpu_current` answers). */
    use: MilliCpuWire;
    /** vCPUs present in QEMU (`query-cpus-fast`). */
    plugged: number;
    /** CPUs the guest has online (from the guest agent; absent when the guest is not up). */
    online?: number;
    min: MilliCpuWire;
    max: MilliCpuWire;
  };
  memory: MemoryState;
  migrationRole: MigrationRole;
  /** Path of the guest serial console pty inside the pod (`screen <path>`). */
  consolePty?: string;
  /** Seconds since the runner started QEMU. */
  uptimeSeconds: number;
}

/** `POST /migration` on the source runner. Defaults mirror VirtualMachineMigration's spec defaults. */
export interface MigrationStartRequest {
  /** Target pod IP (or host) where the target runner's QEMU listens for the stream. */
  targetHost: string;
  /** Defaults to MIGRATION_PORT (20187). */
  targetPort?: number;
  /** Bytes per second, Quantity form (`1Gi`) or number. Default `1Gi`. */
  maxBandwidth?: string | number;
  /** Enable `postcopy-ram` and switch to post-copy right after starting. Default false. */
  allowPostCopy?: boolean;
  /** `auto-converge` capability. Default true. */
  autoConverge?: boolean;
  /** Upstream's `inc` (block migration) flag; accepted for compatibility, disks are not streamed. Default true. */
  incremental?: boolean;
  /**
   * vCPUs the target QEMU was started with (its `-vmstatus` cpus, rounded up). Must equal the
   * source's `/status` `cpus.plugged` (scale-down keeps vCPUs plugged, offline in the guest, so this
   * can exceed the CPUs in use); checked when given, 409 otherwise.
   */
  targetVcpus?: number;
  /**
   * How the target receives the writable disks, as its `GET /qemu` `incomingDisks` says: the source
   * sends them that way (a QEMU 7.2 source mirrors over NBD into a QEMU 10 target). Absent: the way
   * of the source's own QEMU. A target that needs block migration from a source whose QEMU no longer
   * has it (9.1 removed it) is refused with 409, naming both versions.
   */
  targetDisks?: DiskTransport;
  /** The target's QEMU version (`GET /qemu` `qemuVersion`), for that refusal's message. */
  targetQemu?: string;
}

/**
 * How a migration's writable disks travel: `block`, QEMU's block migration inside the stream (QEMU
 * before 9.1); `nbd`, mirrors into the target's NBD exports on the migration port + 1.
 */
export type DiskTransport = 'block' | 'nbd';

/**
 * `GET /migration`, `POST /migration` and `DELETE /migration` response: upstream's
 * VirtualMachineMigration `status.info` shape, so the operator can copy it verbatim. `status` is
 * QEMU's migration status (`setup`, `active`, `postcopy-active`, `completed`, `failed`, `cancelled`),
 * or `none` when no migration ever ran on this runner.
 */
export type MigrationInfoBody = MigrationInfo;

/**
 * Who holds the guest, as one QEMU sees it (derived by `guestCustody` from {@link QemuState}'s facts):
 * - `running`: this QEMU runs the guest, and no other QEMU can (a precopy source still streaming
 *   included: the target has nothing usable until the stream completes);
 * - `paused`: this QEMU holds the whole guest but its vCPUs are stopped (switch-over, a user pause);
 * - `incoming`: a migration target whose stream has not completed: it holds nothing usable;
 * - `handed-off`: a source whose migration completed: the guest lives in the target now;
 * - `postcopy`: the guest is split between source and target (post-copy): losing either loses it;
 *   also after that migration failed (neither copy is whole; QEMU's run state may say otherwise);
 * - `stopped`: QEMU has ended the guest (shutdown, panic, internal error).
 */
export type GuestCustody = 'running' | 'paused' | 'incoming' | 'handed-off' | 'postcopy' | 'stopped';

/**
 * `GET /qemu`: what this runner's QEMU is doing, in one cheap call (two QMP queries, each bounded by
 * the runner). The operator asks both ends of a migration before it decides anything that could delete
 * the pod holding the only running guest.
 */
export interface QemuState {
  /** QEMU `query-status` status: `running`, `inmigrate`, `postmigrate`, `finish-migrate`, `paused`, ... */
  qemuStatus: string;
  /** The guest's vCPUs run (`query-status` `running`). */
  running: boolean;
  migrationRole: MigrationRole;
  /**
   * This QEMU's `query-migrate`: the outgoing migration on a source, the incoming one on a target
   * (QEMU reports the destination's state there too); `status: "none"` when there is neither.
   */
  migration: MigrationInfo;
  /** {@link guestCustody} of the above, so every reader draws the same conclusion. */
  guest: GuestCustody;
  /**
   * QEMU's `error-desc` of a failed migration (e.g. `Failed to connect to '10.244.2.2:20187':
   * Connection timed out`): the migration's failure says why, not only "QEMU migration failed".
   */
  migrationError?: string;
  /** QEMU's version (`major.minor.micro` of the QMP greeting), when it gave one. */
  qemuVersion?: string;
  /**
   * A migration target: how it receives the writable disks (it exports them over NBD exactly when its
   * QEMU has no block migration); the operator passes it on as `MigrationStartRequest.targetDisks`.
   */
  incomingDisks?: DiskTransport;
}

/** Error body of every non-2xx JSON answer. */
export interface ErrorBody {
  error: string;
}
