/**
 * The numbers the runner derives from a VirtualMachineSpec, computed once and in exact integers, so
 * planners and controllers never re-parse quantities or re-apply defaults (defaults come from crds/).
 */
import {
  MEMORY_BLOCK_BYTES,
  milliCpuRoundedUp,
  parseMilliCpu,
  quantityBytes,
  type CpuScalingMode,
  type VirtualMachineSpec,
  type VirtualMachineStatus,
} from '../../crds';

export interface VmShape {
  cpus: { minMilli: number; maxMilli: number; useMilli: number };
  /** vCPU counts: boot CPUs and slots, by upstream's rounding (ceil). */
  vcpus: { min: number; max: number; use: number };
  memory: { slotBytes: bigint; minSlots: number; maxSlots: number; useSlots: number };
  scalingMode: CpuScalingMode;
}

export class SpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpecError';
  }
}

/**
 * Reads the shape from a *defaulted* spec. `status.cpus` wins over `cpus.use` for the CPUs in use: a
 * migration target or a restarted pod must come up with what the VM had, not what was first asked.
 */
export function vmShape(
  spec: VirtualMachineSpec,
  status?: VirtualMachineStatus,
  scalingModeFlag?: string,
): VmShape {
  const cpus = spec.guest.cpus;
  const slots = spec.guest.memorySlots;
  if (!cpus || !slots || spec.guest.memorySlotSize === undefined) {
    throw new SpecError(
      'spec is not defaulted: guest.cpus, guest.memorySlots and guest.memorySlotSize are required',
    );
  }
  const minMilli = parseMilliCpu(cpus.min);
  const maxMilli = parseMilliCpu(cpus.max);
  let useMilli = parseMilliCpu(status?.cpus ?? cpus.use);
  useMilli = Math.min(Math.max(useMilli, minMilli), maxMilli);
  const slotBytes = quantityBytes(spec.guest.memorySlotSize);
  if (slotBytes <= 0n || slotBytes % MEMORY_BLOCK_BYTES !== 0n) {
    throw new SpecError(`guest.memorySlotSize must be a positive multiple of ${MEMORY_BLOCK_BYTES} bytes`);
  }
  const mode = scalingModeFlag || spec.cpuScalingMode || 'QmpScaling';
  if (mode !== 'QmpScaling' && mode !== 'SysfsScaling')
    throw new SpecError(`unknown CPU scaling mode '${mode}'`);
  return {
    cpus: { minMilli, maxMilli, useMilli },
    vcpus: {
      min: milliCpuRoundedUp(minMilli),
      max: milliCpuRoundedUp(maxMilli),
      use: milliCpuRoundedUp(useMilli),
    },
    memory: { slotBytes, minSlots: slots.min, maxSlots: slots.max, useSlots: slots.use },
    scalingMode: mode,
  };
}

/** Bytes of virtio-mem memory for `slots` slots in use (the part above the boot memory). */
export function pluggedBytesFor(shape: VmShape, slots: number): bigint {
  return BigInt(slots - shape.memory.minSlots) * shape.memory.slotBytes;
}
