import {
  validateIpPool,
  validateVirtualMachineMigration,
  validateVirtualMachineMigrationUpdate,
} from './migration';
import { migrationInput, setPath } from '../testing';
import { validateObject } from '../validate-object';

describe('validateVirtualMachineMigration', () => {
  it('accepts the fixture', () => expect(validateVirtualMachineMigration(migrationInput())).toEqual([]));

  it.each<[string, string, unknown, string, string]>([
    ['empty vmName', 'spec.vmName', '', 'spec.vmName', 'min-length'],
    ['missing vmName', 'spec.vmName', undefined, 'spec.vmName', 'required'],
    ['vmName not a name', 'spec.vmName', 'Not_A_Name', 'spec.vmName', 'dns1123-subdomain'],
    ['completionTimeout zero', 'spec.completionTimeout', 0, 'spec.completionTimeout', 'minimum'],
    ['maxBandwidth zero', 'spec.maxBandwidth', '0', 'spec.maxBandwidth', 'positive'],
    ['maxBandwidth junk', 'spec.maxBandwidth', 'fast', 'spec.maxBandwidth', 'quantity'],
    ['incremental a string', 'spec.incremental', 'yes', 'spec.incremental', 'type'],
    [
      'post-copy without incremental',
      'spec.incremental',
      false,
      'spec.allowPostCopy',
      'postcopy-needs-incremental',
    ],
    ['unknown field', 'spec.cleanupSourcePod', true, 'spec.cleanupSourcePod', 'unknown-field'],
  ])('rejects %s', (_d, field, value, path, rule) => {
    const m = migrationInput((x) => {
      setPath(x, field, value);
      if (rule === 'postcopy-needs-incremental') x.spec.allowPostCopy = true;
    });
    expect(validateVirtualMachineMigration(m)).toContainEqual(expect.objectContaining({ path, rule }));
  });

  it('rejects any spec change on update ("updating migration spec is not allowed")', () => {
    const errors = validateVirtualMachineMigrationUpdate(
      migrationInput(),
      migrationInput((m) => (m.spec.maxBandwidth = '2Gi')),
    );
    expect(errors).toContainEqual(
      expect.objectContaining({
        path: 'spec',
        rule: 'immutable',
        message: 'updating migration spec is not allowed',
      }),
    );
    expect(
      validateVirtualMachineMigrationUpdate(
        migrationInput(),
        migrationInput((m) => (m.spec.autoConverge = true)),
      ),
    ).toEqual([]);
  });
});

describe('validateIpPool', () => {
  const pool = (range: string, allocations: Record<string, { id: string }>) => ({
    apiVersion: 'vm.neon.tech/v1',
    kind: 'IPPool',
    spec: { range, allocations },
  });
  it('accepts upstream-shaped pools', () =>
    expect(validateIpPool(pool('10.100.0.0/16', { '32768': { id: 'default/vm' } }))).toEqual([]));
  it.each<[string, unknown, string, string]>([
    ['bad range', pool('10.100.0.0', {}), 'spec.range', 'cidr'],
    ['offset outside range', pool('10.0.0.0/30', { '4': { id: 'a/b' } }), 'spec.allocations[4]', 'offset'],
    ['non-decimal offset', pool('10.0.0.0/24', { x1: { id: 'a/b' } }), 'spec.allocations[x1]', 'offset'],
    [
      'allocation without id',
      pool('10.0.0.0/24', { '1': {} as { id: string } }),
      'spec.allocations[1].id',
      'required',
    ],
    ['missing allocations', { spec: { range: '10.0.0.0/24' } }, 'spec.allocations', 'required'],
  ])('rejects %s', (_d, obj, path, rule) => {
    expect(validateIpPool(obj)).toContainEqual(expect.objectContaining({ path, rule }));
  });
});

describe('validateObject', () => {
  it('dispatches by kind and rejects unknown kinds and versions', () => {
    expect(validateObject(migrationInput())).toEqual([]);
    expect(validateObject({ apiVersion: 'vm.neon.tech/v1', kind: 'Nope' })).toContainEqual(
      expect.objectContaining({ path: 'kind', rule: 'enum' }),
    );
    expect(validateObject({ apiVersion: 'vm.neon.tech/v2', kind: 'VirtualMachine' })).toContainEqual(
      expect.objectContaining({ path: 'apiVersion' }),
    );
  });
});

it('never throws on garbage', () => {
  for (const junk of [
    null,
    1,
    [],
    {},
    { spec: null },
    { spec: { vmName: 1 } },
    { spec: { range: 5, allocations: 'x' } },
  ]) {
    expect(() => validateVirtualMachineMigration(junk)).not.toThrow();
    expect(() => validateIpPool(junk)).not.toThrow();
  }
});
