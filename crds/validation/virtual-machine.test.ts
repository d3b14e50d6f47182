import { formatFieldErrors } from '../field-error';
import { validateVirtualMachine, validateVirtualMachineUpdate } from './virtual-machine';
import type { VirtualMachine } from '../schema/virtual-machine';
import { setPath, vmInput, type Edit } from '../testing';

const set =
  (path: string, value: unknown): Edit<VirtualMachine> =>
  (vm) =>
    setPath(vm, path, value);

const disk = (d: Record<string, unknown>): Edit<VirtualMachine> => set('spec.disks', [d]);

type Case = [description: string, edit: Edit<VirtualMachine>, path: string, rule: string];

// Each case breaks exactly one rule of a valid VM and names the field and rule it must be reported at.
const INVALID: Case[] = [
  // schema: types, enums, ranges, required and unknown fields
  ['rootDisk missing', set('spec.guest.rootDisk', undefined), 'spec.guest.rootDisk', 'required'],
  ['rootDisk image missing', set('spec.guest.rootDisk', {}), 'spec.guest.rootDisk.image', 'required'],
  ['rootDisk image empty', set('spec.guest.rootDisk.image', ''), 'spec.guest.rootDisk.image', 'min-length'],
  ['guest missing', set('spec.guest', undefined), 'spec.guest', 'required'],
  ['qmp port zero', set('spec.qmp', 0), 'spec.qmp', 'port'],
  ['runnerPort too large', set('spec.runnerPort', 70000), 'spec.runnerPort', 'port'],
  ['qmpManual a string', set('spec.qmpManual', '20184'), 'spec.qmpManual', 'port'],
  ['restartPolicy unknown', set('spec.restartPolicy', 'Sometimes'), 'spec.restartPolicy', 'enum'],
  ['cpuScalingMode unknown', set('spec.cpuScalingMode', 'Magic'), 'spec.cpuScalingMode', 'enum'],
  [
    'targetArchitecture unknown',
    set('spec.targetArchitecture', 'riscv64'),
    'spec.targetArchitecture',
    'enum',
  ],
  [
    'imagePullPolicy unknown',
    set('spec.guest.rootDisk.imagePullPolicy', 'Sometimes'),
    'spec.guest.rootDisk.imagePullPolicy',
    'enum',
  ],
  ['unknown spec field (typo)', set('spec.enableSsh', true), 'spec.enableSsh', 'unknown-field'],
  ['unknown guest field', set('spec.guest.cpu', { use: 1 }), 'spec.guest.cpu', 'unknown-field'],
  ['memorySlots.min zero', set('spec.guest.memorySlots.min', 0), 'spec.guest.memorySlots.min', 'minimum'],
  [
    'memorySlots.max above 512',
    set('spec.guest.memorySlots.max', 513),
    'spec.guest.memorySlots.max',
    'maximum',
  ],
  [
    'memorySlots.use not an integer',
    set('spec.guest.memorySlots.use', 1.5),
    'spec.guest.memorySlots.use',
    'type',
  ],
  [
    'memorySlots without use',
    set('spec.guest.memorySlots', { min: 1, max: 2 }),
    'spec.guest.memorySlots.use',
    'required',
  ],
  ['cpus without max', set('spec.guest.cpus', { min: 1, use: 1 }), 'spec.guest.cpus.max', 'required'],
  ['cpus.use a boolean', set('spec.guest.cpus.use', true), 'spec.guest.cpus.use', 'type'],
  [
    'memorySlotSize not a quantity',
    set('spec.guest.memorySlotSize', '1GB'),
    'spec.guest.memorySlotSize',
    'quantity',
  ],
  [
    'terminationGracePeriodSeconds negative',
    set('spec.terminationGracePeriodSeconds', -1),
    'spec.terminationGracePeriodSeconds',
    'minimum',
  ],
  ['enableSSH a string', set('spec.enableSSH', 'yes'), 'spec.enableSSH', 'type'],
  ['env without name', set('spec.guest.env', [{ value: 'x' }]), 'spec.guest.env[0].name', 'required'],
  ['port without number', set('spec.guest.ports', [{ name: 'pg' }]), 'spec.guest.ports[0].port', 'required'],
  ['port zero', set('spec.guest.ports', [{ port: 0 }]), 'spec.guest.ports[0].port', 'port'],
  [
    'disk without mountPath',
    disk({ name: 'data', emptyDisk: { size: '1Gi' } }),
    'spec.disks[0].mountPath',
    'required',
  ],
  [
    'emptyDisk without size',
    disk({ name: 'data', mountPath: '/data', emptyDisk: {} }),
    'spec.disks[0].emptyDisk.size',
    'required',
  ],
  [
    'extraNetwork.enable a string',
    set('spec.extraNetwork', { enable: 'true' }),
    'spec.extraNetwork.enable',
    'type',
  ],
  [
    'targetRevision without updatedAt',
    set('spec.targetRevision', { revision: { value: 1, flags: 0 } }),
    'spec.targetRevision.updatedAt',
    'required',
  ],
  [
    'targetRevision with a bad time',
    set('spec.targetRevision', { revision: { value: 1, flags: 0 }, updatedAt: 'yesterday' }),
    'spec.targetRevision.updatedAt',
    'format',
  ],
  // CPUs
  [
    'cpus.use below min',
    set('spec.guest.cpus', { min: 2, max: 4, use: 1 }),
    'spec.guest.cpus.use',
    'use-within-range',
  ],
  [
    'cpus.use above max',
    set('spec.guest.cpus', { min: 1, max: 2, use: 3 }),
    'spec.guest.cpus.use',
    'use-within-range',
  ],
  [
    'cpus.use fractional above max',
    set('spec.guest.cpus', { min: '250m', max: '500m', use: 0.75 }),
    'spec.guest.cpus.use',
    'use-within-range',
  ],
  [
    'cpus min above max',
    set('spec.guest.cpus', { min: 3, max: 2, use: 2 }),
    'spec.guest.cpus.max',
    'min-le-max',
  ],
  [
    'cpus all zero (upstream hole)',
    set('spec.guest.cpus', { min: 0, max: 0, use: 0 }),
    'spec.guest.cpus.min',
    'positive',
  ],
  ['cpus.use not a quantity', set('spec.guest.cpus.use', 'lots'), 'spec.guest.cpus.use', 'quantity'],
  ['cpus.max negative', set('spec.guest.cpus.max', '-2'), 'spec.guest.cpus.max', 'quantity'],
  // memory
  [
    'memorySlots.use below min',
    set('spec.guest.memorySlots', { min: 2, max: 4, use: 1 }),
    'spec.guest.memorySlots.use',
    'use-within-range',
  ],
  [
    'memorySlots.use above max',
    set('spec.guest.memorySlots', { min: 1, max: 2, use: 3 }),
    'spec.guest.memorySlots.use',
    'use-within-range',
  ],
  [
    'memorySlots min above max',
    set('spec.guest.memorySlots', { min: 3, max: 2, use: 3 }),
    'spec.guest.memorySlots.max',
    'min-le-max',
  ],
  [
    'memorySlotSize not a multiple of 8Mi',
    set('spec.guest.memorySlotSize', '100Mi'),
    'spec.guest.memorySlotSize',
    'multiple-of-8Mi',
  ],
  ['memorySlotSize zero', set('spec.guest.memorySlotSize', '0'), 'spec.guest.memorySlotSize', 'positive'],
  // ports
  [
    "port named 'qmp'",
    set('spec.guest.ports', [{ name: 'qmp', port: 8080 }]),
    'spec.guest.ports[0].name',
    'reserved-name',
  ],
  [
    'duplicate port',
    set('spec.guest.ports', [{ port: 5432 }, { port: 5432, protocol: 'TCP' }]),
    'spec.guest.ports[1].port',
    'unique',
  ],
  [
    'duplicate port name',
    set('spec.guest.ports', [
      { name: 'pg', port: 5432 },
      { name: 'pg', port: 5433 },
    ]),
    'spec.guest.ports[1].name',
    'unique',
  ],
  [
    'port name too long',
    set('spec.guest.ports', [{ name: 'a-very-long-port-name', port: 80 }]),
    'spec.guest.ports[0].name',
    'port-name',
  ],
  [
    'port protocol unknown',
    set('spec.guest.ports', [{ port: 80, protocol: 'HTTP' }]),
    'spec.guest.ports[0].protocol',
    'enum',
  ],
  [
    'guest port collides with runnerPort',
    set('spec.guest.ports', [{ port: 25183 }]),
    'spec.guest.ports[0].port',
    'reserved-port',
  ],
  ['runner ports collide', set('spec.qmpManual', 20183), 'spec.runnerPort', 'unique'],
  // env
  [
    'env name not a shell identifier',
    set('spec.guest.env', [{ name: 'MY-VAR', value: '1' }]),
    'spec.guest.env[0].name',
    'env-name',
  ],
  [
    'duplicate env name',
    set('spec.guest.env', [{ name: 'A' }, { name: 'A' }]),
    'spec.guest.env[1].name',
    'unique',
  ],
  // disks
  [
    'reserved disk name',
    disk({ name: 'rootdisk', mountPath: '/x', tmpfs: { size: '1Gi' } }),
    'spec.disks[0].name',
    'reserved-name',
  ],
  [
    'disk name too long',
    disk({ name: 'a'.repeat(33), mountPath: '/x', tmpfs: { size: '1Gi' } }),
    'spec.disks[0].name',
    'max-length',
  ],
  [
    'disk name not DNS',
    disk({ name: 'Data_1', mountPath: '/x', tmpfs: { size: '1Gi' } }),
    'spec.disks[0].name',
    'dns1123-label',
  ],
  [
    'relative mountPath',
    disk({ name: 'data', mountPath: 'data', tmpfs: { size: '1Gi' } }),
    'spec.disks[0].mountPath',
    'absolute-path',
  ],
  [
    'mountPath with ..',
    disk({ name: 'data', mountPath: '/a/../etc', tmpfs: { size: '1Gi' } }),
    'spec.disks[0].mountPath',
    'no-dotdot',
  ],
  ['disk without a source', disk({ name: 'data', mountPath: '/data' }), 'spec.disks[0]', 'one-source'],
  [
    'disk with two sources',
    disk({ name: 'data', mountPath: '/data', tmpfs: { size: '1Gi' }, emptyDisk: { size: '1Gi' } }),
    'spec.disks[0]',
    'one-source',
  ],
  [
    'watch on an emptyDisk',
    disk({ name: 'data', mountPath: '/data', watch: true, emptyDisk: { size: '1Gi' } }),
    'spec.disks[0].watch',
    'watch-source',
  ],
  [
    'emptyDisk size zero',
    disk({ name: 'data', mountPath: '/data', emptyDisk: { size: '0' } }),
    'spec.disks[0].emptyDisk.size',
    'positive',
  ],
  [
    'configMap disk without name',
    disk({ name: 'cfg', mountPath: '/cfg', configMap: {} }),
    'spec.disks[0].configMap.name',
    'required',
  ],
  [
    'secret disk without secretName',
    disk({ name: 'sec', mountPath: '/sec', secret: {} }),
    'spec.disks[0].secret.secretName',
    'required',
  ],
  [
    'duplicate disk names',
    set('spec.disks', [
      { name: 'a', mountPath: '/a', tmpfs: { size: '1Gi' } },
      { name: 'a', mountPath: '/b', tmpfs: { size: '1Gi' } },
    ]),
    'spec.disks[1].name',
    'unique',
  ],
  [
    'duplicate mount paths',
    set('spec.disks', [
      { name: 'a', mountPath: '/data', tmpfs: { size: '1Gi' } },
      { name: 'b', mountPath: '/data/', tmpfs: { size: '1Gi' } },
    ]),
    'spec.disks[1].mountPath',
    'unique',
  ],
  // misc
  ['rootDisk size zero', set('spec.guest.rootDisk.size', '0'), 'spec.guest.rootDisk.size', 'positive'],
  ['swap zero', set('spec.guest.settings', { swap: '0' }), 'spec.guest.settings.swap', 'positive'],
  [
    'multusNetwork malformed',
    set('spec.extraNetwork', { enable: true, multusNetwork: 'a/b/c' }),
    'spec.extraNetwork.multusNetwork',
    'object-reference',
  ],
  [
    'interface name too long',
    set('spec.extraNetwork', { enable: true, interface: 'a-very-long-interface' }),
    'spec.extraNetwork.interface',
    'interface-name',
  ],
  [
    'tls without issuer',
    set('spec.tls', { serverName: 'vm.example' }),
    'spec.tls.certificateIssuer',
    'required',
  ],
  [
    'tls mountPath relative',
    set('spec.tls', { certificateIssuer: 'ca', serverName: 'vm', mountPath: 'var/tls' }),
    'spec.tls.mountPath',
    'absolute-path',
  ],
  [
    'tls mountPath with ..',
    set('spec.tls', { certificateIssuer: 'ca', serverName: 'vm', mountPath: '/var/tls/../../etc' }),
    'spec.tls.mountPath',
    'no-dotdot',
  ],
  [
    'tls mountPath the root',
    set('spec.tls', { certificateIssuer: 'ca', serverName: 'vm', mountPath: '/' }),
    'spec.tls.mountPath',
    'not-root',
  ],
  [
    'tls bad duration',
    set('spec.tls', { certificateIssuer: 'ca', serverName: 'vm', expireAfter: '90 days' }),
    'spec.tls.expireAfter',
    'duration',
  ],
  [
    'tls renewBefore not shorter than expireAfter',
    set('spec.tls', { certificateIssuer: 'ca', serverName: 'vm', expireAfter: '24h', renewBefore: '1440m' }),
    'spec.tls.renewBefore',
    'less-than-expireAfter',
  ],
  [
    'memhpAutoMovableRatio not a number',
    set('spec.guest.memhpAutoMovableRatio', 'high'),
    'spec.guest.memhpAutoMovableRatio',
    'integer-string',
  ],
  ['VM name with capitals', set('metadata.name', 'MyVM'), 'metadata.name', 'vm-name'],
  ['VM name too long for a label', set('metadata.name', 'v'.repeat(64)), 'metadata.name', 'vm-name'],
];

describe('validateVirtualMachine (create)', () => {
  it('accepts the fixture', () => {
    expect(validateVirtualMachine(vmInput())).toEqual([]);
  });

  it(`has at least 50 distinct invalid cases (${INVALID.length})`, () => {
    expect(new Set(INVALID.map(([d]) => d)).size).toBe(INVALID.length);
    expect(INVALID.length).toBeGreaterThanOrEqual(50);
  });

  it.each(INVALID)('rejects %s at the right path and rule', (_d, edit, path, rule) => {
    const errors = validateVirtualMachine(vmInput(edit));
    expect(errors).toContainEqual(expect.objectContaining({ path, rule }));
    for (const e of errors) expect(e.message.length).toBeGreaterThan(0);
  });

  it('defaults a VM without cpus/memorySlots instead of zero values (upstream hole)', () => {
    const vm = vmInput(set('spec.guest.cpus', undefined), set('spec.guest.memorySlots', undefined));
    expect(validateVirtualMachine(vm)).toEqual([]);
  });

  it('reports every problem at once', () => {
    const vm = vmInput(
      set('spec.qmp', 0),
      set('spec.guest.memorySlotSize', '100Mi'),
      set('spec.guest.cpus.use', 9),
    );
    expect(validateVirtualMachine(vm).map((e) => e.path)).toEqual(
      expect.arrayContaining(['spec.qmp', 'spec.guest.memorySlotSize', 'spec.guest.cpus.use']),
    );
  });

  it('never throws on garbage', () => {
    for (const junk of [null, 42, 'vm', [], {}, { spec: 1 }, { spec: { guest: 'x' } }]) {
      expect(() => validateVirtualMachine(junk)).not.toThrow();
      expect(validateVirtualMachine(junk).length).toBeGreaterThan(0);
    }
  });

  it('accepts fractional CPUs in every input form', () => {
    for (const use of [0.5, '0.5', '500m']) {
      expect(validateVirtualMachine(vmInput(set('spec.guest.cpus', { min: '250m', max: 1, use })))).toEqual(
        [],
      );
    }
  });
});

describe('validateVirtualMachineUpdate', () => {
  const base = vmInput();
  type UpdateCase = [description: string, edit: Edit<VirtualMachine>, path: string, rule: string];
  const IMMUTABLE: UpdateCase[] = [
    ['cpus.min', set('spec.guest.cpus.min', 2), 'spec.guest.cpus.min', 'immutable'],
    ['cpus.max', set('spec.guest.cpus.max', 3), 'spec.guest.cpus.max', 'immutable'],
    ['memorySlots.min', set('spec.guest.memorySlots.min', 2), 'spec.guest.memorySlots.min', 'immutable'],
    ['memorySlots.max', set('spec.guest.memorySlots.max', 3), 'spec.guest.memorySlots.max', 'immutable'],
    [
      'memorySlotSize (fixed upstream quirk)',
      set('spec.guest.memorySlotSize', '2Gi'),
      'spec.guest.memorySlotSize',
      'immutable',
    ],
    ['rootDisk', set('spec.guest.rootDisk.image', 'other'), 'spec.guest.rootDisk', 'immutable'],
    ['command', set('spec.guest.command', ['sh']), 'spec.guest.command', 'immutable'],
    ['args', set('spec.guest.args', ['-c']), 'spec.guest.args', 'immutable'],
    ['env', set('spec.guest.env', [{ name: 'A', value: '1' }]), 'spec.guest.env', 'immutable'],
    ['ports', set('spec.guest.ports', [{ port: 80 }]), 'spec.guest.ports', 'immutable'],
    ['settings', set('spec.guest.settings', { sysctl: ['a=1'] }), 'spec.guest.settings', 'immutable'],
    [
      'disks',
      set('spec.disks', [{ name: 'a', mountPath: '/a', tmpfs: { size: '1Gi' } }]),
      'spec.disks',
      'immutable',
    ],
    ['podResources', set('spec.podResources', { limits: { cpu: '1' } }), 'spec.podResources', 'immutable'],
    ['enableAcceleration', set('spec.enableAcceleration', false), 'spec.enableAcceleration', 'immutable'],
    ['enableSSH', set('spec.enableSSH', false), 'spec.enableSSH', 'immutable'],
    ['initScript', set('spec.initScript', 'echo'), 'spec.initScript', 'immutable'],
    [
      'enableNetworkMonitoring',
      set('spec.enableNetworkMonitoring', true),
      'spec.enableNetworkMonitoring',
      'immutable',
    ],
  ];

  it.each(IMMUTABLE)('rejects a change of %s', (_d, edit, path, rule) => {
    expect(validateVirtualMachineUpdate(base, vmInput(edit))).toContainEqual(
      expect.objectContaining({ path, rule }),
    );
  });

  it('treats an explicit default like the omitted field (no spurious immutable error)', () => {
    expect(
      validateVirtualMachineUpdate(
        base,
        vmInput(set('spec.enableSSH', true), set('spec.enableAcceleration', true)),
      ),
    ).toEqual([]);
  });

  it.each(['cpuScalingMode', 'targetArchitecture'] as const)(
    '%s may go from unset to a value, never change or unset',
    (field) => {
      const value = field === 'cpuScalingMode' ? 'QmpScaling' : 'amd64';
      const other = field === 'cpuScalingMode' ? 'SysfsScaling' : 'arm64';
      const withValue = vmInput(set(`spec.${field}`, value));
      expect(validateVirtualMachineUpdate(base, withValue)).toEqual([]);
      expect(validateVirtualMachineUpdate(withValue, vmInput(set(`spec.${field}`, other)))).toContainEqual(
        expect.objectContaining({ path: `spec.${field}`, rule: 'set-once' }),
      );
      expect(validateVirtualMachineUpdate(withValue, base)).toContainEqual(
        expect.objectContaining({ path: `spec.${field}`, rule: 'set-once' }),
      );
    },
  );

  it('allows the autoscaler fields and rejects out-of-range use', () => {
    const scaled = vmInput(
      set('spec.guest.cpus.use', 3),
      set('spec.guest.memorySlots.use', 4),
      set('spec.targetRevision', { revision: { value: 2, flags: 1 }, updatedAt: '2026-11-27T10:00:00Z' }),
    );
    expect(validateVirtualMachineUpdate(base, scaled)).toEqual([]);
    expect(validateVirtualMachineUpdate(base, vmInput(set('spec.guest.cpus.use', 5)))).toContainEqual(
      expect.objectContaining({ path: 'spec.guest.cpus.use', rule: 'use-within-range' }),
    );
  });

  describe('ratcheting: an update is judged on what it changes', () => {
    // Stored before a rule existed (or was tightened): a disk mount path with '..' and a guest port that
    // collides with the runner port.
    const stored = vmInput(
      set('spec.disks', [{ name: 'data', mountPath: '/srv/../data', tmpfs: { size: '1Gi' } }]),
      set('metadata.finalizers', ['vm.neon.tech/finalizer']),
    );
    it('the stored object breaks the rules of today', () => {
      expect(validateVirtualMachine(stored)).toContainEqual(
        expect.objectContaining({ path: 'spec.disks[0].mountPath', rule: 'no-dotdot' }),
      );
    });

    it('leaves unchanged fields alone: scaling the VM is admitted', () => {
      expect(
        validateVirtualMachineUpdate(stored, vmInput(...storedEdits(), set('spec.guest.cpus.use', 3))),
      ).toEqual([]);
    });

    it('never blocks finalizer removal on a VM being deleted', () => {
      const deleting = vmInput(...storedEdits(), set('metadata.deletionTimestamp', '2026-01-01T00:00:00Z'));
      expect(
        validateVirtualMachineUpdate(stored, vmInput(...storedEdits(), set('metadata.finalizers', []))),
      ).toEqual([]);
      expect(
        validateVirtualMachineUpdate(deleting, {
          ...deleting,
          metadata: { ...deleting.metadata, finalizers: [] },
        }),
      ).toEqual([]);
    });

    it('still judges what the update changes, including rules across fields', () => {
      // A new invalid value of a field is reported.
      expect(validateVirtualMachineUpdate(base, vmInput(set('spec.guest.cpus.use', 5)))).toContainEqual(
        expect.objectContaining({ path: 'spec.guest.cpus.use' }),
      );
      // An unchanged guest port that the changed runnerPort now collides with is reported: the old
      // object had no such error.
      const withPort = vmInput(set('spec.guest.ports', [{ port: 8080 }]));
      expect(
        validateVirtualMachineUpdate(
          withPort,
          vmInput(set('spec.guest.ports', [{ port: 8080 }]), set('spec.runnerPort', 8080)),
        ),
      ).toContainEqual(expect.objectContaining({ path: 'spec.guest.ports[0].port', rule: 'reserved-port' }));
    });

    function storedEdits(): Array<Edit<VirtualMachine>> {
      return [
        set('spec.disks', [{ name: 'data', mountPath: '/srv/../data', tmpfs: { size: '1Gi' } }]),
        set('metadata.finalizers', ['vm.neon.tech/finalizer']),
      ];
    }
  });
});

describe('messages show the value and a valid example', () => {
  const messages = (edit: Edit<VirtualMachine>) =>
    formatFieldErrors(validateVirtualMachine(vmInput(edit))).split('\n');

  it('quantities: the examples, the value, and the fix for a GB/MB slip', () => {
    expect(messages(set('spec.guest.rootDisk.size', '8GB'))).toEqual([
      'spec.guest.rootDisk.size: must be a Kubernetes quantity such as "8Gi", "512Mi", "1.5" or "250m" — write "8Gi" (binary, GiB) or "8G" (decimal) (got "8GB") [quantity]',
    ]);
    expect(messages(set('spec.guest.memorySlotSize', 'lots'))).toEqual([
      'spec.guest.memorySlotSize: must be a Kubernetes quantity such as "8Gi", "512Mi", "1.5" or "250m" (got "lots") [quantity]',
    ]);
  });

  it('ports: the range, an example and the value', () => {
    expect(messages(set('spec.guest.ports', [{ port: 70000 }]))).toEqual([
      'spec.guest.ports[0].port: must be a port number from 1 to 65535, e.g. 5432 (got 70000) [port]',
    ]);
    expect(messages(set('spec.guest.ports', [{ port: 'http' }]))).toEqual([
      'spec.guest.ports[0].port: must be a port number from 1 to 65535, e.g. 5432 (got "http") [port]',
    ]);
  });
});
