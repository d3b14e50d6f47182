import { classifyVirtualMachineChange, type ChangeVerdict } from './classifier';
import { VIRTUAL_MACHINE_FIELD_POLICIES } from './field-policy';
import type { VirtualMachine } from './schema/virtual-machine';
import { setPath, vmInput, type Edit } from './testing';

const set =
  (path: string, value: unknown): Edit<VirtualMachine> =>
  (vm) =>
    setPath(vm, path, value);

type Row = [field: string, edit: Edit<VirtualMachine>, path: string, verdict: ChangeVerdict];

// The classifier's table: every field of the spec with its verdict.
const TABLE: Row[] = [
  ['cpus.use', set('spec.guest.cpus.use', 3), 'spec.guest.cpus.use', 'live'],
  ['memorySlots.use', set('spec.guest.memorySlots.use', 3), 'spec.guest.memorySlots.use', 'live'],
  [
    'targetRevision',
    set('spec.targetRevision', { revision: { value: 1, flags: 0 }, updatedAt: '2026-11-27T00:00:00Z' }),
    'spec.targetRevision',
    'live',
  ],
  ['overcommit', set('spec.overcommit', { cpu: '2' }), 'spec.overcommit', 'live'],
  ['restartPolicy', set('spec.restartPolicy', 'Never'), 'spec.restartPolicy', 'live'],
  ['a label', set('metadata.labels', { team: 'db' }), 'metadata.labels.team', 'live'],
  ['an annotation', set('metadata.annotations', { note: 'x' }), 'metadata.annotations.note', 'live'],
  ['cpus.min', set('spec.guest.cpus.min', 2), 'spec.guest.cpus.min', 'rejected'],
  ['cpus.max', set('spec.guest.cpus.max', 8), 'spec.guest.cpus.max', 'rejected'],
  ['memorySlots.min', set('spec.guest.memorySlots.min', 2), 'spec.guest.memorySlots.min', 'rejected'],
  ['memorySlots.max', set('spec.guest.memorySlots.max', 8), 'spec.guest.memorySlots.max', 'rejected'],
  ['memorySlotSize', set('spec.guest.memorySlotSize', '2Gi'), 'spec.guest.memorySlotSize', 'rejected'],
  ['rootDisk', set('spec.guest.rootDisk.image', 'other:1'), 'spec.guest.rootDisk', 'rejected'],
  ['command', set('spec.guest.command', ['/bin/app']), 'spec.guest.command', 'rejected'],
  ['args', set('spec.guest.args', ['--x']), 'spec.guest.args', 'rejected'],
  ['env', set('spec.guest.env', [{ name: 'A', value: '1' }]), 'spec.guest.env', 'rejected'],
  ['ports', set('spec.guest.ports', [{ port: 80 }]), 'spec.guest.ports', 'rejected'],
  ['settings', set('spec.guest.settings', { swap: '1Gi' }), 'spec.guest.settings', 'rejected'],
  [
    'disks',
    set('spec.disks', [{ name: 'a', mountPath: '/a', tmpfs: { size: '1Gi' } }]),
    'spec.disks[name=a]',
    'rejected',
  ],
  ['podResources', set('spec.podResources', { requests: { cpu: '1' } }), 'spec.podResources', 'rejected'],
  ['enableAcceleration', set('spec.enableAcceleration', false), 'spec.enableAcceleration', 'rejected'],
  ['enableSSH', set('spec.enableSSH', false), 'spec.enableSSH', 'rejected'],
  ['initScript', set('spec.initScript', 'true'), 'spec.initScript', 'rejected'],
  [
    'enableNetworkMonitoring',
    set('spec.enableNetworkMonitoring', true),
    'spec.enableNetworkMonitoring',
    'rejected',
  ],
  ['cpuScalingMode set once', set('spec.cpuScalingMode', 'SysfsScaling'), 'spec.cpuScalingMode', 'restart'],
  [
    'targetArchitecture set once',
    set('spec.targetArchitecture', 'arm64'),
    'spec.targetArchitecture',
    'restart',
  ],
  ['kernelImage', set('spec.guest.kernelImage', 'kernel:6.1'), 'spec.guest.kernelImage', 'restart'],
  [
    'appendKernelCmdline',
    set('spec.guest.appendKernelCmdline', 'quiet'),
    'spec.guest.appendKernelCmdline',
    'restart',
  ],
  [
    'memhpAutoMovableRatio',
    set('spec.guest.memhpAutoMovableRatio', '401'),
    'spec.guest.memhpAutoMovableRatio',
    'restart',
  ],
  ['qmp', set('spec.qmp', 30183), 'spec.qmp', 'restart'],
  ['qmpManual', set('spec.qmpManual', 30184), 'spec.qmpManual', 'restart'],
  ['runnerPort', set('spec.runnerPort', 35183), 'spec.runnerPort', 'restart'],
  [
    'terminationGracePeriodSeconds',
    set('spec.terminationGracePeriodSeconds', 30),
    'spec.terminationGracePeriodSeconds',
    'restart',
  ],
  ['nodeSelector', set('spec.nodeSelector', { zone: 'a' }), 'spec.nodeSelector.zone', 'restart'],
  ['affinity', set('spec.affinity', { nodeAffinity: {} }), 'spec.affinity.nodeAffinity', 'restart'],
  ['tolerations', set('spec.tolerations', [{ key: 'x', operator: 'Exists' }]), 'spec.tolerations', 'restart'],
  ['schedulerName', set('spec.schedulerName', 'autoscale-scheduler'), 'spec.schedulerName', 'restart'],
  ['serviceAccountName', set('spec.serviceAccountName', 'vm'), 'spec.serviceAccountName', 'restart'],
  [
    'imagePullSecrets',
    set('spec.imagePullSecrets', [{ name: 'regcred' }]),
    'spec.imagePullSecrets',
    'restart',
  ],
  [
    'extraInitContainers',
    set('spec.extraInitContainers', [{ name: 'x', image: 'busybox' }]),
    'spec.extraInitContainers',
    'restart',
  ],
  ['extraNetwork', set('spec.extraNetwork', { enable: true }), 'spec.extraNetwork.enable', 'restart'],
  ['service_links', set('spec.service_links', true), 'spec.service_links', 'restart'],
  ['runnerImage', set('spec.runnerImage', 'runner:2'), 'spec.runnerImage', 'restart'],
  [
    'tls',
    set('spec.tls', { certificateIssuer: 'ca', serverName: 'vm' }),
    'spec.tls.certificateIssuer',
    'restart',
  ],
];

/** Changes to an existing spec.tls: [field, path, value, verdict]. */
const TLS_TABLE = [
  ['serverName', 'spec.tls.serverName', 'vm2', 'live'],
  ['certificateIssuer', 'spec.tls.certificateIssuer', 'ca2', 'live'],
  ['expireAfter', 'spec.tls.expireAfter', '48h', 'live'],
  ['renewBefore', 'spec.tls.renewBefore', '1h', 'live'],
  ['mountPath', 'spec.tls.mountPath', '/etc/tls', 'restart'],
] as const;

describe('classifyVirtualMachineChange: spec.tls', () => {
  const withTls = vmInput(set('spec.tls', { certificateIssuer: 'ca', serverName: 'vm' }));
  it.each(TLS_TABLE)('changing %s of an existing spec.tls is %s', (_f, path, value, verdict) => {
    const changed = vmInput(set('spec.tls', { certificateIssuer: 'ca', serverName: 'vm' }), set(path, value));
    expect(classifyVirtualMachineChange(withTls, changed).changes).toContainEqual(
      expect.objectContaining({ path, verdict }),
    );
  });
});

describe('classifyVirtualMachineChange', () => {
  const base = vmInput();

  it.each(TABLE.map(([f, e, p, v]) => [`${f} → ${v}`, e, p, v] as const))(
    '%s',
    (_name, edit, path, verdict) => {
      const report = classifyVirtualMachineChange(base, vmInput(edit));
      expect(report.changes).toContainEqual(expect.objectContaining({ path, verdict }));
      expect(report.changes.every((c) => c.reason.length > 0)).toBe(true);
    },
  );

  it('covers every field with a policy', () => {
    const covered = new Set([...TABLE.map(([, , path]) => path), ...TLS_TABLE.map(([, path]) => path)]);
    for (const policy of VIRTUAL_MACHINE_FIELD_POLICIES) {
      if (policy.path === 'spec') continue;
      expect(
        [...covered].some(
          (p) => p === policy.path || p.startsWith(`${policy.path}.`) || p.startsWith(`${policy.path}[`),
        ),
      ).toBe(true);
    }
  });

  it('reports nothing for an identical or only re-defaulted spec', () => {
    expect(classifyVirtualMachineChange(base, vmInput()).overall).toBe('none');
    expect(
      classifyVirtualMachineChange(
        base,
        vmInput(set('spec.enableSSH', true), set('spec.guest.cpus.use', '2')),
      ).overall,
    ).toBe('none');
  });

  it('rejects a live field whose new value is out of range, with the validation message', () => {
    const report = classifyVirtualMachineChange(base, vmInput(set('spec.guest.cpus.use', 6)));
    expect(report.changes).toEqual([
      expect.objectContaining({
        path: 'spec.guest.cpus.use',
        verdict: 'rejected',
        reason: expect.stringContaining('less than or equal'),
      }),
    ]);
    expect(report.overall).toBe('rejected');
  });

  it('an invalid field below the changed one is named with its value', () => {
    const report = classifyVirtualMachineChange(base, vmInput(set('spec.guest.rootDisk.size', '8GB')));
    expect(report.changes).toContainEqual(
      expect.objectContaining({
        verdict: 'rejected',
        reason: expect.stringMatching(
          /^spec\.guest\.rootDisk\.size: must be a Kubernetes quantity .*\(got "8GB"\) \[quantity\]$/,
        ),
      }),
    );
  });

  it('a set-once field that is changed again is rejected', () => {
    const sysfs = vmInput(set('spec.cpuScalingMode', 'SysfsScaling'));
    const report = classifyVirtualMachineChange(sysfs, vmInput(set('spec.cpuScalingMode', 'QmpScaling')));
    expect(report.changes).toContainEqual(
      expect.objectContaining({ path: 'spec.cpuScalingMode', verdict: 'rejected' }),
    );
  });

  it('the overall verdict is the strongest one', () => {
    const live = classifyVirtualMachineChange(
      base,
      vmInput(set('spec.guest.cpus.use', 3), set('spec.guest.memorySlots.use', 1)),
    );
    expect(live.overall).toBe('live');
    expect(live.changes).toHaveLength(2);
    const mixed = classifyVirtualMachineChange(
      base,
      vmInput(set('spec.guest.cpus.use', 3), set('spec.runnerImage', 'r:2')),
    );
    expect(mixed.overall).toBe('restart');
  });
});
