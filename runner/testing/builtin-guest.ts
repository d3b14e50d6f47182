/**
 * `spec.guest` of the small test VMs: the built-in Debian guest (no image pull), 256 MiB memory slots.
 * Tests and benchmarks vary only the CPU and memory-slot ranges.
 */
export interface Range {
  readonly min: number;
  readonly max: number;
  readonly use: number;
}

export function builtinGuest(
  cpus: Range = { min: 1, max: 1, use: 1 },
  memorySlots: Range = { min: 1, max: 1, use: 1 },
): Record<string, unknown> {
  return { rootDisk: { image: 'builtin' }, cpus, memorySlotSize: '256Mi', memorySlots };
}
