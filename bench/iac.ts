/**
 * cdk8s synth of N VirtualMachines through the construct (lazy spec, canonical encodings, synth-time
 * `crds` validation of every VM, YAML) against writing the very same objects with the `yaml` library
 * alone, both in this run. The difference is what the construct layer costs.
 */
import { App, Chart, Size } from 'cdk8s';
import { stringify } from 'yaml';
import { DiskSource, VirtualMachine } from '../constructs';
import { timeMs, type BenchRow } from './table';

// One value object shared by every VM: sources are immutable.
const vmDataDisk = DiskSource.emptyDisk('16Gi');

function buildApp(n: number): App {
  const app = new App();
  const chart = new Chart(app, 'vms');
  for (let i = 0; i < n; i++) {
    const vm = new VirtualMachine(chart, `vm-${i}`, {
      metadata: { name: `vm-${i}` },
      cpus: { min: 0.25, max: 4, use: 1 },
      memory: { slotSize: Size.gibibytes(1), min: 1, max: 8, use: 2 },
      rootDisk: { image: 'vm-postgres:15-bullseye', size: Size.gibibytes(8) },
      ports: [{ name: 'postgres', port: 5432 }],
      env: { PGDATA: '/data' },
    });
    vm.addDisk({ name: 'data', mountPath: '/data', source: vmDataDisk });
  }
  return app;
}

export default async function benchIac(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const n of [1, 100, 1000]) {
    // The baseline's input: the objects the construct synthesizes, as plain data (built untimed).
    const objects = buildApp(n).charts.flatMap((c) => c.toJson());
    const synth = await timeMs(() => buildApp(n).synthYaml());
    const plain = await timeMs(() => objects.map((o) => stringify(o)).join('---\n'));
    rows.push({
      name: `cdk8s synth of ${n.toLocaleString('en')} VM${n === 1 ? '' : 's'} (construct + validation + YAML)`,
      value: synth,
      unit: 'ms',
      baseline: plain,
      baselineName: 'same objects, yaml.stringify only',
      ratio: synth / plain,
      ...(n === 1000 ? { target: '< 3000 ms' } : {}),
    });
  }
  return rows;
}
