/**
 * How to start a runner: the container command line and environment the operator puts in the
 * runner pod, so flag names and encodings live next to the rest of the contract.
 */
import {
  encodeGzipBase64,
  type CpuScalingMode,
  type VirtualMachineSpec,
  type VirtualMachineStatus,
} from '../../crds';
import { TOKEN_FILE_FLAG } from './auth';
import { MIGRATION_TLS_DIR_FLAG, MIGRATION_TLS_HOSTNAME_FLAG } from './migration-tls';

/** Environment variables the runner reads (set them in the runner container). */
export const RUNNER_ENV = {
  /** Pod name (downward API `metadata.name`); the guest hostname is `vm-<pod>`. */
  podName: 'K8S_POD_NAME',
  /** Pod IP (downward API `status.podIP`): API, guest ports and migration stream bind here. */
  podIp: 'POD_IP',
  /** `true` on a migration target. */
  receiveMigration: 'RECEIVE_MIGRATION',
  /** Local cluster only: the pod's filesystem root on the host (real containers: unset). */
  podRoot: 'NEONVM_POD_ROOT',
  /** Alternative to the `-api-token-file` flag. */
  tokenFile: 'NEONVM_RUNNER_TOKEN_FILE',
} as const;

/** `-migration-compression` values (runner/plan/migration-tuning.ts says what each sets in QEMU). */
export const MIGRATION_COMPRESSIONS = [
  'none',
  'compress',
  'multifd',
  'multifd-zlib',
  'multifd-zstd',
] as const;
export type MigrationCompression = (typeof MIGRATION_COMPRESSIONS)[number];

/** QEMU 7.2's bound of `downtime-limit` (MAX_MIGRATE_DOWNTIME_SECONDS, in ms). */
export const MAX_DOWNTIME_LIMIT_MS = 2_000_000;

/**
 * Live-migration tuning of a runner (`-migration-*` flags). Source and target runner of a migration
 * must have the same; unset fields keep the runner's defaults (no tuning).
 */
export interface RunnerMigrationTuning {
  /** `-migration-xbzrle`: XOR-delta encoding of pages dirtied again. */
  readonly xbzrle?: boolean;
  /** `-migration-xbzrle-cache-size`: quantity, e.g. `256Mi` (upstream's value). */
  readonly xbzrleCacheSize?: string;
  readonly compression?: MigrationCompression;
  /** `-migration-threads`: compression threads or multifd channels. */
  readonly threads?: number;
  /** `-migration-zero-blocks`: block migration skips zero blocks. */
  readonly zeroBlocks?: boolean;
  /** `-migration-downtime-limit`: QEMU's `downtime-limit` on the source, ms. */
  readonly downtimeLimitMs?: number;
}

/** The runner flags of a migration tuning (only what is set). */
export function migrationTuningArgs(t: RunnerMigrationTuning): string[] {
  const args: string[] = [];
  if (t.xbzrle !== undefined) args.push(`-migration-xbzrle=${t.xbzrle}`);
  if (t.xbzrleCacheSize !== undefined) args.push(`-migration-xbzrle-cache-size=${t.xbzrleCacheSize}`);
  if (t.compression !== undefined) args.push(`-migration-compression=${t.compression}`);
  if (t.threads !== undefined) args.push(`-migration-threads=${t.threads}`);
  if (t.zeroBlocks !== undefined) args.push(`-migration-zero-blocks=${t.zeroBlocks}`);
  if (t.downtimeLimitMs !== undefined) args.push(`-migration-downtime-limit=${t.downtimeLimitMs}`);
  return args;
}

export interface RunnerArgsInput {
  spec: VirtualMachineSpec;
  status?: VirtualMachineStatus;
  cpuScalingMode: CpuScalingMode;
  memhpAutoMovableRatio: string;
  /** Pod path of the kernel (e.g. copied by an init container from `spec.guest.kernelImage`). */
  kernelPath?: string;
  appendKernelCmdline?: string;
  diskCacheSettings?: string;
  /** Pod path of the mounted token Secret key. */
  tokenFile?: string;
  /** Encrypt the migration stream with the VM's credentials (dir: pod path; see migration-tls.ts). */
  migrationTls?: { dir: string; hostname: string };
  migrationTuning?: RunnerMigrationTuning;
}

/** Arguments after the runner binary, in upstream's single-dash form. */
export function runnerArgs(i: RunnerArgsInput): string[] {
  const args = [`-vmspec=${encodeGzipBase64(i.spec)}`];
  if (i.status) args.push(`-vmstatus=${encodeGzipBase64(i.status)}`);
  args.push(`-cpu-scaling-mode=${i.cpuScalingMode}`, `-memhp-auto-movable-ratio=${i.memhpAutoMovableRatio}`);
  if (i.kernelPath) args.push(`-kernelpath=${i.kernelPath}`);
  if (i.appendKernelCmdline) args.push(`-appendKernelCmdline=${i.appendKernelCmdline}`);
  if (i.diskCacheSettings) args.push(`-qemu-disk-cache-settings=${i.diskCacheSettings}`);
  if (i.tokenFile) args.push(`-${TOKEN_FILE_FLAG}=${i.tokenFile}`);
  if (i.migrationTls)
    args.push(
      `-${MIGRATION_TLS_DIR_FLAG}=${i.migrationTls.dir}`,
      `-${MIGRATION_TLS_HOSTNAME_FLAG}=${i.migrationTls.hostname}`,
    );
  if (i.migrationTuning) args.push(...migrationTuningArgs(i.migrationTuning));
  return args;
}
