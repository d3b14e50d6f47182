/** Group, version and names of the NeonVM kinds: the identities every other module refers to. */
import type { TSchema } from '@sinclair/typebox';
import { VirtualMachineSchema } from './schema/virtual-machine';
import { VirtualMachineMigrationSchema } from './schema/virtual-machine-migration';
import { IpPoolSchema } from './schema/ip-pool';

export const GROUP = 'vm.neon.tech';
export const VERSION = 'v1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export interface KindInfo {
  readonly kind: string;
  readonly listKind: string;
  readonly plural: string;
  /** Upstream uses the singular names `neonvm`/`neonvmm` for `kubectl get`; it declares no shortNames. */
  readonly singular: string;
  readonly schema: TSchema;
  readonly hasStatus: boolean;
}

export const VIRTUAL_MACHINE: KindInfo = {
  kind: 'VirtualMachine',
  listKind: 'VirtualMachineList',
  plural: 'virtualmachines',
  singular: 'neonvm',
  schema: VirtualMachineSchema,
  hasStatus: true,
};

export const VIRTUAL_MACHINE_MIGRATION: KindInfo = {
  kind: 'VirtualMachineMigration',
  listKind: 'VirtualMachineMigrationList',
  plural: 'virtualmachinemigrations',
  singular: 'neonvmm',
  schema: VirtualMachineMigrationSchema,
  hasStatus: true,
};

export const IP_POOL: KindInfo = {
  kind: 'IPPool',
  listKind: 'IPPoolList',
  plural: 'ippools',
  singular: 'ippool',
  schema: IpPoolSchema,
  hasStatus: false,
};

export const NEONVM_KINDS: readonly KindInfo[] = [VIRTUAL_MACHINE, VIRTUAL_MACHINE_MIGRATION, IP_POOL];

export function kindInfo(kind: string): KindInfo | undefined {
  return NEONVM_KINDS.find((k) => k.kind === kind);
}

/** Labels, annotations and finalizers that form the contract between operator, runner and tools. */
export const LABEL_VM_NAME = 'vm.neon.tech/name';
export const LABEL_APP_NAME = 'app.kubernetes.io/name';
/** LABEL_APP_NAME of every runner pod (what the install's NetworkPolicy selects). */
export const RUNNER_APP_NAME = 'NeonVM';
/** On the operator's spec.tls objects (key Secret, TLS Secret, CertificateRequest): the VM's name. */
export const LABEL_TLS_FOR_VM = 'vm.neon.tech/tls-for-vm';
export const ANNOTATION_USAGE = 'vm.neon.tech/usage';
export const ANNOTATION_RESOURCES = 'vm.neon.tech/resources';
export const ANNOTATION_OVERCOMMIT = 'vm.neon.tech/overcommit';
export const ANNOTATION_MULTUS_NETWORKS = 'k8s.v1.cni.cncf.io/networks';
export const ANNOTATION_DEFAULT_CONTAINER = 'kubectl.kubernetes.io/default-container';
export const FINALIZER = 'vm.neon.tech/finalizer';
export const RUNNER_CONTAINER_NAME = 'neonvm-runner';
/** QEMU migration stream port on the target runner. */
export const MIGRATION_PORT = 20187;
/**
 * The target runner's NBD port for a migration whose RAM stream goes to `migrationPort`: QEMU 9.1
 * removed block migration, so the writable disks travel over NBD beside the stream
 * (runner/vm-control/migration-disks.ts). Derived, never configured apart: the pod's ports, the runner
 * NetworkPolicy and both runners name it through this.
 */
export function migrationDiskPort(migrationPort: number): number {
  return migrationPort + 1;
}
/** {@link migrationDiskPort} of {@link MIGRATION_PORT} (20188). */
export const MIGRATION_DISK_PORT = migrationDiskPort(MIGRATION_PORT);
/** Default `spec.runnerPort` (runner HTTP API), `spec.qmp` and `spec.qmpManual` (upstream's). */
export const DEFAULT_RUNNER_PORT = 25183;
export const DEFAULT_QMP_PORT = 20183;
export const DEFAULT_QMP_MANUAL_PORT = 20184;
