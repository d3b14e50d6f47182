/**
 * MilliCPU: upstream NeonVM's CPU amount, an unsigned count of thousandths of a vCPU.
 *
 * Wire format (must match upstream byte for byte): a whole number of CPUs is written as a JSON integer
 * (`1`, `3`); anything else as a milli quantity string (`"250m"`, `"1500m"`). On input any Kubernetes
 * quantity is accepted (`0.25`, `"1.5"`, `"250m"`, `2`), converted through its milli-value (rounded up).
 */
import { parseQuantity, quantityMilliValue } from './quantity';

/** What may appear on the wire for a MilliCPU field. */
export type MilliCpuWire = number | string;

export class MilliCpuError extends Error {
  constructor(
    readonly input: unknown,
    reason: string,
  ) {
    super(reason);
    this.name = 'MilliCpuError';
  }
}

/** Parses any accepted wire/input form into an integer count of milli-CPUs. */
export function parseMilliCpu(input: unknown): number {
  if (typeof input !== 'number' && typeof input !== 'string') {
    throw new MilliCpuError(input, 'must be a number of CPUs or a quantity string such as "250m"');
  }
  let milli: bigint;
  try {
    milli = quantityMilliValue(parseQuantity(input));
  } catch {
    throw new MilliCpuError(
      input,
      `'${String(input)}' is not a valid CPU quantity (e.g. 1, 0.25, "1.5", "250m")`,
    );
  }
  if (milli < 0n) throw new MilliCpuError(input, 'must not be negative');
  if (milli > 0xffff_ffffn) throw new MilliCpuError(input, 'is too large');
  return Number(milli);
}

/** Encodes milli-CPUs the way upstream serialises them. */
export function formatMilliCpu(milli: number): MilliCpuWire {
  if (!Number.isSafeInteger(milli) || milli < 0)
    throw new MilliCpuError(milli, 'must be a non-negative integer');
  return milli % 1000 === 0 ? milli / 1000 : `${milli}m`;
}

/** Normalises any accepted input form to the canonical wire form. */
export function canonicalMilliCpu(input: unknown): MilliCpuWire {
  return formatMilliCpu(parseMilliCpu(input));
}

/** Whole vCPUs needed to carry this amount (upstream's "RoundedUp"). */
export function milliCpuRoundedUp(milli: number): number {
  return Math.ceil(milli / 1000);
}

/** Human form for messages and printer-like output: `0.25`, `1`, `1.5`. */
export function milliCpuToString(milli: number): string {
  return String(milli / 1000);
}
