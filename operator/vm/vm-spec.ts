/**
 * Accessors for fields that are optional in the TypeScript type but always present on a defaulted VM
 * (the API server applies the CRD defaults; tests call `defaultVirtualMachine`). They fail loudly
 * instead of inventing a default here: defaults live in `crds/` only.
 */
import {
  parseMilliCpu,
  quantityBytes,
  type Cpus,
  type CpuScalingMode,
  type MemorySlots,
  type VirtualMachine,
} from '../../crds';

export function required<T>(value: T | undefined, field: string): T {
  if (value === undefined) throw new Error(`${field} is missing: the VirtualMachine was not defaulted`);
  return value;
}

export const vmCpus = (vm: VirtualMachine): Cpus => required(vm.spec.guest.cpus, 'spec.guest.cpus');
export const vmMemorySlots = (vm: VirtualMachine): MemorySlots =>
  required(vm.spec.guest.memorySlots, 'spec.guest.memorySlots');
export const vmMemorySlotSize = (vm: VirtualMachine): string | number =>
  required(vm.spec.guest.memorySlotSize, 'spec.guest.memorySlotSize');
export const vmRunnerPort = (vm: VirtualMachine): number => required(vm.spec.runnerPort, 'spec.runnerPort');

/** Milli-CPUs the guest should use. */
export const targetMilliCpu = (vm: VirtualMachine): number => parseMilliCpu(vmCpus(vm).use);

/** Guest memory the spec asks for, in bytes. */
export function targetMemoryBytes(vm: VirtualMachine): bigint {
  return BigInt(vmMemorySlots(vm).use) * quantityBytes(vmMemorySlotSize(vm));
}

export function cpuScalingMode(vm: VirtualMachine, fallback: CpuScalingMode): CpuScalingMode {
  return vm.spec.cpuScalingMode ?? fallback;
}

export const sshEnabled = (vm: VirtualMachine): boolean => required(vm.spec.enableSSH, 'spec.enableSSH');
export const accelerationEnabled = (vm: VirtualMachine): boolean =>
  required(vm.spec.enableAcceleration, 'spec.enableAcceleration');
