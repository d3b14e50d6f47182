/**
 * From flags and environment to the runner's configuration: decodes `-vmspec`/`-vmstatus`, applies
 * the crds/ defaults and validation (never re-implemented here), resolves pod paths. Pure.
 */
import {
  decodeGzipBase64,
  defaultVirtualMachine,
  quantityBytes,
  validateVirtualMachine,
  type VirtualMachine,
  type VirtualMachineSpec,
  type VirtualMachineStatus,
} from '../../crds';
import { TOKEN_FILE_ENV, DEFAULT_TOKEN_FILE, RUNNER_API_PORT } from '../api';
import { BUILTIN_ROOT_DISK } from '../plan/disks';
import {
  checkMigrationTuning,
  type MigrationCompression,
  type MigrationTuning,
} from '../plan/migration-tuning';
import { inPod, podPaths, POD_ROOT_ENV, type PodPaths } from '../plan/pod-paths';
import { vmShape, type VmShape } from '../plan/vm-shape';
import type { MigrationTls } from '../vm-control/migration';
import type { RunnerFlags } from './flags';

export interface RunnerConfig {
  readonly spec: VirtualMachineSpec;
  readonly status?: VirtualMachineStatus;
  readonly shape: VmShape;
  readonly podName: string;
  readonly receiveMigration: boolean;
  readonly paths: PodPaths;
  /** Pod-root-resolved; may not exist (then the built-in guest kernel is used). */
  readonly kernelPath: string;
  readonly initrdPath?: string;
  readonly appendKernelCmdline?: string;
  readonly memhpAutoMovableRatio: string;
  readonly diskCacheSettings: string;
  readonly useVirtioConsole: boolean;
  readonly tokenFile: string;
  readonly networkMode: 'auto' | 'tap' | 'user';
  readonly podIp: string;
  readonly apiPort: number;
  /** `-rootdisk-base`: overlay this qcow2 (pod-root-resolved) or BUILTIN_ROOT_DISK; else /vm/images/rootdisk.qcow2. */
  readonly rootDiskBase?: string;
  /** Put QEMU in a CPU cgroup limited to `cpus.use` (off with `-skip-cgroup-management`). */
  readonly manageCgroup: boolean;
  /** Migration stream over TLS with these credentials (both ends); absent: plaintext. */
  readonly migrationTls?: MigrationTls;
  /** QEMU migration capabilities/parameters both ends set (`-migration-*`). */
  readonly migrationTuning: MigrationTuning;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function decode<T>(flag: string, value: string): T {
  try {
    return decodeGzipBase64<T>(value);
  } catch (e) {
    throw new ConfigError(`-${flag}: not gzip+base64 JSON: ${(e as Error).message}`);
  }
}

export function resolveRunnerConfig(
  flags: RunnerFlags,
  env: Readonly<Record<string, string | undefined>>,
): RunnerConfig {
  if (!flags.vmspec) throw new ConfigError('-vmspec is required');
  const rawSpec = decode<VirtualMachineSpec>('vmspec', flags.vmspec);
  const status = flags.vmstatus ? decode<VirtualMachineStatus>('vmstatus', flags.vmstatus) : undefined;
  const podName = env.K8S_POD_NAME || env.HOSTNAME || 'neonvm';
  const vm: VirtualMachine = defaultVirtualMachine({
    metadata: { name: podName.slice(0, 63) },
    spec: rawSpec,
  });
  const errors = validateVirtualMachine(vm);
  if (errors.length) {
    throw new ConfigError(`invalid -vmspec:\n${errors.map((e) => `  ${e.path}: ${e.message}`).join('\n')}`);
  }
  const spec = vm.spec;
  if (flags.cpuScalingMode && spec.cpuScalingMode && flags.cpuScalingMode !== spec.cpuScalingMode) {
    throw new ConfigError(
      `-cpu-scaling-mode=${flags.cpuScalingMode} contradicts spec.cpuScalingMode=${spec.cpuScalingMode}`,
    );
  }
  let shape: VmShape;
  try {
    shape = vmShape(spec, status, flags.cpuScalingMode || undefined);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  // The VM's own setting wins over the operator-wide flag (upstream: the controller picks it the same way).
  const ratio = spec.guest.memhpAutoMovableRatio || flags.memhpAutoMovableRatio;
  if (!ratio)
    throw new ConfigError('-memhp-auto-movable-ratio is required (or spec.guest.memhpAutoMovableRatio)');
  if (!['auto', 'tap', 'user'].includes(flags.networkMode)) {
    throw new ConfigError(`-network-mode must be auto, tap or user, not "${flags.networkMode}"`);
  }
  if (!flags.migrationTlsDir !== !flags.migrationTlsHostname)
    throw new ConfigError('-migration-tls-dir and -migration-tls-hostname go together');
  const migrationTuning = resolveMigrationTuning(flags);
  const root = env[POD_ROOT_ENV] || '/';
  return {
    spec,
    status,
    shape,
    podName,
    receiveMigration: env.RECEIVE_MIGRATION === 'true',
    paths: podPaths(root, flags.stateDir || undefined),
    kernelPath: inPod(root, flags.kernelpath),
    initrdPath: flags.initrdpath ? inPod(root, flags.initrdpath) : undefined,
    appendKernelCmdline: flags.appendKernelCmdline || spec.guest.appendKernelCmdline || undefined,
    memhpAutoMovableRatio: ratio,
    diskCacheSettings: flags.qemuDiskCacheSettings,
    useVirtioConsole: flags.useVirtioConsole,
    // a pod path, like every other path the runner is given
    tokenFile: inPod(root, flags.apiTokenFile || env[TOKEN_FILE_ENV] || DEFAULT_TOKEN_FILE),
    networkMode: flags.networkMode as RunnerConfig['networkMode'],
    podIp: flags.podIp || env.POD_IP || '0.0.0.0',
    apiPort: flags.apiPort || spec.runnerPort || RUNNER_API_PORT,
    rootDiskBase:
      flags.rootDiskBase === BUILTIN_ROOT_DISK
        ? BUILTIN_ROOT_DISK
        : flags.rootDiskBase
          ? inPod(root, flags.rootDiskBase)
          : undefined,
    manageCgroup: !flags.skipCgroupManagement,
    ...(flags.migrationTlsDir
      ? {
          migrationTls: {
            dir: inPod(root, flags.migrationTlsDir),
            hostname: flags.migrationTlsHostname,
          },
        }
      : {}),
    migrationTuning,
  };
}

function resolveMigrationTuning(flags: RunnerFlags): MigrationTuning {
  let cache: bigint;
  try {
    cache = quantityBytes(flags.migrationXbzrleCacheSize);
  } catch (e) {
    throw new ConfigError(`-migration-xbzrle-cache-size: ${(e as Error).message}`);
  }
  const tuning: MigrationTuning = {
    xbzrle: flags.migrationXbzrle,
    xbzrleCacheBytes: Number(cache),
    compression: flags.migrationCompression as MigrationCompression,
    threads: flags.migrationThreads,
    zeroBlocks: flags.migrationZeroBlocks,
    downtimeLimitMs: flags.migrationDowntimeLimit,
  };
  const errors = checkMigrationTuning(tuning);
  if (errors.length) throw new ConfigError(errors.join('; '));
  return tuning;
}
