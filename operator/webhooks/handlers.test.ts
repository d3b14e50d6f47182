import { API_VERSION } from '../../crds';
import type { AdmissionRequest } from './admission-review';
import {
  mutateVirtualMachine,
  parseSkipList,
  validateVirtualMachineHandler,
  validateVirtualMachineMigrationHandler,
} from './handlers';
import { createJsonPatch } from './json-patch';

const vm = (spec: Record<string, unknown> = {}, guest: Record<string, unknown> = {}) => ({
  apiVersion: API_VERSION,
  kind: 'VirtualMachine',
  metadata: { name: 'vm', namespace: 'ns' },
  spec: {
    guest: {
      cpus: { min: 1, max: 4, use: 1 },
      memorySlots: { min: 1, max: 4, use: 1 },
      rootDisk: { image: 'img' },
      ...guest,
    },
    ...spec,
  },
});
const request = (
  operation: AdmissionRequest['operation'],
  object: unknown,
  oldObject?: unknown,
): AdmissionRequest => ({
  uid: 'u1',
  kind: { group: 'vm.neon.tech', version: 'v1', kind: 'VirtualMachine' },
  name: 'vm',
  namespace: 'ns',
  operation,
  object,
  oldObject,
});
const decodePatch = (p?: string) => (p ? JSON.parse(Buffer.from(p, 'base64').toString()) : []);

describe('mutating webhook', () => {
  it('canonicalises MilliCPU and quantities as a JSONPatch on /spec', () => {
    const res = mutateVirtualMachine(
      request('CREATE', vm({}, { cpus: { min: 0.25, max: '2', use: '500m' }, memorySlotSize: '1024Mi' })),
    );
    expect(res.allowed).toBe(true);
    expect(res.patchType).toBe('JSONPatch');
    const ops = decodePatch(res.patch);
    expect(ops).toEqual(
      expect.arrayContaining([
        { op: 'replace', path: '/spec/guest/cpus/min', value: '250m' },
        { op: 'replace', path: '/spec/guest/cpus/max', value: 2 },
        { op: 'replace', path: '/spec/guest/memorySlotSize', value: '1Gi' },
      ]),
    );
  });

  it('adds schema defaults that are missing and is a no-op on an already canonical object', () => {
    const first = mutateVirtualMachine(request('CREATE', vm()));
    expect(decodePatch(first.patch)).toContainEqual({
      op: 'add',
      path: '/spec/restartPolicy',
      value: 'Always',
    });
    const patched = vm({ restartPolicy: 'Always' });
    const applied = decodePatch(mutateVirtualMachine(request('CREATE', patched)).patch).filter(
      (o: { path: string }) => o.path === '/spec/restartPolicy',
    );
    expect(applied).toEqual([]);
  });
});

describe('mutating webhook on UPDATE: an omitted set-once field keeps its stored value', () => {
  const stored = vm({ cpuScalingMode: 'QmpScaling', targetArchitecture: 'amd64', restartPolicy: 'Always' });

  it('fills spec.cpuScalingMode and spec.targetArchitecture back in (kubectl replace -f of the manifest)', () => {
    const ops = decodePatch(mutateVirtualMachine(request('UPDATE', vm(), stored)).patch);
    expect(ops).toEqual(
      expect.arrayContaining([
        { op: 'add', path: '/spec/cpuScalingMode', value: 'QmpScaling' },
        { op: 'add', path: '/spec/targetArchitecture', value: 'amd64' },
      ]),
    );
    // ...so the validating webhook sees no change of a set-once field.
    const mutated = vm({
      cpuScalingMode: 'QmpScaling',
      targetArchitecture: 'amd64',
      restartPolicy: 'Always',
    });
    expect(validateVirtualMachineHandler()(request('UPDATE', mutated, stored)).allowed).toBe(true);
  });

  it('leaves an explicit value alone (a change is still refused by validation) and CREATE untouched', () => {
    const changed = vm({ cpuScalingMode: 'SysfsScaling' });
    const ops = decodePatch(mutateVirtualMachine(request('UPDATE', changed, stored)).patch);
    expect(ops.filter((o: { path: string }) => o.path === '/spec/cpuScalingMode')).toEqual([]);
    const res = validateVirtualMachineHandler()(
      request('UPDATE', { ...changed, spec: { ...changed.spec, targetArchitecture: 'amd64' } }, stored),
    );
    expect(res.allowed).toBe(false);
    expect(res.status?.message).toMatch(/spec\.cpuScalingMode is not allowed to be changed once it's set/);
    const created = decodePatch(mutateVirtualMachine(request('CREATE', vm(), stored)).patch);
    expect(created.filter((o: { path: string }) => o.path === '/spec/cpuScalingMode')).toEqual([]);
  });
});

describe('validating webhook', () => {
  const validate = validateVirtualMachineHandler();

  it('admits a valid VM and denies an invalid one listing every field path', () => {
    expect(validate(request('CREATE', vm())).allowed).toBe(true);
    const res = validate(
      request(
        'CREATE',
        vm({}, { cpus: { min: 1, max: 4, use: 5 }, memorySlots: { min: 1, max: 4, use: 9 } }),
      ),
    );
    expect(res.allowed).toBe(false);
    expect(res.status?.code).toBe(422);
    expect(res.status?.message).toContain('spec.guest.cpus.use');
    expect(res.status?.message).toContain('spec.guest.memorySlots');
    expect(res.status?.details?.causes.map((c) => c.field)).toEqual(
      expect.arrayContaining(['spec.guest.cpus.use']),
    );
  });

  it('allows cpuScalingMode nil -> value, rejects value -> other value (upstream §8.2)', () => {
    const withMode = (m?: string) => vm(m ? { cpuScalingMode: m } : {});
    expect(validate(request('UPDATE', withMode('QmpScaling'), withMode())).allowed).toBe(true);
    const res = validate(request('UPDATE', withMode('SysfsScaling'), withMode('QmpScaling')));
    expect(res.allowed).toBe(false);
    expect(res.status?.message).toContain('spec.cpuScalingMode');
    const arch = (a?: string) => vm(a ? { targetArchitecture: a } : {});
    expect(validate(request('UPDATE', arch('amd64'), arch())).allowed).toBe(true);
    expect(validate(request('UPDATE', arch('arm64'), arch('amd64'))).allowed).toBe(false);
  });

  it('honours --skip-update-validation-for (namespace/name parsed correctly)', () => {
    const skipped: string[] = [];
    const lenient = validateVirtualMachineHandler({
      skipUpdateValidationFor: parseSkipList('ns/vm, other'),
      onSkippedValidation: (r) => skipped.push(r.name ?? ''),
    });
    const res = lenient(request('UPDATE', vm({}, { cpus: { min: 1, max: 8, use: 1 } }), vm()));
    expect(res.allowed).toBe(true);
    expect(res.warnings?.[0]).toContain('spec.guest.cpus.max');
    expect(skipped).toEqual(['vm']);
    expect([...parseSkipList('a,b/c')]).toEqual(['default/a', 'b/c']);
    expect(() => parseSkipList('a,,b')).toThrow('empty entry');
  });

  it("applies the operator's admission policy: privileged fields refused, naming field, rule and flag", () => {
    const res = validate(request('CREATE', vm({ runnerImage: 'evil/runner:1', initScript: 'id' })));
    expect(res.allowed).toBe(false);
    expect(res.status?.details?.causes).toEqual([
      expect.objectContaining({ field: 'spec.runnerImage', reason: 'runner-image-not-allowed' }),
      expect.objectContaining({ field: 'spec.initScript', reason: 'init-script-not-allowed' }),
    ]);
    expect(res.status?.message).toContain('--allowed-runner-images');
    const allowing = validateVirtualMachineHandler(
      {},
      { policy: { runnerImages: ['evil/*'], initScript: true }, runnerImage: 'neonvm-runner:1' },
    );
    expect(allowing(request('CREATE', vm({ runnerImage: 'evil/runner:1', initScript: 'id' }))).allowed).toBe(
      true,
    );
    expect(allowing(request('CREATE', vm({ runnerImage: 'neonvm-runner:1' }))).allowed).toBe(true);
  });

  it('judges only changed privileged fields on update, and never skips the policy', () => {
    const old = vm({ initScript: 'id' });
    // Admitted under an earlier policy: scaling it is still fine.
    expect(
      validate(request('UPDATE', vm({ initScript: 'id' }, { cpus: { min: 1, max: 4, use: 2 } }), old))
        .allowed,
    ).toBe(true);
    const lenient = validateVirtualMachineHandler({ skipUpdateValidationFor: parseSkipList('ns/vm') });
    expect(lenient(request('UPDATE', vm({ initScript: 'other' }), old)).allowed).toBe(false);
  });

  it('rejects any change of a migration spec', () => {
    const mig = (vmName: string) => ({
      apiVersion: API_VERSION,
      kind: 'VirtualMachineMigration',
      metadata: { name: 'm' },
      spec: { vmName },
    });
    const v = validateVirtualMachineMigrationHandler();
    const req = (o: unknown, old?: unknown): AdmissionRequest => ({
      ...request(old ? 'UPDATE' : 'CREATE', o, old),
      kind: { group: 'vm.neon.tech', version: 'v1', kind: 'VirtualMachineMigration' },
    });
    expect(v(req(mig('a'))).allowed).toBe(true);
    expect(v(req(mig('b'), mig('a'))).status?.message).toContain('updating migration spec is not allowed');
  });
});

describe('createJsonPatch', () => {
  it('escapes pointer segments and removes keys', () => {
    expect(createJsonPatch({ a: { 'x/y': 1, gone: 2 } }, { a: { 'x/y': 3 } })).toEqual([
      { op: 'remove', path: '/a/gone' },
      { op: 'replace', path: '/a/x~1y', value: 3 },
    ]);
  });
});
