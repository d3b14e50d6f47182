/**
 * The source runner's `POST /migration` body for a VirtualMachineMigration (pure): the spec's choices,
 * the target pod's stream address, and how the target takes the disks as its runner reported it
 * (`GET /qemu`), so runner images with different QEMUs can migrate between each other during a rollout
 * (runner/README.md, "Mixed QEMU versions").
 */
import { MIGRATION_PORT, type VirtualMachineMigration } from '../../crds';
import type { MigrationStartRequest } from '../../runner/api';
import type { QemuObservation } from './guest-whereabouts';

export function migrationStartRequest(
  m: VirtualMachineMigration,
  targetPodIP: string,
  target: QemuObservation | undefined,
): MigrationStartRequest {
  const report = target && !('error' in target) ? target : undefined;
  return {
    targetHost: targetPodIP,
    targetPort: MIGRATION_PORT,
    maxBandwidth: m.spec.maxBandwidth,
    allowPostCopy: m.spec.allowPostCopy,
    autoConverge: m.spec.autoConverge,
    incremental: m.spec.incremental,
    ...(report?.incomingDisks ? { targetDisks: report.incomingDisks } : {}),
    ...(report?.qemuVersion ? { targetQemu: report.qemuVersion } : {}),
  };
}
