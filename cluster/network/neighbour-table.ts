/**
 * The host's IPv4 neighbour (ARP) table must hold an entry for every pod address the root namespace
 * talks to: node agents probe every pod (readiness), and the operator calls every runner. Linux's
 * defaults (gc_thresh2 512, gc_thresh3 1024) are made for a host with a few neighbours: with ~500 pods
 * on the local clusters the table overflowed ("neighbour: arp_cache: neighbor table overflow!" in the
 * kernel log) and every further pod became unreachable from the host — its readiness probe timed out
 * for good (measured: 512 of 1,000 runner pods Ready in bench/operator.ts, the rest stuck until the
 * limits were raised by hand, then all Ready within a minute).
 */
import { readFileSync, writeFileSync } from 'node:fs';

const DIR = '/proc/sys/net/ipv4/neigh/default';

/** What the local clusters need: room for several clusters of a thousand pods or more. */
export const NEIGHBOUR_TABLE_LIMITS = { gc_thresh2: 8192, gc_thresh3: 16384 } as const;

export type NeighbourThresholds = Record<keyof typeof NEIGHBOUR_TABLE_LIMITS, number>;

/** The thresholds to write: only those below what is needed (a limit is never lowered). */
export function neighbourThresholdsToRaise(
  current: Partial<NeighbourThresholds>,
): Partial<NeighbourThresholds> {
  const raise: Partial<NeighbourThresholds> = {};
  for (const key of Object.keys(NEIGHBOUR_TABLE_LIMITS) as Array<keyof NeighbourThresholds>) {
    const have = current[key];
    if (have === undefined || Number.isNaN(have) || have < NEIGHBOUR_TABLE_LIMITS[key])
      raise[key] = NEIGHBOUR_TABLE_LIMITS[key];
  }
  return raise;
}

/**
 * Raises the host's neighbour table limits when they are lower than {@link NEIGHBOUR_TABLE_LIMITS}.
 * Best effort: where /proc/sys is read-only the cluster still works up to the old limit, so a failed
 * write is returned, not thrown.
 */
export function ensureNeighbourTableCapacity(dir = DIR): { raised: string[]; failed?: string } {
  const read = (key: string): number => {
    try {
      return Number(readFileSync(`${dir}/${key}`, 'utf8').trim());
    } catch {
      return NaN;
    }
  };
  const current = { gc_thresh2: read('gc_thresh2'), gc_thresh3: read('gc_thresh3') };
  const raise = neighbourThresholdsToRaise(current);
  const raised: string[] = [];
  // gc_thresh3 first: the kernel keeps gc_thresh2 <= gc_thresh3.
  for (const key of ['gc_thresh3', 'gc_thresh2'] as const) {
    const value = raise[key];
    if (value === undefined) continue;
    try {
      writeFileSync(`${dir}/${key}`, String(value));
      raised.push(`${key}=${value}`);
    } catch (err) {
      return { raised, failed: `${dir}/${key}: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
  return { raised };
}
