import { Duration, Size, Testing, type Chart } from 'cdk8s';
import {
  ConfigMap,
  NetworkPolicy,
  NetworkPolicyTrafficDefault,
  NetworkPolicyPort,
  Secret,
  Service,
  ServiceType,
} from 'cdk8s-plus-28';
import {
  DiskSource,
  Network,
  SYNC_WAVE_ANNOTATION,
  SyncWave,
  VirtualMachine,
  type VirtualMachineProps,
} from '.';

// Synthesized manifests are untyped JSON; the tests index into them freely.
type Obj = {
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  spec: Record<string, any>;
};

const rootDisk = { image: 'neondatabase/vm-debian:11' };

function synth(chart: Chart): Obj[] {
  return Testing.synth(chart) as Obj[];
}

function vmOf(chart: Chart): Obj {
  return synth(chart).find((o) => o.kind === 'VirtualMachine')!;
}

describe('VirtualMachine', () => {
  test('minimal VM: only what was written, defaults left to the API server', () => {
    const chart = Testing.chart();
    new VirtualMachine(chart, 'vm', { metadata: { name: 'vm-debian' }, rootDisk });
    expect(synth(chart)).toMatchSnapshot();
    expect(vmOf(chart).spec).toEqual({ guest: { rootDisk } });
  });

  test('full example: readable props, disks from ConfigMap/Secret, network, Service', () => {
    const chart = Testing.chart();
    const network = new Network(chart, 'overlay');
    const config = new ConfigMap(chart, 'config', {
      metadata: { name: 'example-config' },
      data: { 'postgresql.conf': "listen_addresses = '*'" },
    });
    const creds = new Secret(chart, 'creds', {
      metadata: { name: 'example-creds' },
      stringData: { password: 'x' },
    });
    const vm = new VirtualMachine(chart, 'example', {
      metadata: { name: 'example', labels: { app: 'pg' } },
      cpus: { min: 0.25, max: 4, use: 1 },
      memory: { slotSize: Size.gibibytes(1), min: 1, max: 8, use: 2 },
      rootDisk: { image: 'vm-postgres:15-bullseye', size: Size.gibibytes(8) },
      args: ['-c', 'config_file=/etc/postgresql/postgresql.conf'],
      env: { POSTGRES_HOST_AUTH_METHOD: 'trust' },
      ports: [{ port: 5432, name: 'postgres' }],
      disks: [
        {
          name: 'pgdata',
          mountPath: '/var/lib/postgresql',
          source: DiskSource.emptyDisk(Size.gibibytes(16)),
        },
      ],
      extraNetwork: network,
      cpuScalingMode: 'SysfsScaling',
      targetArchitecture: 'amd64',
      swap: '1Gi',
      sysctl: ['vm.swappiness=10'],
      terminationGracePeriod: Duration.seconds(30),
    });
    vm.addConfigMapDisk('postgres-config', '/etc/postgresql', config, {
      items: { 'postgresql.conf': 'postgresql.conf' },
    });
    vm.addSecretDisk('creds', '/etc/creds', creds, { watch: true });
    vm.addDisk({ name: 'cache', mountPath: '/neonvm/cache', source: DiskSource.tmpfs('1Gi') });
    vm.exposePort(5432, { name: 'example', type: ServiceType.NODE_PORT });
    const out = synth(chart);
    expect(out).toMatchSnapshot();
    const spec = vmOf(chart).spec;
    expect(spec.guest.cpus).toEqual({ min: '250m', max: 4, use: 1 });
    expect(spec.guest.memorySlotSize).toBe('1Gi');
    expect(spec.guest.rootDisk.size).toBe('8Gi');
    expect(spec.disks.map((d: { name: string }) => d.name)).toEqual([
      'pgdata',
      'postgres-config',
      'creds',
      'cache',
    ]);
    expect(spec.disks[2]).toMatchObject({ watch: true, secret: { secretName: 'example-creds' } });
    expect(spec.extraNetwork).toEqual({
      enable: true,
      multusNetwork: 'neonvm-system/neonvm-overlay-for-vms',
    });
    expect(spec.terminationGracePeriodSeconds).toBe(30);
    const svc = out.find((o) => o.kind === 'Service')!;
    expect(svc.metadata.name).toBe('example');
    expect(svc.spec.selector).toEqual({ 'vm.neon.tech/name': 'example' });
    expect(svc.spec.type).toBe('NodePort');
    expect(svc.spec.ports).toEqual([{ name: 'postgres', port: 5432, targetPort: 5432 }]);
  });

  test('addPort/addEnv after construction land in the synthesized spec (lazy spec)', () => {
    const chart = Testing.chart();
    const vm = new VirtualMachine(chart, 'vm', { rootDisk, env: { A: '1' } });
    vm.addEnv('B', '2');
    vm.addPort({ port: 8080, name: 'http' });
    const spec = vmOf(chart).spec;
    expect(spec.guest.env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
    ]);
    expect(spec.guest.ports).toEqual([{ name: 'http', port: 8080 }]);
  });

  test('exposePort adds a missing guest port and names its Service port', () => {
    const chart = Testing.chart();
    const vm = new VirtualMachine(chart, 'vm', { metadata: { name: 'web' }, rootDisk });
    vm.exposePort(80, { portName: 'http' });
    const out = synth(chart);
    expect(vmOf(chart).spec.guest.ports).toEqual([{ name: 'http', port: 80 }]);
    expect(out.find((o) => o.kind === 'Service')!.spec).toMatchObject({
      type: 'ClusterIP',
      selector: { 'vm.neon.tech/name': 'web' },
    });
  });

  test("exposeViaService: every guest port in one Service whose generated name is the manifest's", () => {
    const chart = Testing.chart();
    const vm = new VirtualMachine(chart, 'pg', {
      metadata: { namespace: 'db' },
      rootDisk,
      ports: [
        { name: 'postgres', port: 5432 },
        { name: 'metrics', port: 9187 },
        { port: 53, protocol: 'UDP' },
      ],
    });
    const svc = vm.exposeViaService({ serviceType: ServiceType.LOAD_BALANCER });
    const out = synth(chart);
    expect(out).toMatchSnapshot();
    const services = out.filter((o) => o.kind === 'Service') as Array<
      Obj & { metadata: { namespace: string } }
    >;
    expect(services).toHaveLength(1);
    expect(svc.name).toMatch(/^test-pg-service-c8[0-9a-f]+$/);
    expect(services[0].metadata).toMatchObject({ name: svc.name, namespace: 'db' });
    expect(services[0].spec).toEqual({
      type: 'LoadBalancer',
      externalIPs: [],
      selector: { 'vm.neon.tech/name': vm.name },
      ports: [
        { name: 'postgres', port: 5432, targetPort: 5432 },
        { name: 'metrics', port: 9187, targetPort: 9187 },
        { name: 'udp-53', port: 53, targetPort: 53, protocol: 'UDP' },
      ],
    });
  });

  test('exposeViaService with explicit ports adds the guest ports it needs; a second Service gets its own id', () => {
    const chart = Testing.chart();
    const vm = new VirtualMachine(chart, 'web', { metadata: { name: 'web' }, rootDisk });
    const a = vm.exposeViaService({ name: 'web', ports: [{ port: 80, targetPort: 8080, name: 'http' }] });
    const b = vm.exposeViaService({ ports: [{ port: 443 }] });
    const out = synth(chart);
    expect(vmOf(chart).spec.guest.ports).toEqual([{ name: 'http', port: 8080 }, { port: 443 }]);
    expect(a.name).toBe('web');
    expect(out.filter((o) => o.kind === 'Service').map((o) => o.metadata.name)).toEqual(['web', b.name]);
    expect(out.find((o) => o.metadata.name === 'web' && o.kind === 'Service')!.spec.ports).toEqual([
      { name: 'http', port: 80, targetPort: 8080 },
    ]);
  });

  test('a VM without ports cannot be exposed: the error says how to add one', () => {
    const vm = new VirtualMachine(Testing.chart(), 'bare', { rootDisk });
    expect(() => vm.exposeViaService()).toThrow(/test\/bare: exposeViaService\(\) needs a guest port/);
  });

  test('a VM is a pod selector where cdk8s-plus takes one (Service.select, NetworkPolicy)', () => {
    const chart = Testing.chart();
    const vm = new VirtualMachine(chart, 'pg', { metadata: { name: 'pg', namespace: 'db' }, rootDisk });
    const client = new VirtualMachine(chart, 'app', { metadata: { name: 'app', namespace: 'db' }, rootDisk });
    const svc = new Service(chart, 'svc', { metadata: { name: 'pg-direct' }, ports: [{ port: 5432 }] });
    svc.select(vm);
    const policy = new NetworkPolicy(chart, 'only-app', {
      selector: vm,
      ingress: { default: NetworkPolicyTrafficDefault.DENY },
    });
    policy.addIngressRule(client, [NetworkPolicyPort.tcp(5432)]);
    const out = synth(chart);
    expect(out.find((o) => o.metadata.name === 'pg-direct')!.spec.selector).toEqual({
      'vm.neon.tech/name': 'pg',
    });
    const np = out.find((o) => o.kind === 'NetworkPolicy')!;
    expect(np.spec.podSelector).toEqual({ matchLabels: { 'vm.neon.tech/name': 'pg' } });
    expect(np.spec.ingress[0].from[0].podSelector).toEqual({ matchLabels: { 'vm.neon.tech/name': 'app' } });
  });

  test('extraNetwork by reference with a custom interface', () => {
    const chart = Testing.chart();
    new VirtualMachine(chart, 'vm', {
      rootDisk,
      extraNetwork: { network: Network.fromMultusNetwork('net/overlay'), interface: 'net2' },
    });
    expect(vmOf(chart).spec.extraNetwork).toEqual({
      enable: true,
      interface: 'net2',
      multusNetwork: 'net/overlay',
    });
  });

  test('spec escape hatch reaches every field; readable props win', () => {
    const chart = Testing.chart();
    new VirtualMachine(chart, 'vm', {
      rootDisk,
      restartPolicy: 'Never',
      spec: {
        restartPolicy: 'OnFailure',
        schedulerName: 'autoscale-scheduler',
        overcommit: { cpu: '2' },
        guest: { kernelImage: 'k:1' },
      },
    });
    const spec = vmOf(chart).spec;
    expect(spec).toMatchObject({
      restartPolicy: 'Never',
      schedulerName: 'autoscale-scheduler',
      overcommit: { cpu: '2' },
    });
    expect(spec.guest.kernelImage).toBe('k:1');
  });

  test('ArgoCD sync wave is an option', () => {
    const chart = Testing.chart();
    new VirtualMachine(chart, 'vm', { rootDisk, syncWave: SyncWave.VIRTUAL_MACHINES });
    expect(vmOf(chart).metadata.annotations).toEqual({ [SYNC_WAVE_ANNOTATION]: '0' });
  });

  test('every failing construct is reported with its path at synth, not at construction', () => {
    const chart = Testing.chart();
    const a = new VirtualMachine(chart, 'a', { rootDisk, cpus: { min: 1, max: 2, use: 1 } });
    new VirtualMachine(chart, 'b', { rootDisk, memory: { min: 1, max: 2, use: 3 } });
    a.addDisk({ name: 'rootdisk', mountPath: '/x', source: DiskSource.tmpfs('1Gi') }); // fine to call; fails at synth
    expect(() => synth(chart)).toThrow(
      /\[test\/a\] spec\.disks\[0\]\.name \(prop disks\[0\]\.name, addDisk\): 'rootdisk' is reserved[\s\S]*\[test\/b\] spec\.guest\.memorySlots\.use \(prop memory\.use\)/,
    );
  });
});

describe('VirtualMachine synth-time validation (field path in every message)', () => {
  const cm = (chart: Chart) => new ConfigMap(chart, 'cm', { metadata: { name: 'cm' } });
  const cases: Array<
    [string, Partial<VirtualMachineProps> | ((chart: Chart, vm: VirtualMachine) => void), string]
  > = [
    ['empty root image', { rootDisk: { image: '' } }, 'spec.guest.rootDisk.image'],
    ['cpu use below min', { cpus: { min: 2, max: 4, use: 1 } }, 'spec.guest.cpus.use'],
    ['cpu use above max', { cpus: { min: 1, max: 2, use: 3 } }, 'spec.guest.cpus.use'],
    ['cpu min above max', { cpus: { min: 3, max: 2, use: 2 } }, 'spec.guest.cpus.max'],
    ['cpu min zero', { cpus: { min: 0, max: 2, use: 1 } }, 'spec.guest.cpus.min'],
    ['cpu not a quantity', { cpus: { min: 1, max: 'lots', use: 1 } }, 'spec.guest.cpus.max'],
    ['memory use above max', { memory: { min: 1, max: 2, use: 3 } }, 'spec.guest.memorySlots.use'],
    ['memory use below min', { memory: { min: 2, max: 4, use: 1 } }, 'spec.guest.memorySlots.use'],
    ['memory slots over 512', { memory: { min: 1, max: 600, use: 1 } }, 'spec.guest.memorySlots.max'],
    [
      'slot size not a multiple of 8Mi',
      { memory: { slotSize: Size.mebibytes(100), min: 1, max: 2, use: 1 } },
      'spec.guest.memorySlotSize',
    ],
    ['reserved port name', { ports: [{ port: 1234, name: 'qmp' }] }, 'spec.guest.ports[0].name'],
    ['port out of range', { ports: [{ port: 70000 }] }, 'spec.guest.ports[0].port'],
    [
      'duplicate port',
      {
        ports: [
          { port: 80, name: 'a' },
          { port: 80, name: 'b' },
        ],
      },
      'spec.guest.ports[1].port',
    ],
    ['port colliding with the runner', { ports: [{ port: 25183 }] }, 'spec.guest.ports[0].port'],
    ['invalid env name', { env: { 'BAD-NAME': 'x' } }, 'spec.guest.env[0].name'],
    [
      'reserved disk name',
      (_c, vm) => vm.addDisk({ name: 'rootdisk', mountPath: '/d', source: DiskSource.tmpfs('1Gi') }),
      'spec.disks[0].name',
    ],
    [
      'disk name too long',
      (_c, vm) => vm.addDisk({ name: 'd'.repeat(40), mountPath: '/d', source: DiskSource.tmpfs('1Gi') }),
      'spec.disks[0].name',
    ],
    [
      'relative mount path',
      (_c, vm) => vm.addDisk({ name: 'd', mountPath: 'rel', source: DiskSource.emptyDisk('1Gi') }),
      'spec.disks[0].mountPath',
    ],
    [
      'duplicate mount path',
      (c, vm) => {
        vm.addDisk({ name: 'a', mountPath: '/m', source: DiskSource.tmpfs('1Gi') });
        vm.addConfigMapDisk('b', '/m', cm(c));
      },
      'spec.disks[1].mountPath',
    ],
    [
      'zero-size empty disk',
      (_c, vm) => vm.addDisk({ name: 'd', mountPath: '/d', source: DiskSource.emptyDisk('0') }),
      'spec.disks[0].emptyDisk.size',
    ],
    [
      'watch on a tmpfs',
      { spec: { disks: [{ name: 'd', mountPath: '/d', watch: true, tmpfs: { size: '1Gi' } }] } },
      'spec.disks[0].watch',
    ],
    [
      'invalid multus reference',
      { extraNetwork: Network.fromMultusNetwork('a/b/c') },
      'spec.extraNetwork.multusNetwork',
    ],
    [
      'interface name too long',
      { extraNetwork: { network: Network.fromMultusNetwork('ns/n'), interface: 'x'.repeat(20) } },
      'spec.extraNetwork.interface',
    ],
    ['invalid VM name', { metadata: { name: 'Not_A_Name' } }, 'metadata.name'],
    ['unknown scaling mode', { cpuScalingMode: 'Magic' as never }, 'spec.cpuScalingMode'],
    ['unknown architecture', { targetArchitecture: 'riscv64' as never }, 'spec.targetArchitecture'],
    ['tls without issuer', { tls: { serverName: 'vm.example' } }, 'spec.tls.certificateIssuer'],
    [
      'bad tls duration',
      { tls: { serverName: 'a', certificateIssuer: 'ca', expireAfter: '3 days' } },
      'spec.tls.expireAfter',
    ],
    ['negative root disk size', { rootDisk: { image: 'x', size: '-1Gi' } }, 'spec.guest.rootDisk.size'],
    [
      'unknown field through the escape hatch',
      { spec: { guest: { typo: true } as never } },
      'spec.guest.typo',
    ],
  ];

  test.each(cases.map(([name, change, path]) => [`${name} → ${path}`, change, path] as const))(
    '%s',
    (_title, change, path) => {
      const chart = Testing.chart();
      const props = typeof change === 'function' ? {} : change;
      const vm = new VirtualMachine(chart, 'vm', { rootDisk, ...props });
      if (typeof change === 'function') change(chart, vm);
      let message = '';
      try {
        Testing.synth(chart);
      } catch (e) {
        message = String(e);
      }
      const escaped = path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      expect(message).toMatch(new RegExp(`\\[test/vm\\] ${escaped}( \\(prop [^)]+\\))?:`));
    },
  );

  test('an error from a prop names the prop, the wire path, the value and a valid example', () => {
    const chart = Testing.chart();
    new VirtualMachine(chart, 'vm', {
      rootDisk: { image: 'x', size: '8GB' },
      cpus: { min: 1, max: 2, use: 3 },
    });
    expect(() => Testing.synth(chart)).toThrow(
      '[test/vm] spec.guest.rootDisk.size (prop rootDisk.size): must be a Kubernetes quantity such as "8Gi", "512Mi", "1.5" or "250m" — write "8Gi" (binary, GiB) or "8G" (decimal) (got "8GB") [quantity]',
    );
    expect(() => Testing.synth(chart)).toThrow('[test/vm] spec.guest.cpus.use (prop cpus.use): ');
  });

  test('at least 20 cases', () => expect(cases.length).toBeGreaterThanOrEqual(20));
});
