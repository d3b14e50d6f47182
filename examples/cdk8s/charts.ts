/**
 * The seed's examples as cdk8s charts: the operator install, `vm-debian`, the full `example` VM (with
 * its ConfigMap and Service) and its migration — the same objects as `examples/*.yaml`, written with
 * the constructs. Each chart becomes one YAML file.
 */
import { Chart, Size, type App } from 'cdk8s';
import { ConfigMap, ServiceType } from 'cdk8s-plus-28';
import { DiskSource, NeonVmInstall, Network, SyncWave, VirtualMachine, VirtualMachineMigration } from '../../constructs';

export interface ExampleChartsOptions {
  /** Operator, runner and device plugin images of the install chart. */
  readonly operatorImage?: string;
  readonly runnerImage?: string;
  readonly devicePluginImage?: string;
}

export function addExampleCharts(app: App, options: ExampleChartsOptions = {}): void {
  new NeonVmInstall(new Chart(app, 'neonvm-install'), 'neonvm', {
    image: options.operatorImage ?? 'ghcr.io/neonvm-ts/neonvm-operator:0.1.0',
    runnerImage: options.runnerImage ?? 'ghcr.io/neonvm-ts/neonvm-runner:0.1.0',
    devicePluginImage: options.devicePluginImage ?? 'ghcr.io/neonvm-ts/neonvm-device-plugin:0.1.0',
    syncWaves: true,
  });

  new VirtualMachine(new Chart(app, 'vm-debian'), 'vm-debian', {
    metadata: { name: 'vm-debian' },
    rootDisk: { image: 'neondatabase/vm-debian:11' },
    syncWave: SyncWave.VIRTUAL_MACHINES,
  });

  const chart = new Chart(app, 'vm-example');
  const config = new ConfigMap(chart, 'config', {
    metadata: { name: 'example-config' },
    data: {
      'postgresql.conf': [
        "listen_addresses = '*'",
        "shared_preload_libraries = 'pg_stat_statements'",
        'max_connections = 64',
        'shared_buffers = 256MB',
        '',
      ].join('\n'),
    },
  });
  const vm = new VirtualMachine(chart, 'example', {
    metadata: { name: 'example' },
    cpus: { min: 1, max: 4, use: 1 },
    memory: { slotSize: Size.gibibytes(1), min: 1, max: 4, use: 2 },
    rootDisk: { image: 'vm-postgres:15-bullseye', size: Size.gibibytes(8) },
    args: ['-c', 'config_file=/etc/postgresql/postgresql.conf'],
    // for testing only - allows login without password
    env: { POSTGRES_HOST_AUTH_METHOD: 'trust' },
    ports: [
      { name: 'postgres', port: 5432 },
      { name: 'host-metrics', port: 9100 },
    ],
    extraNetwork: Network.operatorDefault(),
    disks: [{ name: 'pgdata', mountPath: '/var/lib/postgresql', source: DiskSource.emptyDisk(Size.gibibytes(16)) }],
    syncWave: SyncWave.VIRTUAL_MACHINES,
  });
  vm.addConfigMapDisk('postgres-config', '/etc/postgresql', config, { items: { 'postgresql.conf': 'postgresql.conf' } });
  vm.addDisk({ name: 'cache', mountPath: '/neonvm/cache', source: DiskSource.tmpfs(Size.gibibytes(1)) });
  vm.exposeViaService({ name: 'example', serviceType: ServiceType.NODE_PORT, ports: [{ port: 5432 }] });

  new VirtualMachineMigration(new Chart(app, 'vm-example-migration'), 'migration', {
    metadata: { name: 'example' },
    vm: 'example',
    syncWave: SyncWave.MIGRATIONS,
  });
}
