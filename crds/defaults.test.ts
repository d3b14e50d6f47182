import { defaultIpPool, defaultVirtualMachine, defaultVirtualMachineMigration } from './defaults';
import { DEFAULT_QMP_MANUAL_PORT, DEFAULT_QMP_PORT, DEFAULT_RUNNER_PORT } from './kinds';
import { migrationInput, vmInput } from './testing';

describe('defaults (equal to upstream OpenAPI defaults)', () => {
  it('fills a minimal VM as the API server would', () => {
    const vm = defaultVirtualMachine({
      metadata: { name: 'vm-debian' },
      spec: { guest: { rootDisk: { image: 'neondatabase/vm-debian:11' } } },
    });
    expect(vm.apiVersion).toBe('vm.neon.tech/v1');
    expect(vm.kind).toBe('VirtualMachine');
    expect(vm.spec).toEqual({
      qmp: 20183,
      qmpManual: 20184,
      runnerPort: 25183,
      terminationGracePeriodSeconds: 5,
      restartPolicy: 'Always',
      guest: {
        cpus: { min: 1, max: 1, use: 1 },
        memorySlotSize: '1Gi',
        memorySlots: { min: 1, max: 1, use: 1 },
        rootDisk: { image: 'neondatabase/vm-debian:11', imagePullPolicy: 'IfNotPresent' },
      },
      enableAcceleration: true,
      enableSSH: true,
      enableNetworkMonitoring: false,
    });
  });

  it('defaults the runner ports to the constants the install NetworkPolicy protects', () => {
    const { spec } = defaultVirtualMachine({ spec: { guest: { rootDisk: { image: 'x' } } } });
    expect([spec.runnerPort, spec.qmp, spec.qmpManual]).toEqual([
      DEFAULT_RUNNER_PORT,
      DEFAULT_QMP_PORT,
      DEFAULT_QMP_MANUAL_PORT,
    ]);
  });

  it('defaults nested list items and optional objects only when present', () => {
    const vm = defaultVirtualMachine(
      vmInput((v) => {
        v.spec.guest.env = [{ name: 'A' }];
        v.spec.guest.ports = [{ port: 5432 }];
        v.spec.disks = [{ name: 'd', mountPath: '/d', tmpfs: { size: '1Gi' } }];
        v.spec.extraNetwork = { enable: true };
        v.spec.tls = { certificateIssuer: 'ca', serverName: 'vm' };
      }),
    );
    expect(vm.spec.guest.env).toEqual([{ name: 'A', value: '' }]);
    expect(vm.spec.guest.ports).toEqual([{ port: 5432, protocol: 'TCP' }]);
    expect(vm.spec.disks).toEqual([
      { name: 'd', mountPath: '/d', readOnly: false, watch: false, tmpfs: { size: '1Gi' } },
    ]);
    expect(vm.spec.extraNetwork).toEqual({ enable: true, interface: 'net1' });
    expect(vm.spec.tls?.mountPath).toBe('/var/tls');
    expect(vm.spec.overcommit).toBeUndefined();
    expect(vm.spec.cpuScalingMode).toBeUndefined(); // the controller, not the schema, defaults it
  });

  it('fills migration defaults', () => {
    expect(defaultVirtualMachineMigration(migrationInput()).spec).toEqual({
      vmName: 'example',
      preventMigrationToSameHost: true,
      completionTimeout: 3600,
      incremental: true,
      allowPostCopy: false,
      autoConverge: true,
      maxBandwidth: '1Gi',
    });
  });

  it('never overrides what the user set, and is idempotent and pure', () => {
    const input = vmInput((v) => {
      v.spec.enableSSH = false;
      v.spec.guest.memorySlotSize = '2Gi';
    });
    const frozen = JSON.stringify(input);
    const once = defaultVirtualMachine(input);
    expect(once.spec.enableSSH).toBe(false);
    expect(once.spec.guest.memorySlotSize).toBe('2Gi');
    expect(defaultVirtualMachine(once)).toEqual(once);
    expect(JSON.stringify(input)).toBe(frozen);
    const pool = defaultIpPool({ spec: { range: '10.0.0.0/24', allocations: {} } });
    expect(defaultIpPool(pool)).toEqual(pool);
  });
});
