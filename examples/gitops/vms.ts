/**
 * The VMs of the GitOps example: the seed's hot-plug VM on the Debian guest image (room to scale CPUs
 * and memory from git or from an autoscaler), as a cdk8s chart per VM.
 */
import { Chart, Size, type App } from 'cdk8s';
import { SyncWave, VirtualMachine, VirtualMachineMigration } from '../../constructs';

export interface ExampleVmOptions {
  /** @default 'example' */
  readonly name?: string;
  /** @default 1 */
  readonly cpusUse?: number;
  /** @default 3 */
  readonly cpusMax?: number;
  /** @default 1 */
  readonly memorySlotsUse?: number;
  /** @default DEBIAN_GUEST_IMAGE */
  readonly image?: string;
  /** @default - the API's (Always) */
  readonly restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export const DEBIAN_GUEST_IMAGE = 'neondatabase/vm-debian:11';

export function addExampleVm(app: App, namespace: string, options: ExampleVmOptions = {}): VirtualMachine {
  const name = options.name ?? 'example';
  return new VirtualMachine(new Chart(app, name, { namespace }), name, {
    metadata: {
      name,
      ...(options.labels ? { labels: { ...options.labels } } : {}),
      ...(options.annotations ? { annotations: { ...options.annotations } } : {}),
    },
    cpus: { min: 1, max: options.cpusMax ?? 3, use: options.cpusUse ?? 1 },
    memory: { slotSize: Size.mebibytes(512), min: 1, max: 3, use: options.memorySlotsUse ?? 1 },
    rootDisk: { image: options.image ?? DEBIAN_GUEST_IMAGE, size: Size.gibibytes(2) },
    ...(options.restartPolicy ? { restartPolicy: options.restartPolicy } : {}),
    syncWave: SyncWave.VIRTUAL_MACHINES,
  });
}

/** A live migration of `vm` (wave 1: after the VMs), in its own chart. */
export function addExampleMigration(app: App, namespace: string, vm: string, name = `${vm}-migration`): void {
  new VirtualMachineMigration(new Chart(app, name, { namespace }), 'migration', {
    metadata: { name },
    vm,
    syncWave: SyncWave.MIGRATIONS,
  });
}
