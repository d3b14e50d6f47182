/** Specs shared by the planner tests: defaulted through crds/, as the runner sees them. */
import { defaultVirtualMachine, type VirtualMachineSpec } from '../../../crds';

export function defaultedSpec(
  guest: Partial<VirtualMachineSpec['guest']> = {},
  extra: Partial<VirtualMachineSpec> = {},
): VirtualMachineSpec {
  return defaultVirtualMachine({
    apiVersion: 'vm.neon.tech/v1',
    kind: 'VirtualMachine',
    metadata: { name: 'vm1' },
    spec: { guest: { rootDisk: { image: 'vm-debian:local' }, ...guest }, ...extra },
  }).spec;
}
