/**
 * Address allocation in an IPPool's `allocations` map with whereabouts v0.6 semantics: offsets are
 * decimal strings counted from the range's network address; the lowest free address between
 * range_start and range_end wins, skipping the network and broadcast addresses and excluded subnets.
 * Idempotent per id: an id that already holds an address gets the same one back.
 *
 * Allocations are keyed by the VM (`id` = `<namespace>/<name>`, upstream's format) and record the VM's
 * UID in `podref` (upstream leaves it empty): acquiring again after a lost status write returns the same
 * address, and a release — always attempted when the VM is deleted, whether its status recorded the
 * address or not — frees only what that VM (by UID) holds, never the address of a newer VM of the
 * same name.
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

export function allocate(allocations: Allocations, id: string, range: IpRange, owner?: string): Allocated {
  const { cidr } = range;
  const result = (offset: number, next: Record<string, IpAllocation>, changed: boolean): Allocated => ({
    ip: formatIpv4((cidr.network + offset) >>> 0),
    mask: prefixToNetmask(cidr.prefix),
    prefix: cidr.prefix,
    allocations: next,
    changed,
  });
  const existing = offsetOf(allocations, id);
  if (existing !== undefined) {
    // Same name: the same address (a leftover of an earlier VM of that name is taken over).
    if (!owner || allocations[existing].podref === owner)
      return result(Number(existing), { ...allocations }, false);
    return result(Number(existing), { ...allocations, [existing]: { id, podref: owner } }, true);
  }

  const broadcast = cidr.network + cidr.size - 1;
  const hasNetworkAndBroadcast = cidr.prefix < 31;
  const first = Math.max(range.start, hasNetworkAndBroadcast ? cidr.network + 1 : cidr.network);
  const last = Math.min(range.end, hasNetworkAndBroadcast ? broadcast - 1 : broadcast);
  const excluded = (ip: number): boolean =>
    range.exclude.some((e) => ip >= e.network && ip < e.network + e.size);
  for (let ip = first; ip <= last; ip++) {
    const offset = ip - cidr.network;
    if (allocations[String(offset)] !== undefined || excluded(ip)) continue;
    return result(offset, { ...allocations, [String(offset)]: owner ? { id, podref: owner } : { id } }, true);
  }
  throw new RangeExhaustedError(range.range);
}

export interface Released {
  /** The address the id held, or undefined if it held none (releasing twice is not an error). */
  readonly ip?: string;
  readonly allocations: Record<string, IpAllocation>;
}

export function release(allocations: Allocations, id: string, range: IpRange, owner?: string): Released {
  const offset = offsetOf(allocations, id);
  if (offset === undefined) return { allocations: { ...allocations } };
  // Held by another VM of the same name (created after this one): not ours to release.
  const holder = allocations[offset].podref;
  if (owner && holder && holder !== owner) return { allocations: { ...allocations } };
  const next = { ...allocations };
  delete next[offset];
  return { ip: formatIpv4((range.cidr.network + Number(offset)) >>> 0), allocations: next };
}
