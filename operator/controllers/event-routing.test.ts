import { migrationFixture, podFixture, vmFixture } from '../testing/fixtures';
import { keysForMigration, keysForRunnerPod, keysForTlsObject, keysForVm } from './event-routing';

const mig = (name: string, vmName: string) =>
  migrationFixture((m) => {
    m.metadata!.name = name;
    m.spec.vmName = vmName;
  });
const migrations = [mig('m1', 'vm1'), mig('m2', 'other')];

describe('event routing: which controllers an event concerns', () => {
  it('a VM event: the VM, its migrations, and the TLS controller only for spec.tls or its condition', () => {
    expect(keysForVm(vmFixture(), migrations)).toEqual({
      vm: ['default/vm1'],
      migration: ['default/m1'],
      tls: [],
    });
    const tls = vmFixture((vm) => (vm.spec.tls = { certificateIssuer: 'ca', serverName: 'x' }));
    expect(keysForVm(tls, []).tls).toEqual(['default/vm1']);
    const leftover = vmFixture((vm) => {
      vm.status = {
        conditions: [
          {
            type: 'CertificateReady',
            status: 'True',
            reason: 'CertificateIssued',
            message: '',
            lastTransitionTime: '2026-01-01T00:00:00Z',
          },
        ],
      };
    });
    expect(keysForVm(leftover, []).tls).toEqual(['default/vm1']);
  });

  it('a migration event: the migration and its VM', () => {
    expect(keysForMigration(mig('m1', 'vm1'))).toEqual({
      vm: ['default/vm1'],
      migration: ['default/m1'],
      tls: [],
    });
  });

  it('a runner pod event: its VM (by label) and that VM migrations; an unlabelled pod nothing', () => {
    expect(keysForRunnerPod(podFixture('vm1-abcde', 'ready'), migrations)).toEqual({
      vm: ['default/vm1'],
      migration: ['default/m1'],
      tls: [],
    });
    const stray = podFixture('x', 'ready', [(p) => (p.metadata!.labels = {})]);
    expect(keysForRunnerPod(stray, migrations)).toEqual({ vm: [], migration: [], tls: [] });
  });

  it('a spec.tls Secret or CertificateRequest: the VM named by its label', () => {
    const secret = {
      metadata: { name: 'tls-neonvm-vm1', namespace: 'ns', labels: { 'vm.neon.tech/tls-for-vm': 'vm1' } },
    };
    expect(keysForTlsObject(secret)).toEqual({ vm: [], migration: [], tls: ['ns/vm1'] });
    expect(keysForTlsObject({ metadata: { name: 'x', namespace: 'ns' } }).tls).toEqual([]);
  });
});
