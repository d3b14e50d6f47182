/** Operator-wide settings that shape every runner pod (upstream's controller flags and env). */
import type { CpuScalingMode } from '../../crds';
import type { RunnerMigrationTuning } from '../../runner/api';

export interface RunnerPodConfig {
  /** Default runner image (upstream env VM_RUNNER_IMAGE); `spec.runnerImage` overrides it. */
  readonly runnerImage: string;
  /** Do not mount /sys/fs/cgroup and pass `-skip-cgroup-management` (upstream `--disable-runner-cgroup`). */
  readonly disableRunnerCgroup: boolean;
  readonly useVirtioConsole: boolean;
  readonly qemuDiskCacheSettings: string;
  readonly memhpAutoMovableRatio: string;
  /** Used when a VM has no `spec.cpuScalingMode` yet (the controller also writes it into the spec). */
  readonly defaultCpuScalingMode: CpuScalingMode;
  /** `namespace/name` of the default Multus NetworkAttachmentDefinition (NAD_RUNNER_NAMESPACE/NAME). */
  readonly defaultMultusNetwork?: string;
  /** Request `neonvm/kvm` and `neonvm/vhost-net` extended resources (needs the device plugin). */
  readonly devicePluginResources: boolean;
  /** New runner pods encrypt migrations with per-VM certificates from the operator's CA (`--migration-tls`). */
  readonly migrationTls: boolean;
  /**
   * Live-migration tuning of every runner (`-migration-*`; source and target must match, hence
   * operator-wide). Unset: the runner's defaults (no xbzrle, compression or multifd).
   */
  readonly migrationTuning?: RunnerMigrationTuning;
}

export const DEFAULT_RUNNER_POD_CONFIG: RunnerPodConfig = {
  runnerImage: 'neonvm-runner:latest',
  disableRunnerCgroup: false,
  useVirtioConsole: false,
  qemuDiskCacheSettings: 'cache=none',
  memhpAutoMovableRatio: '301',
  defaultCpuScalingMode: 'QmpScaling',
  devicePluginResources: true,
  migrationTls: true,
};
