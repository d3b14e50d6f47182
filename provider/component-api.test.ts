/**
 * The Pulumi API as users of Pulumi's own component libraries expect it: deep `Input<>` args, a
 * component accepted where a reference is meant (with the dependency), `name`/`namespace` outputs,
 * one `ResourceError` per invalid resource (thrown by the constructor when the args are plain),
 * a timeout, and the change report reading through the component's own provider.
 */
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { VirtualMachine, VirtualMachineMigration, providerKubeconfig } from '.';

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
      // The API server fills in the namespace the provider defaulted.
      const inputs = args.inputs as { metadata?: { namespace?: string } };
      const state =
        args.type.startsWith('kubernetes:vm.neon.tech') && inputs.metadata
          ? { ...inputs, metadata: { namespace: 'default', ...inputs.metadata } }
          : inputs;
      return { id: `${args.name}-id`, state };
    },
    call: (args) => args.inputs,
  },
  'neonvm-test',
  'unit',
  false,
);

/** Records the resource options the SDK sees (a component's transformations reach its children). */
const dependsOnOf = new Map<string, string[]>();
const recordDependsOn: pulumi.ResourceTransformation = (args) => {
  const deps = args.opts.dependsOn;
  const list = (Array.isArray(deps) ? deps : deps ? [deps] : []) as pulumi.Resource[];
  dependsOnOf.set(
    args.name,
    list.map((d) => (d as unknown as { __name?: string }).__name ?? '?'),
  );
  return undefined;
};

function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}
const settle = () => new Promise((r) => setTimeout(r, 50));

beforeEach(() => created.splice(0));

test('args are deep inputs: an Output anywhere in the props', async () => {
  const vm = new VirtualMachine('deep', {
    rootDisk: { image: pulumi.output('vm-postgres:15-bullseye'), size: pulumi.output('8Gi') },
    cpus: { min: 1, max: pulumi.output(4), use: 1 },
    ports: [{ port: pulumi.output(5432), name: 'postgres' }],
    metadata: { namespace: pulumi.output('db') },
    liveObjectReader: false,
  });
  const object = await valueOf(vm.object);
  expect(object.spec.guest.rootDisk).toEqual({ image: 'vm-postgres:15-bullseye', size: '8Gi' });
  expect(object.spec.guest.cpus).toEqual({ min: 1, max: 4, use: 1 });
  expect(object.metadata).toMatchObject({ name: 'deep', namespace: 'db' });
});

test('name and namespace outputs come from the created object', async () => {
  const vm = new VirtualMachine('pg', { rootDisk: { image: 'img' }, liveObjectReader: false });
  expect(await valueOf(vm.name)).toBe('pg');
  expect(await valueOf(vm.namespace)).toBe('default');
});

test('a timeout becomes the provider annotation; user annotations are kept', async () => {
  new VirtualMachine('slow', {
    rootDisk: { image: 'img' },
    metadata: { annotations: { team: 'db' } },
    timeoutSeconds: 1200,
    liveObjectReader: false,
  });
  await settle();
  expect(
    (created.find((r) => r.name === 'slow-vm')!.inputs.metadata as { annotations: unknown }).annotations,
  ).toEqual({
    team: 'db',
    'pulumi.com/waitFor': 'jsonpath={.status.phase}=Running',
    'pulumi.com/timeoutSeconds': '1200',
  });
});

test('invalid plain args: one ResourceError from the constructor, naming the component and every field', () => {
  let error: unknown;
  try {
    new VirtualMachine('bad', {
      rootDisk: { image: 'img', size: '8GB' },
      cpus: { min: 2, max: 1, use: 3 },
      liveObjectReader: false,
    });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(pulumi.ResourceError);
  const message = (error as Error).message;
  expect(message).toMatch(/^VirtualMachine bad is invalid:/);
  expect(message).toMatch(/spec\.guest\.cpus\.use/);
  expect(message).toMatch(/spec\.guest\.rootDisk\.size/);
  expect((error as pulumi.ResourceError).resource?.getProvider).toBeDefined();
});

test('a migration takes the VirtualMachine component: its name, its namespace, a dependency on it', async () => {
  const vm = new VirtualMachine('pg', {
    rootDisk: { image: 'img' },
    metadata: { name: 'pg-main', namespace: 'db' },
    liveObjectReader: false,
  });
  const m = new VirtualMachineMigration(
    'move',
    { vm, metadata: { annotations: { why: 'drain' } } },
    { transformations: [recordDependsOn] },
  );
  const object = await valueOf(m.object);
  expect(object.spec).toEqual({ vmName: 'pg-main' });
  expect(object.metadata).toEqual({ name: 'move', namespace: 'db', annotations: { why: 'drain' } });
  await settle();
  expect(dependsOnOf.get('move-migration')).toEqual(['pg']);
  expect(await valueOf(m.name)).toBe('move');
});

test("the change report reads through the component's own Kubernetes provider", async () => {
  const kubeconfig = 'apiVersion: v1\nkind: Config\nclusters: []\n';
  const provider = new k8s.Provider('staging', { kubeconfig, context: 'staging-admin' });
  const vm = new VirtualMachine('pg', { rootDisk: { image: 'img' } }, { providers: [provider] });
  expect(await valueOf(providerKubeconfig(vm))).toEqual({ kubeconfig, context: 'staging-admin' });
  const plain = new VirtualMachine('other', { rootDisk: { image: 'img' }, liveObjectReader: false });
  const previous = process.env.KUBECONFIG;
  process.env.KUBECONFIG = '/from/env';
  try {
    expect(await valueOf(providerKubeconfig(plain))).toEqual({ kubeconfig: '/from/env', context: undefined });
  } finally {
    process.env.KUBECONFIG = previous;
  }
});
