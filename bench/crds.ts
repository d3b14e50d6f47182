/**
 * The API package's hot paths as the webhook and synth use them: validating VMs (our rules on top of
 * the schema) against ajv's schema check alone, both measured here in the same run.
 */
import Ajv from 'ajv';
import { kindJsonSchema, validateVirtualMachine, VIRTUAL_MACHINE, type VirtualMachine } from '../crds';
import { timeMs, type BenchRow } from './table';

function vms(n: number): VirtualMachine[] {
  return Array.from({ length: n }, (_, i) => ({
    apiVersion: 'vm.neon.tech/v1',
    kind: 'VirtualMachine',
    metadata: { name: `vm-${i}` },
    spec: {
      guest: {
        cpus: { min: '250m', max: 4, use: 1 },
        memorySlots: { min: 1, max: 8, use: 2 },
        rootDisk: { image: 'vm-postgres:15-bullseye' },
        ports: [{ name: 'postgres', port: 5432 }],
      },
      disks: [{ name: 'data', mountPath: '/data', emptyDisk: { size: '16Gi' } }],
    },
  }));
}

export default async function benchCrds(): Promise<BenchRow[]> {
  const batch = vms(1000);
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const schemaOnly = ajv.compile(kindJsonSchema(VIRTUAL_MACHINE));
  const ours = await timeMs(() => batch.forEach((vm) => validateVirtualMachine(vm)));
  const raw = await timeMs(() => batch.forEach((vm) => schemaOnly(vm)));
  return [
    {
      name: 'validate 1,000 VMs (defaults + schema + rules)',
      value: ours,
      unit: 'ms',
      baseline: raw,
      baselineName: 'ajv schema check alone',
      ratio: ours / raw,
    },
    { name: 'validate one VM (admission webhook path)', value: ours / 1000, unit: 'ms', target: '< 1 ms' },
  ];
}
