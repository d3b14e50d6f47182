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
import { qemuBefore } from './qemu-version';

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
 * The runner's defaults, chosen with `npm run bench -- runner-migration` (2026-12-04, two runs, TCG on
 * 2 shared cores, QEMU 7.2, 256 MiB guest, busy = 16 MiB rewritten twice a second; runner and raw QEMU
 * set from the same plan; medians of 2 rounds per run; figures runner / raw). Measured with a live
 * pre-copy, i.e. what KVM nodes (and TCG with QEMU >= 9.0) do: under TCG before 9.0 the source now
 * stops the guest for the whole stream (`stopsGuestForStream`), where the downtime limit, xbzrle and
 * auto-converge change nothing.
 * - downtime-limit 50 ms (QEMU's default is 300): busy-guest downtime 9 / 13 ms and total 735 / 765 ms,
 *   against 45.5-61.5 / 43.5-75 ms and 673-783 / 703-853 ms at 300 ms; 100 ms gave 27-37.5 / 11-42 ms;
 *   30 ms cut the downtime as far (16-24 / 10-12 ms) but cost the runner more passes (total
 *   741-1,099 ms, raw 623-685). A guest that dirties faster than the link is slowed by auto-converge
 *   (on by default in VirtualMachineMigration, as upstream) until its last pass fits.
 * - no xbzrle: no clear gain (total 508 / 802 ms against 783 / 703 untuned, 7% less RAM sent) for a
 *   256 MiB cache taken from the pod's memory on every source.
 * - no compression: `compress` took 4,395 / 4,897 ms and stopped the guest for 216 / 255 ms (two zlib
 *   threads and the vCPU on 2 cores); upstream's set (xbzrle + compress + zero-blocks) 3,522 / 3,228 ms;
 *   multifd and multifd-zstd over 2 channels on one host gained nothing (824 / 649, 920 / 729 ms).
 * Re-measured with QEMU 10.0.2 (live pre-copy under TCG, disks over NBD; 2026-12-04 20:35 UTC, one run,
 * runner / raw, downtime · total): these defaults 30 / 31 ms · 398 / 381 ms idle, 16 / 16 ms · 519 / 519
 * ms busy; the 300 ms limit 60 / 49 ms busy; xbzrle within the spread; multifd (2 channels) 25-37%
 * shorter totals with as long or longer pauses, but QEMU 10.0.2 refuses `postcopy-ram` with `multifd`,
 * so as a default it would turn `allowPostCopy` migrations away: the same defaults for every version.
 * Under KVM the guest dirties memory faster and a vCPU costs the host less, and between nodes the
 * network is the limit: compression or multifd may pay off there. Re-measure on KVM nodes before
 * relying on these (the operator's `--migration-*` flags set them per cluster).
 */
export const DEFAULT_MIGRATION_TUNING: MigrationTuning = {
  xbzrle: false,
  xbzrleCacheBytes: 256 * 1024 * 1024,
  compression: 'none',
  threads: 2,
  zeroBlocks: false,
  downtimeLimitMs: 50,
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
 * Why this QEMU cannot carry out the tuning, or undefined when it can (`qemu`: the QMP greeting's
 * version; unknown means Debian 12's 7.2, which the runner has always shipped). Checked once QEMU has
 * started, since the runner learns the version from QMP: without it a `compress` runner on QEMU >= 9.1
 * (which removed the capability) would fail every migration with QEMU's bare "Parameter 'capability'
 * does not accept value 'compress'".
 */
export function migrationTuningProblem(
  t: MigrationTuning,
  qemu?: { readonly major: number; readonly minor: number },
): string | undefined {
  if (t.compression === 'compress' && qemu !== undefined && !qemuBefore(qemu, 9, 1))
    return `-migration-compression=compress needs QEMU before 9.1, which removed the compress capability; this QEMU is ${qemu.major}.${qemu.minor}: use one of ${MIGRATION_COMPRESSIONS.filter((c) => c !== 'compress').join(', ')}`;
  return undefined;
}

/**
 * The capabilities and parameters one end sets. The source adds the per-migration choices
 * (auto-converge, post-copy, bandwidth) itself; these are the ones both ends must share.
 */
export function planMigrationTuning(t: MigrationTuning): MigrationQmpPlan {
  const multifd = usesMultifd(t);
  const capabilities: Record<string, boolean> = {
    xbzrle: t.xbzrle,
    // Named only when on: QEMU 9.1 removed the capability (setting it, even off, is refused there);
    // a runner sets its tuning once, so "not named" is QEMU's default, off.
    ...(t.compression === 'compress' ? { compress: true } : {}),
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
