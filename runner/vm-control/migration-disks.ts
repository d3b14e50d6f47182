/**
 * The writable disks of a migration with a QEMU that has no block migration (9.1 removed `migrate`'s
 * `blk`/`inc`): the disks travel over NBD beside the RAM stream, the way libvirt carries
 * non-shared storage. The target exports its writable drives (`nbd-server-start`, `block-export-add`
 * writable; exporting activates the incoming images) on the migration port + 1; the source mirrors
 * each into them (`blockdev-mirror`, `sync: top` for upstream's `inc`: only the qcow2 layer above the
 * shared base image, `full` otherwise) in `write-blocking` mode, so once a job is ready every guest
 * write reaches the target before it completes; the RAM stream starts only when every job is ready.
 * With `pause-before-switchover` QEMU stops at the switch-over with the guest paused, the mirrors are
 * cancelled there (a ready mirror's cancel completes it: the target holds a point-in-time copy) and the
 * stream continues (`migrate-continue`): the target never runs before its disks are complete.
 * TLS: the same x509 credentials as the RAM stream, both ways verified.
 *
 * QEMU before 9.1 keeps block migration (`blockMigration`), which this runner has always used there.
 */
import { migrationDiskPort } from '../../crds';
import type { DiskTransport } from '../api';
import { qemuBefore } from '../plan/qemu-version';
import type { QmpClient } from '../qmp';

/** QEMU's version as the QMP greeting gives it. */
export interface QemuVersion {
  readonly major: number;
  readonly minor: number;
  readonly micro?: number;
}

export function formatQemuVersion(v?: QemuVersion): string {
  return v ? `${v.major}.${v.minor}${v.micro !== undefined ? `.${v.micro}` : ''}` : 'of unknown version';
}

/** Whether this QEMU (the QMP greeting's version) still has `migrate`'s `blk`/`inc` (removed in 9.1). */
export function hasBlockMigration(qemu?: { major: number; minor: number }): boolean {
  return qemuBefore(qemu, 9, 1);
}

/** How a target with this QEMU receives writable disks (it exports them over NBD when it has no block migration). */
export function incomingDiskTransport(qemu?: QemuVersion): DiskTransport {
  return hasBlockMigration(qemu) ? 'block' : 'nbd';
}

/**
 * How a source sends the writable disks (pure): the way the target said it receives them, else the
 * source QEMU's own. Any source QEMU the runner supports (7.2 on) can mirror over NBD, so a 7.2 → 10
 * migration (a rollout to the QEMU 10 image) works; a target that wants block migration from a source
 * without it (10 → 7.2, a rollback) cannot be served: the reason, naming both versions, instead.
 */
export function outgoingDiskTransport(
  source: { readonly blockMigration: boolean; readonly qemu?: QemuVersion },
  target: { readonly disks?: DiskTransport; readonly qemu?: string },
): { transport: DiskTransport } | { refused: string } {
  const own: DiskTransport = source.blockMigration ? 'block' : 'nbd';
  if (target.disks === undefined || target.disks === own || target.disks === 'nbd')
    return { transport: target.disks ?? own };
  return {
    refused:
      `the target's QEMU ${target.qemu ?? '(version not reported)'} receives writable disks only by block migration, ` +
      `which this source's QEMU ${formatQemuVersion(source.qemu)} no longer has (removed in QEMU 9.1): migrate to a runner ` +
      'whose QEMU is 9.1 or later (the disks then travel over NBD)',
  };
}

/** The NBD port of a migration whose RAM stream goes to `migrationPort` (crds' `migrationDiskPort`). */
export const diskMigrationPort = migrationDiskPort;

interface BlockInfo {
  device: string;
  inserted?: { ro: boolean; 'node-name': string };
}

export interface MigratedDisk {
  /** The drive id (`-drive id=`), also the NBD export name. */
  readonly device: string;
  readonly nodeName: string;
}

/** The disks a migration carries (pure): every drive with a medium the guest can write. */
export function writableDisks(blocks: readonly BlockInfo[]): MigratedDisk[] {
  return blocks
    .filter((b) => b.inserted && !b.inserted.ro)
    .map((b) => ({ device: b.device, nodeName: b.inserted!['node-name'] }));
}

export async function queryWritableDisks(qmp: QmpClient): Promise<MigratedDisk[]> {
  return writableDisks(await qmp.execute<BlockInfo[]>('query-block'));
}

const exportId = (device: string) => `migration-${device}`;
const nbdNode = (device: string) => `migration-nbd-${device}`;
const jobId = (device: string) => `migration-mirror-${device}`;

/** Target: exports the writable disks for the source's mirrors; returns what it exported. */
export async function exportDisks(
  qmp: QmpClient,
  host: string,
  port: number,
  tls?: { creds: string; authz: string },
): Promise<MigratedDisk[]> {
  const disks = await queryWritableDisks(qmp);
  if (disks.length === 0) return disks;
  await qmp.execute('nbd-server-start', {
    addr: { type: 'inet', data: { host, port: String(port) } },
    ...(tls ? { 'tls-creds': tls.creds, 'tls-authz': tls.authz } : {}),
  });
  for (const d of disks)
    await qmp.execute('block-export-add', {
      type: 'nbd',
      id: exportId(d.device),
      'node-name': d.nodeName,
      name: d.device,
      writable: true,
    });
  return disks;
}

/** Target, once the incoming migration is over: closes the exports (the source has let go of them). */
export async function stopDiskExports(qmp: QmpClient): Promise<void> {
  await qmp.execute('nbd-server-stop');
}

interface BlockJob {
  device: string;
  ready: boolean;
  status?: string;
  offset?: number;
  len?: number;
}

export interface MirrorOptions {
  readonly host: string;
  readonly port: number;
  /** `sync: top` (only the layer above the shared base image) instead of `full`. */
  readonly incremental: boolean;
  /** Bytes per second for each mirror job (the request's `maxBandwidth`). */
  readonly speed: number;
  readonly tls?: { creds: string; hostname: string };
  /** How long the first full pass may take. */
  readonly readyTimeoutMs: number;
  readonly sleep: (ms: number) => Promise<void>;
}

/**
 * Source: connects to the target's exports and starts a mirror job for every disk (quick: QEMU runs the
 * copy in the background). On failure the jobs and connections made so far are removed and the error
 * thrown.
 */
export async function startMirrors(
  qmp: QmpClient,
  disks: readonly MigratedDisk[],
  o: Omit<MirrorOptions, 'readyTimeoutMs'>,
): Promise<void> {
  try {
    for (const d of disks) {
      await qmp.execute('blockdev-add', {
        driver: 'nbd',
        'node-name': nbdNode(d.device),
        server: { type: 'inet', host: o.host, port: String(o.port) },
        export: d.device,
        ...(o.tls ? { 'tls-creds': o.tls.creds, 'tls-hostname': o.tls.hostname } : {}),
      });
      await qmp.execute('blockdev-mirror', {
        'job-id': jobId(d.device),
        device: d.nodeName,
        target: nbdNode(d.device),
        sync: o.incremental ? 'top' : 'full',
        'copy-mode': 'write-blocking',
        speed: o.speed,
      });
    }
  } catch (e) {
    await releaseMirrors(qmp, disks, o.sleep).catch(() => undefined);
    throw e;
  }
}

/** Bytes of the mirrors' first pass: done and in all (QEMU's job `offset`/`len`). */
export interface MirrorProgress {
  readonly transferred: number;
  readonly total: number;
}

export interface MirrorWait {
  readonly readyTimeoutMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
  /** Polled between checks: true ends the wait with an error (a cancelled migration). */
  readonly cancelled?: () => boolean;
  readonly onProgress?: (p: MirrorProgress) => void;
}

/**
 * Source: resolves when every mirror started by `startMirrors` is ready (the target has all data; from
 * here writes are mirrored synchronously). On failure, timeout or cancel the jobs and connections are
 * removed and the error thrown.
 */
export async function waitMirrorsReady(
  qmp: QmpClient,
  disks: readonly MigratedDisk[],
  o: MirrorWait,
): Promise<void> {
  try {
    const deadline = o.now() + o.readyTimeoutMs;
    for (;;) {
      if (o.cancelled?.()) throw new Error('cancelled while the disks were being mirrored');
      const jobs = await ourJobs(qmp, disks);
      const gone = disks.filter((d) => !jobs.some((j) => j.device === jobId(d.device)));
      if (gone.length > 0)
        throw new Error(`disk mirror of ${gone.map((d) => d.device).join(', ')} ended early`);
      o.onProgress?.({
        transferred: jobs.reduce((n, j) => n + (j.offset ?? 0), 0),
        total: jobs.reduce((n, j) => n + (j.len ?? 0), 0),
      });
      if (jobs.every((j) => j.ready)) return;
      if (o.now() > deadline) throw new Error(`disk mirrors not ready after ${o.readyTimeoutMs} ms`);
      await o.sleep(20);
    }
  } catch (e) {
    await releaseMirrors(qmp, disks, o.sleep).catch(() => undefined);
    throw e;
  }
}

/** `startMirrors` then `waitMirrorsReady`: the whole first pass in one call (the bench's raw QEMU). */
export async function mirrorDisks(
  qmp: QmpClient,
  disks: readonly MigratedDisk[],
  o: MirrorOptions,
): Promise<void> {
  await startMirrors(qmp, disks, o);
  await waitMirrorsReady(qmp, disks, { ...o, now: () => Date.now() });
}

async function ourJobs(qmp: QmpClient, disks: readonly MigratedDisk[]): Promise<BlockJob[]> {
  const ids = new Set(disks.map((d) => jobId(d.device)));
  return (await qmp.execute<BlockJob[]>('query-block-jobs')).filter((j) => ids.has(j.device));
}

/** The mirror jobs' end events: a ready mirror's cancel ends in BLOCK_JOB_COMPLETED, others in CANCELLED. */
const JOB_END_EVENTS = ['BLOCK_JOB_COMPLETED', 'BLOCK_JOB_CANCELLED'] as const;

/**
 * Source: ends the mirrors (a ready job's cancel completes it with the target a point-in-time copy;
 * at the switch-over the guest is paused, so that copy is the final one) and waits until they are
 * gone, keeping the connections to the target's exports (`disconnectMirrors` closes them). Idempotent.
 *
 * At the switch-over this runs while the guest is stopped, so it costs one QMP round trip per disk
 * plus the jobs' last flush: the jobs are cancelled by their known ids (no `query-block-jobs` first)
 * and their end is taken from QMP events, with `query-block-jobs` only as a fallback every 50 ms.
 * Measured with QEMU 10.0.2 (trace `vmstate_downtime_checkpoint`, 2026-12-04): the former
 * query/cancel/poll/`blockdev-del` sequence held the paused guest 3-13 ms between `pre-switchover`
 * and `device`.
 */
export async function endMirrors(
  qmp: QmpClient,
  disks: readonly MigratedDisk[],
  sleep: (ms: number) => Promise<void>,
): Promise<void> {
  const pending = new Set(disks.map((d) => jobId(d.device)));
  let wake = () => {};
  const offs = JOB_END_EVENTS.map((name) =>
    qmp.onEvent(name, (e) => {
      if (pending.delete(String(e.data.device))) wake();
    }),
  );
  try {
    // A job that is already gone (ended, or never made) refuses the cancel; whether it is gone, or
    // refused for another reason and still running, the fallback poll tells.
    for (const id of [...pending])
      await qmp.execute('block-job-cancel', { device: id }).catch(() => undefined);
    const deadline = Date.now() + 60_000;
    while (pending.size > 0) {
      const woken = new Promise<boolean>((r) => (wake = () => r(true)));
      if (!(await Promise.race([woken, sleep(50).then(() => false)]))) {
        const live = new Set((await ourJobs(qmp, disks)).map((j) => j.device));
        for (const id of [...pending]) if (!live.has(id)) pending.delete(id);
      }
      if (pending.size > 0 && Date.now() > deadline) throw new Error('disk mirrors did not end within 60 s');
    }
  } finally {
    for (const off of offs) off();
  }
}

/** Source: closes the connections to the target's exports (after `endMirrors`). Idempotent. */
export async function disconnectMirrors(qmp: QmpClient, disks: readonly MigratedDisk[]): Promise<void> {
  for (const d of disks)
    await qmp.execute('blockdev-del', { 'node-name': nbdNode(d.device) }).catch(() => undefined);
}

/** Source: `endMirrors` then `disconnectMirrors` (a failed or cancelled stream, a failed start). */
export async function releaseMirrors(
  qmp: QmpClient,
  disks: readonly MigratedDisk[],
  sleep: (ms: number) => Promise<void>,
): Promise<void> {
  await endMirrors(qmp, disks, sleep);
  await disconnectMirrors(qmp, disks);
}
