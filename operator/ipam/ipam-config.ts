/**
 * The overlay IPAM configuration, read from the `ipam` key of a NetworkAttachmentDefinition's CNI
 * config (whereabouts format): `ipRanges[]` plus the legacy single-range fields, which come first.
 */
import {
  formatIpv4,
  parseIpv4,
  parseIpv4Cidr,
  type CniConfig,
  type Ipv4Cidr,
  type WhereaboutsIpamConfig,
} from '../../crds';

export interface IpRange {
  /** Normalised CIDR text (network address / prefix). */
  readonly range: string;
  readonly cidr: Ipv4Cidr;
  /** First and last address that may be handed out (inclusive, as numbers). */
  readonly start: number;
  readonly end: number;
  readonly exclude: readonly Ipv4Cidr[];
}

export interface IpamConfig {
  readonly networkName?: string;
  readonly ranges: readonly IpRange[];
}

export class IpamConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IpamConfigError';
  }
}

type RangeInput = { range: string; range_start?: string; range_end?: string; exclude?: string[] };

export function parseIpamConfig(cniConfigJson: string): IpamConfig {
  let cni: CniConfig;
  try {
    cni = JSON.parse(cniConfigJson) as CniConfig;
  } catch (err) {
    throw new IpamConfigError(`CNI config is not JSON: ${(err as Error).message}`);
  }
  const ipam = (cni.ipam ?? {}) as WhereaboutsIpamConfig;
  const inputs: RangeInput[] = [];
  if (ipam.range)
    inputs.push({
      range: ipam.range,
      range_start: ipam.range_start,
      range_end: ipam.range_end,
      exclude: ipam.exclude,
    });
  inputs.push(...(ipam.ipRanges ?? []));
  if (inputs.length === 0) throw new IpamConfigError('ipam config has no range');
  return { networkName: ipam.network_name, ranges: inputs.map(parseRange) };
}

export function parseRange(input: RangeInput): IpRange {
  // whereabouts accepts `10.0.0.5-10.0.0.9/24`-style ranges too; we accept the CIDR form only.
  const cidr = parseIpv4Cidr(input.range);
  if (!cidr) throw new IpamConfigError(`invalid range '${input.range}'`);
  const last = cidr.network + cidr.size - 1;
  const within = (field: string, text: string | undefined, fallback: number): number => {
    if (text === undefined || text === '') return fallback;
    const ip = parseIpv4(text);
    if (ip === undefined || ip < cidr.network || ip > last)
      throw new IpamConfigError(`${field} ${text} is not in ${input.range}`);
    return ip;
  };
  const start = within('range_start', input.range_start, cidr.network);
  const end = within('range_end', input.range_end, last);
  if (start > end)
    throw new IpamConfigError(`range_start ${input.range_start} is after range_end ${input.range_end}`);
  const exclude = (input.exclude ?? []).map((e) => {
    const c = parseIpv4Cidr(e);
    if (!c) throw new IpamConfigError(`invalid exclude '${e}'`);
    return c;
  });
  return { range: `${formatIpv4(cidr.network)}/${cidr.prefix}`, cidr, start, end, exclude };
}

/** IPPool object name: `<network_name>-<range with / replaced by ->` (whereabouts' normalisation). */
export function ipPoolName(networkName: string | undefined, range: string): string {
  const normalized = range.replace(/\//g, '-');
  return networkName ? `${networkName}-${normalized}` : normalized;
}
