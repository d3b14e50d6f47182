/**
 * The runner's command line, wire-compatible with upstream's Go `flag` package: single-dash (or
 * double-dash) names, `-name=value` or `-name value`, booleans as `-name` or `-name=true|false`.
 * A dedicated parser because commander has no single-dash long options.
 */

export interface RunnerFlags {
  vmspec: string;
  vmstatus: string;
  kernelpath: string;
  /** Ours: the guest initramfs (our Debian guest kernel loads virtio drivers from it). */
  initrdpath: string;
  appendKernelCmdline: string;
  cpuScalingMode: string;
  memhpAutoMovableRatio: string;
  qemuDiskCacheSettings: string;
  skipCgroupManagement: boolean;
  useVirtioConsole: boolean;
  /** Ours: bearer token file of the runner API (else env NEONVM_RUNNER_TOKEN_FILE). */
  apiTokenFile: string;
  /** Ours: `auto` (tap when the runner owns its network namespace, else user), `tap` or `user`. */
  networkMode: string;
  /** Ours: address the API and guest ports bind to (default: env POD_IP, else 0.0.0.0). */
  podIp: string;
  /** Ours: runner state directory (sockets, console link); default <pod root>/vm/runner. */
  stateDir: string;
  /** Ours: runner API port (default spec.runnerPort). */
  apiPort: number;
  /** Ours: root disk to overlay instead of using /vm/images/rootdisk.qcow2 in place (`builtin`: the runner's guest). */
  rootDiskBase: string;
  /**
   * Ours: directory of the migration TLS credentials in QEMU's layout (ca-cert.pem,
   * server-cert.pem/-key.pem, client-cert.pem/-key.pem); empty: plaintext migration.
   */
  migrationTlsDir: string;
  /** Ours: the name both ends' certificate carries (DNS SAN and CN); required with the dir. */
  migrationTlsHostname: string;
  /** Ours: migration tuning, the same on both ends (runner/plan/migration-tuning.ts). */
  migrationXbzrle: boolean;
  /** Quantity, e.g. `256Mi`. */
  migrationXbzrleCacheSize: string;
  migrationCompression: string;
  migrationThreads: number;
  migrationZeroBlocks: boolean;
  /** QEMU `downtime-limit`, ms. */
  migrationDowntimeLimit: number;
}

import { DEFAULT_MIGRATION_TUNING } from '../plan/migration-tuning';

type Kind = 'string' | 'bool' | 'int';
const FLAGS: Readonly<Record<string, { key: keyof RunnerFlags; kind: Kind }>> = {
  vmspec: { key: 'vmspec', kind: 'string' },
  vmstatus: { key: 'vmstatus', kind: 'string' },
  kernelpath: { key: 'kernelpath', kind: 'string' },
  initrdpath: { key: 'initrdpath', kind: 'string' },
  appendKernelCmdline: { key: 'appendKernelCmdline', kind: 'string' },
  'cpu-scaling-mode': { key: 'cpuScalingMode', kind: 'string' },
  'memhp-auto-movable-ratio': { key: 'memhpAutoMovableRatio', kind: 'string' },
  'qemu-disk-cache-settings': { key: 'qemuDiskCacheSettings', kind: 'string' },
  'skip-cgroup-management': { key: 'skipCgroupManagement', kind: 'bool' },
  'use-virtio-console': { key: 'useVirtioConsole', kind: 'bool' },
  'api-token-file': { key: 'apiTokenFile', kind: 'string' },
  'network-mode': { key: 'networkMode', kind: 'string' },
  'pod-ip': { key: 'podIp', kind: 'string' },
  'state-dir': { key: 'stateDir', kind: 'string' },
  'api-port': { key: 'apiPort', kind: 'int' },
  'rootdisk-base': { key: 'rootDiskBase', kind: 'string' },
  'migration-tls-dir': { key: 'migrationTlsDir', kind: 'string' },
  'migration-tls-hostname': { key: 'migrationTlsHostname', kind: 'string' },
  'migration-xbzrle': { key: 'migrationXbzrle', kind: 'bool' },
  'migration-xbzrle-cache-size': { key: 'migrationXbzrleCacheSize', kind: 'string' },
  'migration-compression': { key: 'migrationCompression', kind: 'string' },
  'migration-threads': { key: 'migrationThreads', kind: 'int' },
  'migration-zero-blocks': { key: 'migrationZeroBlocks', kind: 'bool' },
  'migration-downtime-limit': { key: 'migrationDowntimeLimit', kind: 'int' },
};

export const DEFAULT_FLAGS: Readonly<RunnerFlags> = {
  vmspec: '',
  vmstatus: '',
  kernelpath: '/vm/kernel/vmlinuz',
  initrdpath: '',
  appendKernelCmdline: '',
  cpuScalingMode: '',
  memhpAutoMovableRatio: '',
  qemuDiskCacheSettings: 'cache=none',
  skipCgroupManagement: false,
  useVirtioConsole: false,
  apiTokenFile: '',
  networkMode: 'auto',
  podIp: '',
  stateDir: '',
  apiPort: 0,
  rootDiskBase: '',
  migrationTlsDir: '',
  migrationTlsHostname: '',
  migrationXbzrle: DEFAULT_MIGRATION_TUNING.xbzrle,
  migrationXbzrleCacheSize: String(DEFAULT_MIGRATION_TUNING.xbzrleCacheBytes),
  migrationCompression: DEFAULT_MIGRATION_TUNING.compression,
  migrationThreads: DEFAULT_MIGRATION_TUNING.threads,
  migrationZeroBlocks: DEFAULT_MIGRATION_TUNING.zeroBlocks,
  migrationDowntimeLimit: DEFAULT_MIGRATION_TUNING.downtimeLimitMs,
};

export class FlagError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FlagError';
  }
}

function parseBool(name: string, v: string): boolean {
  // Go's strconv.ParseBool
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw new FlagError(`invalid boolean value "${v}" for -${name}`);
}

export function parseRunnerFlags(argv: readonly string[]): RunnerFlags {
  const out: RunnerFlags = { ...DEFAULT_FLAGS };
  const set = out as unknown as Record<string, string | boolean | number>;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') break; // Go stops at "--"; nothing positional is accepted after it either
    const m = /^--?([^=]+)(?:=([\s\S]*))?$/.exec(arg);
    if (!m) throw new FlagError(`unexpected argument "${arg}"`);
    const [, name, inline] = m;
    const def = FLAGS[name];
    if (!def) throw new FlagError(`flag provided but not defined: -${name}`);
    if (def.kind === 'bool') {
      set[def.key] = inline === undefined ? true : parseBool(name, inline);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: -${name}`);
      value = argv[++i];
    }
    if (def.kind === 'int') {
      if (!/^\d+$/.test(value)) throw new FlagError(`invalid value "${value}" for -${name}: not an integer`);
      set[def.key] = Number(value);
    } else set[def.key] = value;
  }
  return out;
}
