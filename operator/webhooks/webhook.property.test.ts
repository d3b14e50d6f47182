/**
 * Property-based tests (fast-check) of the admission webhooks with random specs: a valid VM with random
 * values put at the fields users write (and wholly random objects), on CREATE and UPDATE. Whatever
 * arrives, the handlers answer (never throw: a throw would be an HTTP 500, and with
 * `failurePolicy: Fail` every VM write of the cluster would be refused), and every refusal names a
 * field path and a rule for each problem.
 */
import fc from 'fast-check';
import { API_VERSION } from '../../crds';
import type { AdmissionRequest, AdmissionResponse } from './admission-review';
import {
  mutateVirtualMachine,
  mutateVirtualMachineMigration,
  validateVirtualMachineHandler,
  validateVirtualMachineMigrationHandler,
} from './handlers';

const base = () => ({
  apiVersion: API_VERSION,
  kind: 'VirtualMachine',
  metadata: { name: 'vm', namespace: 'ns' },
  spec: {
    guest: {
      cpus: { min: 1, max: 4, use: 1 },
      memorySlotSize: '1Gi',
      memorySlots: { min: 1, max: 4, use: 1 },
      rootDisk: { image: 'img', size: '2Gi' },
    },
  },
});

/** Fields users write, as paths from the object root. */
const PATHS = [
  'spec.guest.cpus.min',
  'spec.guest.cpus.max',
  'spec.guest.cpus.use',
  'spec.guest.cpus',
  'spec.guest.memorySlotSize',
  'spec.guest.memorySlots.use',
  'spec.guest.memorySlots.max',
  'spec.guest.memorySlots',
  'spec.guest.rootDisk.image',
  'spec.guest.rootDisk.size',
  'spec.guest.rootDisk',
  'spec.guest.kernelImage',
  'spec.guest.ports',
  'spec.guest.args',
  'spec.guest.env',
  'spec.guest',
  'spec.disks',
  'spec.runnerImage',
  'spec.initScript',
  'spec.extraInitContainers',
  'spec.podResources',
  'spec.tls',
  'spec.tls.mountPath',
  'spec.restartPolicy',
  'spec.extraNetwork',
  'spec.nodeSelector',
  'spec.cpuScalingMode',
  'spec.targetArchitecture',
  'spec',
] as const;

const quantityish = fc.oneof(
  fc.constantFrom('1Gi', '512Mi', '-1', '0', '1e3', '1e999999999', '0.5', '250m', '', ' ', 'Gi', '1.5Gi'),
  fc.integer(),
  fc.double(),
);
const value = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  quantityish,
  fc.string(),
  fc.array(
    fc.record({ name: fc.string(), mountPath: fc.string(), image: fc.string() }, { noNullPrototype: true }),
    {
      maxLength: 3,
    },
  ),
  fc.constantFrom(null, undefined, true, {}, [], '../../etc', '/', 'privileged'),
);

function setPath(obj: Record<string, unknown>, path: string, v: unknown): void {
  const keys = path.split('.');
  let at: Record<string, unknown> = obj;
  for (const k of keys.slice(0, -1)) {
    const next = at[k];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) at[k] = {};
    at = at[k] as Record<string, unknown>;
  }
  // A copy: the same generated value set at two paths would make the object cyclic (JSON never is).
  at[keys[keys.length - 1]] = v === undefined ? undefined : structuredClone(v);
}

/** A valid VM with 1-4 random JSON values at user-written fields, or a wholly random spec. */
const randomVm = fc
  .oneof(
    {
      weight: 4,
      arbitrary: fc.array(fc.tuple(fc.constantFrom(...PATHS), value), { minLength: 1, maxLength: 4 }),
    },
    { weight: 1, arbitrary: fc.anything({ maxDepth: 4 }) },
  )
  .map((edits) => {
    if (
      !Array.isArray(edits) ||
      !edits.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string')
    )
      return edits as unknown;
    const vm = base() as unknown as Record<string, unknown>;
    for (const [path, v] of edits as Array<[string, unknown]>) setPath(vm, path, v);
    return vm;
  });

const request = (
  operation: AdmissionRequest['operation'],
  object: unknown,
  oldObject?: unknown,
): AdmissionRequest => ({
  uid: 'u-1',
  kind: { group: 'vm.neon.tech', version: 'v1', kind: 'VirtualMachine' },
  name: 'vm',
  namespace: 'ns',
  operation,
  object,
  oldObject,
});

/** A refusal lists every problem as a cause with a field path and a rule. */
function checkAnswer(res: AdmissionResponse): void {
  expect(res.uid).toBe('u-1');
  if (res.allowed) return;
  const causes = res.status?.details?.causes ?? [];
  expect(res.status?.code).toBe(422);
  expect(causes.length).toBeGreaterThan(0);
  // The handler's last-resort answer for a validator that threw: a bug of the validators, found here.
  expect(causes.filter((c) => c.reason === 'malformed')).toEqual([]);
  for (const c of causes) {
    expect(typeof c.field).toBe('string');
    expect(typeof c.reason).toBe('string');
    expect(c.reason?.length).toBeGreaterThan(0);
    expect(typeof c.message).toBe('string');
  }
  // A problem of the object as a whole is reported at the root (''); every other path names a field:
  // a known top-level one, or an unknown top-level key in brackets, as Kubernetes writes map keys
  // (`[]` for the empty key fast-check found on 2026-12-04).
  expect(
    causes.every(
      (c) => c.field === '' || /^((spec|metadata|apiVersion|kind|status)\b|\[)/.test(c.field ?? ''),
    ),
  ).toBe(true);
}

describe('admission webhooks with random specs (property-based)', () => {
  const validate = validateVirtualMachineHandler();
  const validateMigration = validateVirtualMachineMigrationHandler();

  it('VM CREATE: mutation and validation never throw; every refusal names field and rule', () => {
    fc.assert(
      fc.property(randomVm, (vm) => {
        const mutated = mutateVirtualMachine(request('CREATE', vm));
        expect(mutated.uid).toBe('u-1');
        expect(mutated.allowed).toBe(true);
        checkAnswer(validate(request('CREATE', vm)));
      }),
      { numRuns: 400 },
    );
  });

  it('VM UPDATE between two random objects: never throws; refusals name field and rule', () => {
    fc.assert(
      fc.property(randomVm, randomVm, (old, vm) => {
        expect(mutateVirtualMachine(request('UPDATE', vm, old)).allowed).toBe(true);
        checkAnswer(validate(request('UPDATE', vm, old)));
      }),
      { numRuns: 300 },
    );
  });

  it('the valid base VM is admitted, and an unchanged object being deleted is never refused', () => {
    expect(validate(request('CREATE', base())).allowed).toBe(true);
    fc.assert(
      fc.property(randomVm, (vm) => {
        if (typeof vm !== 'object' || vm === null || Array.isArray(vm)) return;
        const deleting = {
          ...(vm as Record<string, unknown>),
          metadata: { name: 'vm', deletionTimestamp: '2026-12-04T00:00:00Z' },
        };
        expect(validate(request('UPDATE', deleting, deleting)).allowed).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('migration CREATE/UPDATE with random specs: never throws; refusals name field and rule', () => {
    const spec = fc.record(
      {
        vmName: fc.oneof(fc.string(), value),
        maxBandwidth: quantityish,
        completionTimeout: fc.oneof(fc.integer(), value),
        allowPostCopy: fc.oneof(fc.boolean(), value),
      },
      { requiredKeys: [], noNullPrototype: true },
    );
    const migration = fc.oneof(
      {
        weight: 1,
        arbitrary: fc.jsonValue({ maxDepth: 3 }).map((junk) => ({
          apiVersion: API_VERSION,
          kind: 'VirtualMachineMigration',
          metadata: { name: 'm' },
          spec: junk,
        })),
      },
      {
        weight: 4,
        arbitrary: spec.map((s) => ({
          apiVersion: API_VERSION,
          kind: 'VirtualMachineMigration',
          metadata: { name: 'm' },
          spec: s,
        })),
      },
    );
    fc.assert(
      fc.property(migration, migration, (old, m) => {
        expect(mutateVirtualMachineMigration(request('CREATE', m)).allowed).toBe(true);
        checkAnswer(validateMigration(request('CREATE', m)));
        checkAnswer(validateMigration(request('UPDATE', m, old)));
      }),
      { numRuns: 300 },
    );
  });
});
