/**
 * Live-migration tuning as planner input: which QEMU 7.2 migration capabilities and parameters both
 * ends set, from the runner's `-migration-*` flags. FIX: upstream hard-codes `xbzrle`, `compress`,
 * `zero-blocks` and a 256 MiB xbzrle cache (and sets `multifd-compression=zstd` without enabling
 * `multifd`, so that parameter does nothing); here each is a setting, with defaults chosen by
 * measurement (DEFAULT_MIGRATION_TUNING; bench/runner-migration.ts has the rows).
 *
 * Both ends must agree before the stream starts: QEMU starts decompression threads and multifd
 * channels on the target from its own capabilities at `migrate-incoming`, which the target runner
 * issues at start-up. Hence runner flags (the same on every runner pod), not per-request fields.
 * Pure.
 */

import { MAX_DOWNTIME_LIMIT_MS, MIGRATION_COMPRESSIONS, type MigrationCompression } from '../api';

export { MAX_DOWNTIME_LIMIT_MS, MIGRATION_COMPRESSIONS, type MigrationCompression };

export interface MigrationTuning {
  /** `xbzrle`: pages dirtied again are sent as XOR deltas against a cache of their last copy. */
  readonly xbzrle: boolean;
  /** `xbzrle-cache-size` in bytes (QEMU rounds down to a power of two; upstream 256 MiB). */
  readonly xbzrleCacheBytes: number;
  /**
   * `compress`: zlib in compression threads, first pass only (QEMU stops compressing once xbzrle
   * takes over); the only mode QEMU 7.2 reports figures for (`query-migrate` → status.info.compression).
   * `multifd*`: pages over several TCP channels, optionally zlib/zstd compressed per channel.
   */
  readonly compression: MigrationCompression;
  /** `compress-threads` / `decompress-threads`, or `multifd-channels`. */
  readonly threads: number;
  /** `zero-blocks`: block migration skips all-zero blocks of the disks it streams. */
  readonly zeroBlocks: boolean;
  /**
   * `downtime-limit` in ms (source only): pre-copy stops the guest for the last pass once QEMU
   * expects that pass to fit in this time at the measured bandwidth (QEMU's default 300 ms).
   */
  readonly downtimeLimitMs: number;
}

/**
 * The runner's defaults, chosen with `npm run bench -- runner-migration` (2026-12-04, TCG on 2 shared
 * cores, QEMU 7.2, 256 MiB guest; busy = 16 MiB rewritten twice a second; runner and raw QEMU with the
 * same settings, medians of 2 rounds each; the 300 ms and 30 ms rows are from two runs):
 * - downtime-limit 30 ms (QEMU's default is 300): busy-guest downtime 17.5 ms through the runner
 *   (raw 11.5) against 61.5 (raw 43.5) at 300 ms, total 741 ms (raw 623) against 783 (raw 703):
 *   QEMU stops the guest only when the last pass fits in 30 ms at the measured bandwidth, and at
 *   this dirty rate that cost no total time. A guest that dirties faster than the link is then
 *   slowed by auto-converge (on by default in VirtualMachineMigration) until it fits.
 * - no xbzrle: no clear gain (total 508/802 ms runner/raw against 783/703 untuned, 7% less RAM sent)
 *   for a 256 MiB cache taken from the pod's memory on every source.
 * - no compression: `compress` took 4.4 s (raw 4.9 s) against 0.8 s and stopped the guest for
 *   216 ms (raw 255): two zlib threads compete with the vCPU for 2 cores; upstream's set (xbzrle +
 *   compress + zero-blocks) 3.5 s (raw 3.2 s); multifd and multifd-zstd over 2 channels on one host
 *   gained nothing (total 824/649 and 920/729 ms, downtime 127/76 and 96/68 ms).
 * Under KVM the guest dirties memory faster and the vCPUs cost the host less, so compression and
 * multifd may pay off there, and on a real network the bandwidth, not the CPU, is the limit:
 * re-measure before changing these for KVM nodes (the operator's `--migration-*` flags set them).
 */
export const DEFAULT_MIGRATION_TUNING: MigrationTuning = {
  xbzrle: false,
  xbzrleCacheBytes: 256 * 1024 * 1024,
  compression: 'none',
  threads: 2,
  zeroBlocks: false,
  downtimeLimitMs: 30,
};

export interface MigrationQmpPlan {
  /** `migrate-set-capabilities` entries. */
  readonly capabilities: Readonly<Record<string, boolean>>;
  /** `migrate-set-parameters` arguments. */
  readonly parameters: Readonly<Record<string, number | string>>;
}

/** Whether the tuning streams RAM over multifd channels (QEMU 7.2: no post-copy then). */
export function usesMultifd(t: MigrationTuning): boolean {
  return t.compression.startsWith('multifd');
}

/** Problems with a tuning, as flag errors (the runner refuses to start with them). */
export function checkMigrationTuning(t: MigrationTuning): string[] {
  const errors: string[] = [];
  if (!MIGRATION_COMPRESSIONS.includes(t.compression))
    errors.push(
      `-migration-compression must be one of ${MIGRATION_COMPRESSIONS.join(', ')}, not "${t.compression}"`,
    );
  if (!Number.isInteger(t.threads) || t.threads < 1 || t.threads > 255)
    errors.push(`-migration-threads must be an integer in [1, 255], not ${t.threads}`);
  if (!Number.isSafeInteger(t.xbzrleCacheBytes) || t.xbzrleCacheBytes < 4096)
    errors.push(`-migration-xbzrle-cache-size must be at least 4Ki, not ${t.xbzrleCacheBytes} bytes`);
  if (
    !Number.isInteger(t.downtimeLimitMs) ||
    t.downtimeLimitMs < 1 ||
    t.downtimeLimitMs > MAX_DOWNTIME_LIMIT_MS
  )
    errors.push(
      `-migration-downtime-limit must be an integer number of ms in [1, ${MAX_DOWNTIME_LIMIT_MS}], not ${t.downtimeLimitMs}`,
    );
  return errors;
}

/**
 * The capabilities and parameters one end sets. The source adds the per-migration choices
 * (auto-converge, post-copy, bandwidth) itself; these are the ones both ends must share.
 */
export function planMigrationTuning(t: MigrationTuning): MigrationQmpPlan {
  const multifd = usesMultifd(t);
  const capabilities: Record<string, boolean> = {
    xbzrle: t.xbzrle,
    compress: t.compression === 'compress',
    multifd,
    'zero-blocks': t.zeroBlocks,
  };
  const parameters: Record<string, number | string> = {};
  if (t.xbzrle) parameters['xbzrle-cache-size'] = t.xbzrleCacheBytes;
  if (t.compression === 'compress') {
    parameters['compress-threads'] = t.threads;
    parameters['decompress-threads'] = t.threads;
  }
  if (multifd) {
    parameters['multifd-channels'] = t.threads;
    parameters['multifd-compression'] =
      t.compression === 'multifd' ? 'none' : t.compression.slice('multifd-'.length);
  }
  return { capabilities, parameters };
}

/** The per-migration choices of a `POST /migration` (VirtualMachineMigration's spec). */
export interface MigrationRequestChoices {
  readonly autoConverge: boolean;
  readonly allowPostCopy: boolean;
  /** Bytes per second; bounds pre-copy and post-copy alike. */
  readonly maxBandwidthBytes: number;
}

/**
 * Everything the source sets before `migrate` (the tuning's and the request's), so that the runner
 * and a raw-QEMU baseline (bench/runner-migration.ts) set exactly the same. `return-path` always:
 * "completed" then means the target has loaded the state. `max-postcopy-bandwidth` = `max-bandwidth`:
 * QEMU's post-copy phase is unbounded by default, which would flood the link once post-copy starts.
 */
export function planSourceMigration(t: MigrationTuning, r: MigrationRequestChoices): MigrationQmpPlan {
  const tuned = planMigrationTuning(t);
  return {
    capabilities: {
      'return-path': true,
      'auto-converge': r.autoConverge,
      'postcopy-ram': r.allowPostCopy,
      ...tuned.capabilities,
    },
    parameters: {
      'max-bandwidth': r.maxBandwidthBytes,
      'max-postcopy-bandwidth': r.maxBandwidthBytes,
      'downtime-limit': t.downtimeLimitMs,
      ...tuned.parameters,
    },
  };
}

export interface TargetMigrationPlan extends MigrationQmpPlan {
  /**
   * Whether to try `postcopy-ram` as well (separately: not every host has userfaultfd); needed only
   * if the source switches to post-copy, and QEMU 7.2 has no post-copy over multifd.
   */
  readonly tryPostCopy: boolean;
}

/** What the target sets before `migrate-incoming`: the tuning must match the source's. */
export function planTargetMigration(t: MigrationTuning): TargetMigrationPlan {
  const tuned = planMigrationTuning(t);
  return {
    capabilities: { 'return-path': true, ...tuned.capabilities },
    parameters: tuned.parameters,
    tryPostCopy: !usesMultifd(t),
  };
}
