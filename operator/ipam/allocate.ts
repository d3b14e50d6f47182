/**
 * Address allocation in an IPPool's `allocations` map with whereabouts v0.6 semantics: offsets are
 * decimal strings counted from the range's network address; the lowest free address between
 * range_start and range_end wins, skipping the network and broadcast addresses and excluded subnets.
 * Idempotent per id: an id that already holds an address gets the same one back.
 */
import { formatIpv4, prefixToNetmask, type IpAllocation } from '../../crds';
import type { IpRange } from './ipam-config';

export type Allocations = Readonly<Record<string, IpAllocation>>;

export interface Allocated {
  readonly ip: string;
  /** Dotted netmask of the range. */
  readonly mask: string;
  readonly prefix: number;
  readonly allocations: Record<string, IpAllocation>;
  /** False when the id already held this address (nothing to write). */
  readonly changed: boolean;
}

export class RangeExhaustedError extends Error {
  constructor(readonly range: string) {
    super(`no free address left in ${range}`);
    this.name = 'RangeExhaustedError';
  }
}

function offsetOf(allocations: Allocations, id: string): string | undefined {
  return Object.keys(allocations).find((k) => allocations[k].id === id);
}

export function allocate(allocations: Allocations, id: string, range: IpRange): Allocated {
  const { cidr } = range;
  const result = (offset: number, next: Record<string, IpAllocation>, changed: boolean): Allocated => ({
    ip: formatIpv4((cidr.network + offset) >>> 0),
    mask: prefixToNetmask(cidr.prefix),
    prefix: cidr.prefix,
    allocations: next,
    changed,
  });
  const existing = offsetOf(allocations, id);
  if (existing !== undefined) return result(Number(existing), { ...allocations }, false);

  const broadcast = cidr.network + cidr.size - 1;
  const hasNetworkAndBroadcast = cidr.prefix < 31;
  const first = Math.max(range.start, hasNetworkAndBroadcast ? cidr.network + 1 : cidr.network);
  const last = Math.min(range.end, hasNetworkAndBroadcast ? broadcast - 1 : broadcast);
  const excluded = (ip: number): boolean =>
    range.exclude.some((e) => ip >= e.network && ip < e.network + e.size);
  for (let ip = first; ip <= last; ip++) {
    const offset = ip - cidr.network;
    if (allocations[String(offset)] !== undefined || excluded(ip)) continue;
    return result(offset, { ...allocations, [String(offset)]: { id } }, true);
  }
  throw new RangeExhaustedError(range.range);
}

export interface Released {
  /** The address the id held, or undefined if it held none (releasing twice is not an error). */
  readonly ip?: string;
  readonly allocations: Record<string, IpAllocation>;
}

export function release(allocations: Allocations, id: string, range: IpRange): Released {
  const offset = offsetOf(allocations, id);
  if (offset === undefined) return { allocations: { ...allocations } };
  const next = { ...allocations };
  delete next[offset];
  return { ip: formatIpv4((range.cidr.network + Number(offset)) >>> 0), allocations: next };
}
