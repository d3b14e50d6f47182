import { defaultVirtualMachineMigration, type VirtualMachineMigration } from '../../crds';
import { migrationStartRequest } from './start-request';

const m = defaultVirtualMachineMigration({
  apiVersion: 'vm.neon.tech/v1',
  kind: 'VirtualMachineMigration',
  metadata: { name: 'mig', namespace: 'default' },
  spec: { vmName: 'vm1', maxBandwidth: '512Mi' },
} as VirtualMachineMigration);

describe('migrationStartRequest', () => {
  it("passes the spec's choices and the target's stream address", () => {
    expect(migrationStartRequest(m, '10.0.0.7', undefined)).toEqual({
      targetHost: '10.0.0.7',
      targetPort: 20187,
      maxBandwidth: '512Mi',
      allowPostCopy: false,
      autoConverge: true,
      incremental: true,
    });
  });

  it('tells the source how the target takes the disks and its QEMU version, when the target said', () => {
    const target = {
      custody: 'incoming' as const,
      qemuStatus: 'inmigrate',
      migration: { status: 'none' },
      qemuVersion: '10.0.2',
      incomingDisks: 'nbd' as const,
    };
    expect(migrationStartRequest(m, '10.0.0.7', target)).toMatchObject({
      targetDisks: 'nbd',
      targetQemu: '10.0.2',
    });
    // A runner that did not answer (or an older one without these fields): the source's own way.
    expect(migrationStartRequest(m, '10.0.0.7', { error: 'timeout' })).not.toHaveProperty('targetDisks');
  });
});
