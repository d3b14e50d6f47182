/**
 * What the runner API needs from the VM. The HTTP layer depends on this interface only, so its
 * handlers are unit-tested against a fake; runner/vm-control/qemu-vm.ts is the real implementation.
 * Methods throw VmError (with the HTTP status) for anything the caller should see.
 */
import type { MigrationInfo } from '../../crds';
import type { MemoryState, QemuState, RunnerStatus, SwapState } from '../api';
import type { ValidMigrationRequest } from './migration';

export interface Readiness {
  ready: boolean;
  reason: string;
}

export interface VmController {
  readiness(): Readiness;
  setCpu(milli: number): Promise<void>;
  getCpu(): Promise<number>;
  setMemory(slots: number): Promise<MemoryState>;
  getMemory(): Promise<MemoryState>;
  setSwap(sizeBytes: number): Promise<SwapState>;
  getSwap(): Promise<SwapState>;
  status(): Promise<RunnerStatus>;
  startMigration(req: ValidMigrationRequest): Promise<MigrationInfo>;
  migration(): Promise<MigrationInfo>;
  cancelMigration(): Promise<MigrationInfo>;
  /** `GET /qemu`: run state, this QEMU's migration and who holds the guest; bounded in time. */
  qemuState(): Promise<QemuState>;
}
