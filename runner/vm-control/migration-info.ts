/** `query-migrate` → upstream's VirtualMachineMigration `status.info` (pure). */
import type { MigrationInfo } from '../../crds';

/** The `query-migrate` fields we read (QEMU 7.2). */
export interface QueryMigrate {
  status?: string;
  'total-time'?: number;
  'setup-time'?: number;
  downtime?: number;
  'expected-downtime'?: number;
  ram?: { transferred?: number; remaining?: number; total?: number };
  compression?: { 'compressed-size'?: number; 'compression-rate'?: number };
  /** Block migration's progress (QEMU before 9.1). */
  disk?: { transferred?: number; remaining?: number; total?: number };
  'error-desc'?: string;
}

export function toMigrationInfo(q: QueryMigrate): MigrationInfo {
  const info: MigrationInfo = { status: q.status ?? 'none' };
  if (q['total-time'] !== undefined) info.totalTimeMs = q['total-time'];
  if (q['setup-time'] !== undefined) info.setupTimeMs = q['setup-time'];
  if (q.downtime !== undefined) info.downtimeMs = q.downtime;
  if (q.ram) info.ram = { transferred: q.ram.transferred, remaining: q.ram.remaining, total: q.ram.total };
  if (q.disk)
    info.disk = { transferred: q.disk.transferred, remaining: q.disk.remaining, total: q.disk.total };
  if (q.compression) {
    info.compression = {
      compressedSize: q.compression['compressed-size'],
      compressionRate:
        q.compression['compression-rate'] !== undefined
          ? Math.round(q.compression['compression-rate'])
          : undefined,
    };
  }
  return info;
}

export const MIGRATION_FINAL_STATES: readonly string[] = ['completed', 'failed', 'cancelled'];
export const MIGRATION_ACTIVE_STATES: readonly string[] = [
  'setup',
  'active',
  'postcopy-active',
  'postcopy-paused',
  'postcopy-recover',
  'pre-switchover',
  'device',
  'wait-unplug',
  'cancelling',
];
