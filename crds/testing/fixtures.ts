/**
 * The VirtualMachine and VirtualMachineMigration fixtures of every test: a valid object plus targeted
 * edits, so each test states only what it changes (cert-manager's `gen.CertificateFrom(...)` style).
 * Two forms: as a user writes it (`vmInput`, the input of validation and defaulting tests) and as the
 * API server stores it, defaulted by crds/ (`vmFixture`, `defaultedSpec`: what the operator and the
 * runner see).
 */
import {
  API_VERSION,
  FINALIZER,
  defaultVirtualMachine,
  defaultVirtualMachineMigration,
  type VirtualMachine,
  type VirtualMachineMigration,
  type VirtualMachineSpec,
} from '..';

export type Edit<T> = (obj: T) => void;

/** The fixtures' "now": creation timestamps and condition times are relative to it. */
export const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

/** A VirtualMachine as a user writes it (not defaulted). */
export function vmInput(...edits: Array<Edit<VirtualMachine>>): VirtualMachine {
  const vm: VirtualMachine = {
    apiVersion: API_VERSION,
    kind: 'VirtualMachine',
    metadata: { name: 'example', namespace: 'default' },
    spec: {
      guest: {
        cpus: { min: 1, max: 4, use: 2 },
        memorySlotSize: '1Gi',
        memorySlots: { min: 1, max: 4, use: 2 },
        rootDisk: { image: 'vm-postgres:15-bullseye' },
      },
    },
  };
  for (const edit of edits) edit(vm);
  return vm;
}

/** A VirtualMachineMigration as a user writes it (not defaulted). */
export function migrationInput(...edits: Array<Edit<VirtualMachineMigration>>): VirtualMachineMigration {
  const m: VirtualMachineMigration = {
    apiVersion: API_VERSION,
    kind: 'VirtualMachineMigration',
    metadata: { name: 'example', namespace: 'default' },
    spec: { vmName: 'example' },
  };
  for (const edit of edits) edit(m);
  return m;
}

/** Sets a value at a dotted path (creating objects on the way); for table-driven invalid specs. */
export function setPath(obj: unknown, path: string, value: unknown): void {
  const segs = path.split('.');
  let cur = obj as Record<string, unknown>;
  for (const seg of segs.slice(0, -1)) {
    if (typeof cur[seg] !== 'object' || cur[seg] === null) cur[seg] = {};
    cur = cur[seg] as Record<string, unknown>;
  }
  const last = segs[segs.length - 1];
  if (value === undefined) delete cur[last];
  else cur[last] = value;
}

/** A stored (defaulted) VirtualMachine `vm1` with the operator's finalizer, then the edits. */
export function vmFixture(...edits: Array<Edit<VirtualMachine>>): VirtualMachine {
  const vm = defaultVirtualMachine({
    apiVersion: API_VERSION,
    kind: 'VirtualMachine',
    metadata: {
      name: 'vm1',
      namespace: 'default',
      uid: 'uid-vm1',
      generation: 1,
      resourceVersion: '10',
      finalizers: [FINALIZER],
    },
    spec: {
      cpuScalingMode: 'QmpScaling',
      guest: {
        cpus: { min: 1, max: 4, use: 1 },
        memorySlots: { min: 1, max: 4, use: 1 },
        rootDisk: { image: 'vm-debian:latest' },
      },
    },
  });
  for (const edit of edits) edit(vm);
  return vm;
}

/** Status of a VM in `phase` (Available), plus `extra`. */
export const withPhase =
  (
    phase: NonNullable<VirtualMachine['status']>['phase'],
    extra: VirtualMachine['status'] = {},
  ): Edit<VirtualMachine> =>
  (vm) => {
    vm.status = {
      ...(vm.status ?? {}),
      conditions: [
        {
          type: 'Available',
          status: 'True',
          lastTransitionTime: '2026-01-01T00:00:00Z',
          reason: 'RunnerReady',
          message: '',
        },
      ],
      restartCount: 0,
      ...extra,
      phase,
    };
  };

export const withSpec =
  (patch: Partial<VirtualMachine['spec']>): Edit<VirtualMachine> =>
  (vm) => {
    vm.spec = { ...vm.spec, ...patch };
  };

/** A stored (defaulted) migration `mig1` of vm1, owned by it, created at T0. */
export function migrationFixture(...edits: Array<Edit<VirtualMachineMigration>>): VirtualMachineMigration {
  const m = defaultVirtualMachineMigration({
    apiVersion: API_VERSION,
    kind: 'VirtualMachineMigration',
    metadata: {
      name: 'mig1',
      namespace: 'default',
      uid: 'uid-mig1',
      generation: 1,
      resourceVersion: '20',
      creationTimestamp: new Date(T0).toISOString(),
      finalizers: [FINALIZER],
      ownerReferences: [
        { apiVersion: API_VERSION, kind: 'VirtualMachine', name: 'vm1', uid: 'uid-vm1', controller: true },
      ],
    },
    spec: { vmName: 'vm1' },
  });
  for (const edit of edits) edit(m);
  return m;
}

/**
 * Status of a migration of vm1 in `phase` from pod `src` to pod `tgt` (its target pod name and the
 * source recorded, as after its first rounds), plus `extra`.
 */
export const withMigrationPhase =
  (
    phase: NonNullable<VirtualMachineMigration['status']>['phase'],
    extra: VirtualMachineMigration['status'] = {},
  ): Edit<VirtualMachineMigration> =>
  (m) => {
    m.status = {
      conditions: [
        {
          type: 'Available',
          status: 'Unknown',
          lastTransitionTime: '2026-01-01T00:00:00Z',
          reason: 'Reconciling',
          message: '',
        },
      ],
      targetPodName: 'tgt',
      sourcePodName: 'src',
      sourcePodIP: '10.244.1.5',
      ...extra,
      phase,
    };
  };

/** Marks an object as being deleted (deletionTimestamp at `at`, default T0). */
export function deleting<T extends VirtualMachine | VirtualMachineMigration>(at = T0): Edit<T> {
  return (obj) => {
    obj.metadata = { ...(obj.metadata ?? {}), deletionTimestamp: new Date(at).toISOString() };
  };
}

/** The defaulted spec of a minimal VM with this `guest` (and other spec fields): planner tests. */
export function defaultedSpec(
  guest: Partial<VirtualMachineSpec['guest']> = {},
  extra: Partial<VirtualMachineSpec> = {},
): VirtualMachineSpec {
  return defaultVirtualMachine({
    apiVersion: API_VERSION,
    kind: 'VirtualMachine',
    metadata: { name: 'vm1' },
    spec: { guest: { rootDisk: { image: 'vm-debian:local' }, ...guest }, ...extra },
  }).spec;
}

export interface Range {
  readonly min: number;
  readonly max: number;
  readonly use: number;
}

/**
 * `spec.guest` of the small VMs the integration tests and benchmarks boot: the runner's built-in
 * Debian guest (no image pull), 256 MiB memory slots; only the CPU and memory-slot ranges vary.
 */
export function builtinGuest(
  cpus: Range = { min: 1, max: 1, use: 1 },
  memorySlots: Range = { min: 1, max: 1, use: 1 },
): Record<string, unknown> {
  return { rootDisk: { image: 'builtin' }, cpus, memorySlotSize: '256Mi', memorySlots };
}
