import * as pulumi from '@pulumi/pulumi';
import { ValidationError } from '../crds';
import {
  AUTOSCALER_IGNORE_CHANGES,
  NeonVmInstall,
  Network,
  VirtualMachine,
  VirtualMachineMigration,
  assertValidVirtualMachine,
  buildVirtualMachineObject,
  virtualMachineChangeWarning,
} from '.';

interface Recorded {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
}

const created: Recorded[] = [];

pulumi.runtime.setMocks(
  {
    newResource: (args) => {
      created.push({ type: args.type, name: args.name, inputs: args.inputs as Record<string, unknown> });
      // Custom resources come back without status, as on a cluster without the operator.
      return { id: `${args.name}-id`, state: { ...args.inputs, status: undefined } };
    },
    call: (args) => args.inputs,
  },
  'neonvm-test',
  'unit',
  true, // preview: the change warning only runs at preview
);

function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 50));
}

const example = {
  metadata: { name: 'example', namespace: 'db' },
  cpus: { min: 0.25, max: 4, use: 1 },
  memory: { slotSize: '1Gi', min: 1, max: 8, use: 2 },
  rootDisk: { image: 'vm-postgres:15-bullseye', size: '8Gi' },
  ports: [{ port: 5432, name: 'postgres' }],
  liveObjectReader: false as const,
};

describe('VirtualMachine component', () => {
  beforeEach(() => created.splice(0));

  test('child CustomResource named <name>-vm, parented, with waitFor and canonical spec', async () => {
    const vm = new VirtualMachine('example', example);
    const object = await valueOf(vm.object);
    await settle();
    const child = created.find((r) => r.name === 'example-vm')!;
    expect(child.type).toBe('kubernetes:vm.neon.tech/v1:VirtualMachine');
    expect(child.inputs.metadata).toEqual({
      name: 'example',
      namespace: 'db',
      annotations: { 'pulumi.com/waitFor': 'jsonpath={.status.phase}=Running' },
    });
    expect(object.spec.guest.cpus).toEqual({ min: '250m', max: 4, use: 1 });
    expect(created.find((r) => r.name === 'example')!.type).toBe('neonvm:index:VirtualMachine');
  });

  test('waitFor can be turned off; inputs may be outputs', async () => {
    new VirtualMachine('quiet', {
      ...example,
      metadata: { name: 'quiet' },
      rootDisk: pulumi.output({ image: 'img' }),
      waitForRunning: false,
    });
    await settle();
    expect(
      (created.find((r) => r.name === 'quiet-vm')!.inputs.metadata as { annotations?: unknown }).annotations,
    ).toEqual({});
  });

  test('ignoreChanges preset for autoscaler-owned fields', () => {
    expect(AUTOSCALER_IGNORE_CHANGES).toEqual([
      'spec.guest.cpus.use',
      'spec.guest.memorySlots.use',
      'spec.targetRevision',
    ]);
  });

  test('preview warns which edits hot-plug and which restart, against the previous object', async () => {
    const warn = jest.spyOn(pulumi.log, 'warn').mockResolvedValue();
    const previous = buildVirtualMachineObject('example', example.metadata, {
      ...example,
      liveObjectReader: undefined,
    } as never);
    new VirtualMachine('example', {
      ...example,
      cpus: { min: 0.25, max: 4, use: 2 },
      rootDisk: { image: 'vm-postgres:16' },
      previousObject: previous,
    });
    await settle();
    const message = warn.mock.calls.map((c) => c[0]).join('\n');
    expect(message).toMatch(/spec\.guest\.cpus\.use: 1 → 2 — applied live/);
    expect(message).toMatch(/spec\.guest\.rootDisk: .* — will be REJECTED/);
    warn.mockRestore();
  });
});

describe('pure helpers', () => {
  test('invalid args fail with field paths (preview stops)', () => {
    const vm = buildVirtualMachineObject(
      'bad',
      {},
      { rootDisk: { image: 'x' }, cpus: { min: 2, max: 1, use: 3 } },
    );
    expect(() => assertValidVirtualMachine(vm)).toThrow(ValidationError);
    expect(() => assertValidVirtualMachine(vm)).toThrow(/spec\.guest\.cpus\.use/);
  });

  test('fields under ignoreChanges are left out of the warning', () => {
    const a = buildVirtualMachineObject(
      'vm',
      {},
      { rootDisk: { image: 'x' }, cpus: { min: 1, max: 4, use: 1 } },
    );
    const b = buildVirtualMachineObject(
      'vm',
      {},
      { rootDisk: { image: 'x' }, cpus: { min: 1, max: 4, use: 3 } },
    );
    expect(virtualMachineChangeWarning(a, b)).toMatch(/cpus\.use/);
    expect(virtualMachineChangeWarning(a, b, ['spec.guest.cpus.use'])).toBeUndefined();
  });

  test('no warning when nothing changes', () => {
    const vm = buildVirtualMachineObject('same', {}, { rootDisk: { image: 'x' } });
    expect(virtualMachineChangeWarning(vm, vm)).toBeUndefined();
  });
});

describe('other components', () => {
  beforeEach(() => created.splice(0));

  test('VirtualMachineMigration by name keeps annotations and labels', async () => {
    const m = new VirtualMachineMigration('move', {
      vm: 'example',
      metadata: { namespace: 'db', labels: { a: 'b' }, annotations: { note: 'kept' } },
    });
    expect((await valueOf(m.object)).spec).toEqual({ vmName: 'example' });
    await settle();
    const child = created.find((r) => r.name === 'move-migration')!;
    expect(child.type).toBe('kubernetes:vm.neon.tech/v1:VirtualMachineMigration');
    expect(child.inputs.metadata).toEqual({
      name: 'move',
      namespace: 'db',
      labels: { a: 'b' },
      annotations: { note: 'kept' },
    });
  });
  test('Network: three attachment definitions named <name>-<role>', async () => {
    const net = new Network('overlay');
    expect(await valueOf(net.multusNetwork)).toBe('neonvm-system/neonvm-overlay-for-vms');
    await settle();
    expect(created.filter((r) => r.type.startsWith('kubernetes:k8s.cni.cncf.io')).map((r) => r.name)).toEqual(
      ['overlay-for-vms', 'overlay-for-pods', 'overlay-ipam'],
    );
  });

  test('NeonVmInstall: every bundle object in one yaml.v2.ConfigGroup', async () => {
    new NeonVmInstall('neonvm', {
      image: 'op:1',
      runnerImage: 'runner:1',
      devicePluginImage: 'device-plugin:1',
      skipAwait: true,
    });
    await settle();
    const groups = created.filter((r) => r.type === 'kubernetes:yaml/v2:ConfigGroup');
    expect(groups.map((g) => g.name)).toEqual(['neonvm']);
    const objs = groups[0].inputs.objs as Array<{ kind: string; metadata: { name: string } }>;
    expect(objs.filter((o) => o.kind === 'CustomResourceDefinition')).toHaveLength(3);
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(
      expect.arrayContaining([
        'Namespace/neonvm-system',
        'Deployment/neonvm-controller',
        'DaemonSet/neonvm-device-plugin',
        'DaemonSet/neonvm-vxlan-controller',
        'ValidatingWebhookConfiguration/neonvm-validating-webhook-configuration',
      ]),
    );
    expect(JSON.stringify(objs)).toContain('device-plugin:1');
    expect(groups[0].inputs.skipAwait).toBe(true);
  });
});
