/** Return types of the QMP commands the runner uses (QEMU 7.2 schema, fields we read). */

export interface CpuInstanceProperties {
  readonly 'node-id'?: number;
  readonly 'socket-id'?: number;
  readonly 'die-id'?: number;
  readonly 'core-id'?: number;
  readonly 'thread-id'?: number;
}

/** `query-hotpluggable-cpus` entry: plugged when qom-path is set. */
export interface HotpluggableCpu {
  readonly type: string;
  readonly 'vcpus-count': number;
  readonly props: CpuInstanceProperties;
  readonly 'qom-path'?: string;
}

/** `query-cpus-fast` entry. */
export interface CpuInfoFast {
  readonly 'cpu-index': number;
  readonly 'qom-path': string;
  readonly 'thread-id': number;
  readonly props?: CpuInstanceProperties;
  readonly target: string;
}

/** `query-memory-size-summary`. */
export interface MemorySizeSummary {
  readonly 'base-memory': number;
  readonly 'plugged-memory'?: number;
}

/** `query-status`. */
export interface StatusInfo {
  readonly running: boolean;
  readonly status: string;
  readonly singlestep?: boolean;
}

/** `query-kvm`. */
export interface KvmInfo {
  readonly enabled: boolean;
  readonly present: boolean;
}
