/**
 * Live migration over QMP, both ends. Source: the capabilities and parameters of
 * `planSourceMigration` (runner/plan/migration-tuning.ts: the tuning's and the request's), `migrate` with block
 * migration of the writable disks (upstream's `inc`/`blk`), then a poll loop keeping the latest
 * `query-migrate`. Target: the same tuning, then `migrate-incoming`.
 *
 * Under TCG the source's vCPUs are stopped for the whole stream (stop-and-copy, see
 * `stopsGuestForStream`): QEMU 7.2 loses guest writes during a live TCG pre-copy. The target then
 * arrives paused and its runner resumes it (`resumesIncomingGuest`); a stream that fails before the
 * switch-over resumes the source (`resumesSourceAfter`).
 *
 * With TLS credentials (the operator's per-VM certificate, the same on both ends) the stream is TLS
 * with both peers verified: the source checks the target's certificate against the CA and the VM's
 * name (`tls-hostname`), the target requires a client certificate from the CA whose subject is that
 * same name (`tls-authz`), so neither another VM's runner nor a plaintext peer can send or receive
 * this VM's memory. The credential objects are made over QMP when needed (`object-add`), re-read on
 * each outgoing migration so a renewed certificate is used. TLS covers every channel, multifd's too.
 */
import { MIGRATION_PORT, parseQuantity, quantityValue, type MigrationInfo } from '../../crds';
import { sleep, systemClock, type Clock, type TimerHandle } from '../../host';
import type { Accel, DiskTransport, MigrationRole, MigrationStartRequest } from '../api';
import type { QmpClient } from '../qmp';
import type { CpuScaler } from './cpu-scaler';
import {
  DEFAULT_MIGRATION_TUNING,
  migrationTuningProblem,
  planSourceMigration,
  planTargetMigration,
  usesMultifd,
  type MigrationTuning,
} from '../plan/migration-tuning';
import { MIGRATION_ACTIVE_STATES, toMigrationInfo, type QueryMigrate } from './migration-info';
import { qemuBefore } from '../plan/qemu-version';
import {
  diskMigrationPort,
  disconnectMirrors,
  endMirrors,
  exportDisks,
  outgoingDiskTransport,
  queryWritableDisks,
  releaseMirrors,
  startMirrors,
  stopDiskExports,
  waitMirrorsReady,
  type MigratedDisk,
  type MirrorProgress,
  type QemuVersion,
} from './migration-disks';
import { badRequest, conflict, VmError } from './vm-error';

/** QEMU's TLS credentials directory (`ca-cert.pem`, `server-*.pem`, `client-*.pem`) and the VM's name in it. */
export interface MigrationTls {
  readonly dir: string;
  readonly hostname: string;
}

/** QOM ids of the credential objects (a target that later migrates out holds both). */
export const MIGRATION_TLS_IDS = {
  client: 'migration-tls-client',
  server: 'migration-tls-server',
  authz: 'migration-tls-authz',
} as const;

export interface ValidMigrationRequest {
  targetHost: string;
  targetPort: number;
  maxBandwidthBytes: number;
  allowPostCopy: boolean;
  autoConverge: boolean;
  incremental: boolean;
  targetVcpus?: number;
  /** How the target receives the writable disks (its `GET /qemu` `incomingDisks`), when the operator said. */
  targetDisks?: DiskTransport;
  targetQemu?: string;
}

/** Validates a POST /migration body (pure): defaults as VirtualMachineMigration's spec. */
export function validateMigrationRequest(body: unknown): ValidMigrationRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest('body must be a JSON object');
  const r = body as Partial<Record<keyof MigrationStartRequest, unknown>>;
  if (typeof r.targetHost !== 'string' || !/^[A-Za-z0-9.:-]+$/.test(r.targetHost))
    throw badRequest('targetHost must be a host name or IP address');
  const port = r.targetPort ?? MIGRATION_PORT;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)
    throw badRequest('targetPort must be a port number');
  let bw: number;
  try {
    const v = r.maxBandwidth ?? '1Gi';
    if (typeof v !== 'string' && typeof v !== 'number') throw new Error();
    bw = Number(quantityValue(parseQuantity(v)));
  } catch {
    throw badRequest('maxBandwidth must be a quantity such as "1Gi" (bytes per second)');
  }
  if (!(bw > 0)) throw badRequest('maxBandwidth must be positive');
  const bool = (name: 'allowPostCopy' | 'autoConverge' | 'incremental', dflt: boolean): boolean => {
    const v = r[name] ?? dflt;
    if (typeof v !== 'boolean') throw badRequest(`${name} must be a boolean`);
    return v;
  };
  const vcpus = r.targetVcpus;
  if (vcpus !== undefined && (typeof vcpus !== 'number' || !Number.isInteger(vcpus) || vcpus < 1))
    throw badRequest('targetVcpus must be a positive integer');
  const disks = r.targetDisks;
  if (disks !== undefined && disks !== 'block' && disks !== 'nbd')
    throw badRequest('targetDisks must be "block" or "nbd"');
  const qemu = r.targetQemu;
  if (qemu !== undefined && (typeof qemu !== 'string' || !/^[0-9][0-9A-Za-z.+~-]{0,63}$/.test(qemu)))
    throw badRequest('targetQemu must be a QEMU version such as "10.0.2"');
  return {
    targetHost: r.targetHost,
    targetPort: port,
    maxBandwidthBytes: bw,
    allowPostCopy: bool('allowPostCopy', false),
    autoConverge: bool('autoConverge', true),
    incremental: bool('incremental', true),
    targetVcpus: vcpus as number | undefined,
    ...(disks ? { targetDisks: disks } : {}),
    ...(qemu ? { targetQemu: qemu } : {}),
  };
}

/**
 * Whether the source stops its vCPUs (QMP `stop`) before the stream starts: under TCG with a QEMU
 * before 9.0 (`qemu`: the QMP greeting's version), yes.
 *
 * Why (issue 17, measured 2026-12-04): QEMU 7.2 (Debian's 7.2.22 included) clears the migration dirty
 * bitmap 64 pages at a time (`cpu_physical_memory_sync_dirty_bitmap`'s aligned fast path) without
 * resetting the TCG TLB's not-dirty flags, so a vCPU keeps storing through TLB entries that no longer
 * mark pages dirty: those stores never reach the target (upstream fixed it in 9.0, "physmem: Fix
 * migration dirty bitmap coherency with TCG memory access"; not in the 7.2.x stable releases up to 7.2.22). Guest RAM of source and
 * target compared page by page after a live starved migration (the target held with `-S`) differed in
 * 9 of 18 runs (2-36 pages; MTTCG and `thread=single` alike); with the source's vCPUs stopped for the
 * stream, in 0 of 8. Guests that arrived so crashed on the target (list_del corruption, faults in
 * interrupt context): 4 of 24 starved runs of runner/source-loss.int.test.ts before, 0 of 20 after.
 * KVM tracks dirty pages in the kernel and is not affected, so it keeps a live pre-copy. The cost under
 * TCG: the downtime is the whole stream (0.2-0.8 s for an idle 256 MiB guest over loopback here).
 */
export function stopsGuestForStream(accel: Accel, qemu?: { major: number; minor: number }): boolean {
  // QEMU 9.0 carries the fix; an unknown version is treated as affected.
  return accel === 'tcg' && qemuBefore(qemu, 9, 0);
}

/**
 * Whether a source that stopped its guest for the stream resumes it once the migration ended with
 * `finalStatus` (pure). Only a failed or cancelled stream, and only while QEMU is where QEMU itself
 * would restart a guest it had found running (`vm_was_running`): still `paused` (the switch-over never
 * began), or, without post-copy, `finish-migrate`/`postmigrate` after a failed final phase. After a
 * post-copy switch-over the guest is split between both ends: never resumed here.
 */
export function resumesSourceAfter(finalStatus: string, runState: string, postCopyAllowed: boolean): boolean {
  if (finalStatus !== 'failed' && finalStatus !== 'cancelled') return false;
  if (runState === 'paused') return true;
  return !postCopyAllowed && (runState === 'finish-migrate' || runState === 'postmigrate');
}

/**
 * Whether a migration target resumes its guest (QMP `cont`) (pure): QEMU leaves an incoming guest
 * paused when the source's was (a TCG source stops it for the stream), once the stream is
 * `completed`. Only before this runner first ran the guest: a guest paused later is not ours to wake.
 */
export function resumesIncomingGuest(f: {
  readonly qemuStatus: string;
  readonly incomingStatus: string;
  readonly role: MigrationRole;
  readonly initialised: boolean;
}): boolean {
  return (
    f.role === 'target' && !f.initialised && f.qemuStatus === 'paused' && f.incomingStatus === 'completed'
  );
}

/** The ends of a migration after which the guest stayed (or should have stayed) where it was. */
const UNSUCCESSFUL_ENDS: readonly string[] = ['failed', 'cancelled'];

const caps = (entries: Record<string, boolean>) => ({
  capabilities: Object.entries(entries).map(([capability, state]) => ({ capability, state })),
});

export class Migrator {
  private sourceActive = false;
  private poller: TimerHandle | undefined;
  private latest: MigrationInfo = { status: 'none' };
  /** This migration stopped the guest for the stream (and whether it may switch to post-copy). */
  private stoppedGuest: { postCopy: boolean } | undefined;
  /** The latest outgoing stream ran with the guest stopped (kept after it ended, for `downtimeMs`). */
  private streamStopped = false;
  private finishedListeners: Array<(info: MigrationInfo) => void> = [];
  /** Source: disks mirrored over NBD for the current stream (QEMU without block migration). */
  private mirrored: MigratedDisk[] = [];
  /** Source: the mirrors were ended at this stream's pre-switchover pause. */
  private switchingOver: Promise<void> | undefined;
  /** Target: the NBD exports are open. */
  private exporting = false;
  /**
   * Source: `POST /migration` has returned and the disks are being mirrored; the RAM stream (`migrate`)
   * starts once every mirror is ready. Reported as `setup` (QEMU's own first status) with the time
   * since the start and the mirrors' progress.
   */
  private diskPhase: { startedAt: number; cancelled: boolean; progress?: MirrorProgress } | undefined;
  /** Source: the latest migration ended before its stream, while the disks were mirrored: how and why. */
  private diskOutcome: { status: 'failed' | 'cancelled'; error: string } | undefined;
  /**
   * The current migration, in or out, switched to post-copy (a MIGRATION event or a `query-migrate`
   * said so): from then on the guest is split with the other end, and if that migration fails, this
   * QEMU's copy is stale for good (see `staleAfterPostcopy`).
   */
  private postcopyBegan = false;
  /** This QEMU's copy of the guest was stopped after its post-copy migration failed (once). */
  private staleGuestStopped: Promise<void> | undefined;

  constructor(
    private readonly qmp: QmpClient,
    private readonly cpu: CpuScaler,
    private readonly log: (msg: string, extra?: Record<string, unknown>) => void,
    private readonly clock: Clock = systemClock,
    private readonly tls?: MigrationTls,
    private readonly tuning: MigrationTuning = DEFAULT_MIGRATION_TUNING,
    /** Stop the guest for the stream (`stopsGuestForStream`: under TCG). */
    private readonly stopGuest = false,
    /**
     * QEMU has `migrate`'s `blk`/`inc` (before 9.1, `hasBlockMigration`); without it the writable disks
     * travel over NBD (runner/vm-control/migration-disks.ts).
     */
    private readonly blockMigration = true,
    /** This QEMU's version (the QMP greeting's), for the disk transport's choice and messages. */
    private readonly qemuVersion?: QemuVersion,
  ) {
    // The switch-over pause of a stream with NBD mirrors: answered at once, not at the next poll.
    // A post-copy migration's start and failure too: the failure's stop must follow QEMU's restart.
    qmp.onEvent('MIGRATION', (e) => {
      const status = (e.data as { status?: string } | undefined)?.status;
      if (status === 'pre-switchover') void this.switchOver();
      if (status) this.observe(status);
    });
  }

  /**
   * Whether this QEMU's guest is stale: its current migration switched to post-copy and then failed
   * or was cancelled. The other end ran the guest meanwhile (a target runs it from the switch on; a
   * source kept the pages the target had not fetched), so neither copy is whole. QEMU 10 nevertheless
   * restarts a source whose post-copy failed at its completion (the guest "was running" before the
   * switch; measured: runner/postcopy-target-loss.int.test.ts), which would run a guest from the
   * past: the runner stops it again (`observe`) and reports it split (guestCustody), so the operator
   * fails the migration as PostCopyFailed and restarts the VM instead of keeping it here.
   */
  get staleAfterPostcopy(): boolean {
    return this.postcopyBegan && UNSUCCESSFUL_ENDS.includes(this.latest.status ?? '');
  }

  /** Follows the current migration's status (events and queries). */
  private observe(status: string): void {
    if (status.startsWith('postcopy')) this.postcopyBegan = true;
    if (!this.postcopyBegan || !UNSUCCESSFUL_ENDS.includes(status)) return;
    this.latest = { ...this.latest, status };
    this.staleGuestStopped ??= this.stopStaleGuest();
  }

  private async stopStaleGuest(): Promise<void> {
    try {
      const { status } = await this.qmp.execute<{ status: string }>('query-status');
      if (status === 'running') await this.qmp.execute('stop');
      this.log(
        'post-copy migration failed: the guest was split with the other end; its copy here is stale and stays stopped',
        {
          was: status,
        },
      );
    } catch (e) {
      this.log('could not stop the stale guest after a failed post-copy migration', {
        error: (e as Error).message,
      });
    }
  }

  /**
   * At QEMU's pre-switchover pause (the guest is stopped): ends the disk mirrors, so the target's disks
   * are complete before it can run, then lets the stream finish. Once per stream. Everything here is
   * guest downtime: only the jobs' end is awaited before `migrate-continue` (`endMirrors`).
   */
  private switchOver(): Promise<void> {
    if (!this.sourceActive || this.mirrored.length === 0) return Promise.resolve();
    this.switchingOver ??= (async () => {
      try {
        await endMirrors(this.qmp, this.mirrored, (ms) => sleep(ms, this.clock));
        await this.qmp.execute('migrate-continue', { state: 'pre-switchover' });
        // Closing the NBD connections needs no paused guest: after the stream goes on.
        await disconnectMirrors(this.qmp, this.mirrored);
      } catch (e) {
        this.log('could not complete the disk mirrors at the switch-over; cancelling', {
          error: (e as Error).message,
        });
        await this.qmp.execute('migrate_cancel').catch(() => undefined);
      }
    })();
    return this.switchingOver;
  }

  /** Whether the stream is encrypted (both ends must agree). */
  get encrypted(): boolean {
    return this.tls !== undefined;
  }

  /** (Re)creates a QOM object from the current files. */
  private async replaceObject(qomType: string, id: string, props: Record<string, unknown>): Promise<void> {
    try {
      await this.qmp.execute('object-del', { id });
    } catch {
      // not there yet
    }
    await this.qmp.execute('object-add', { 'qom-type': qomType, id, ...props });
  }

  get active(): boolean {
    return this.sourceActive;
  }

  /** Called once when an outgoing migration reaches a final state. */
  onFinished(listener: (info: MigrationInfo) => void): void {
    this.finishedListeners.push(listener);
  }

  /**
   * Starts an outgoing migration and returns once it is under way: with block migration (or no
   * writable disk) once QEMU accepted `migrate`; with NBD mirrors once they are started, the stream
   * following in the background when they are ready (a large written disk takes longer than the
   * operator's call may wait). A mirror that fails, or a cancel meanwhile, ends the migration
   * `failed`/`cancelled` as a failed stream would, with the reason in `report()`'s error.
   */
  async start(req: ValidMigrationRequest): Promise<MigrationInfo> {
    if (this.sourceActive) throw conflict('a migration is already in progress');
    if (this.staleAfterPostcopy)
      throw conflict('the guest here is stale: its post-copy migration failed after the switch-over');
    const tuningProblem = migrationTuningProblem(this.tuning, this.qemuVersion);
    if (tuningProblem) throw conflict(`this runner cannot migrate: ${tuningProblem}`);
    if (req.allowPostCopy && usesMultifd(this.tuning))
      throw badRequest(
        `allowPostCopy cannot be combined with this runner's -migration-compression=${this.tuning.compression} (QEMU 7.2 and 10.0 have no post-copy over multifd)`,
      );
    const transport = outgoingDiskTransport(
      { blockMigration: this.blockMigration, qemu: this.qemuVersion },
      { disks: req.targetDisks, qemu: req.targetQemu },
    );
    // Refused with no writable disk: nothing for block migration to carry, the stream alone.
    const byBlock = 'transport' in transport && transport.transport === 'block';
    if ('refused' in transport && (await queryWritableDisks(this.qmp)).length > 0)
      throw conflict(`cannot migrate the writable disks: ${transport.refused}`);
    this.sourceActive = true;
    this.postcopyBegan = false;
    this.staleGuestStopped = undefined;
    this.streamStopped = false;
    this.switchingOver = undefined;
    this.mirrored = [];
    this.diskOutcome = undefined;
    const plan = planSourceMigration(this.tuning, req);
    const tls = this.tls;
    const uri = `tcp:${req.targetHost.includes(':') ? `[${req.targetHost}]` : req.targetHost}:${req.targetPort}`;
    let disks: MigratedDisk[] = [];
    try {
      await this.cpu.vcpusForMigration(req.targetVcpus);
      disks = byBlock ? [] : await queryWritableDisks(this.qmp);
      await this.qmp.execute(
        'migrate-set-capabilities',
        caps({
          ...plan.capabilities,
          // NBD mirrors end at the switch-over pause; `events` announces it (MIGRATION events), and a
          // post-copy migration's failure (see `staleAfterPostcopy`).
          ...(byBlock ? {} : { 'pause-before-switchover': disks.length > 0, events: true }),
          ...(req.allowPostCopy ? { events: true } : {}),
        }),
      );
      if (tls)
        await this.replaceObject('tls-creds-x509', MIGRATION_TLS_IDS.client, {
          dir: tls.dir,
          endpoint: 'client',
          'verify-peer': true,
        });
      await this.qmp.execute('migrate-set-parameters', {
        ...plan.parameters,
        ...(tls ? { 'tls-creds': MIGRATION_TLS_IDS.client, 'tls-hostname': tls.hostname } : {}),
      });
      if (disks.length > 0) {
        // The disks first: the RAM stream starts once the target has them (and gets every later write).
        // All of it after the answer: a target that cannot be reached or refuses our certificate fails
        // the migration (`failed`, and why) as a refused stream does with block migration.
        this.mirrored = disks;
        this.diskPhase = { startedAt: this.clock.now(), cancelled: false };
        this.log('mirroring the disks before the migration stream', {
          uri,
          disks: disks.map((d) => d.device),
        });
        void this.streamAfterMirrors(req, uri, disks);
        return this.info();
      }
      await this.beginStream(req, uri, byBlock, disks);
    } catch (e) {
      this.sourceActive = false;
      await this.releaseDisks();
      // `migrate` refused (or post-copy could not be armed before the stream began): run on here.
      if (this.stoppedGuest) await this.resumeSource('failed');
      if (e instanceof VmError) throw e;
      throw new VmError(502, `QEMU refused the migration: ${(e as Error).message}`);
    }
    this.poll();
    return this.info();
  }

  /** Source, in the background of `start`: waits for the mirrors, then starts the stream. */
  private async streamAfterMirrors(
    req: ValidMigrationRequest,
    uri: string,
    disks: readonly MigratedDisk[],
  ): Promise<void> {
    const phase = this.diskPhase;
    const tls = this.tls;
    let mirrored = false;
    try {
      await startMirrors(this.qmp, disks, {
        host: req.targetHost,
        port: diskMigrationPort(req.targetPort),
        incremental: req.incremental,
        speed: req.maxBandwidthBytes,
        tls: tls ? { creds: MIGRATION_TLS_IDS.client, hostname: tls.hostname } : undefined,
        sleep: (ms) => sleep(ms, this.clock),
      });
      await waitMirrorsReady(this.qmp, disks, {
        readyTimeoutMs: 600_000,
        sleep: (ms) => sleep(ms, this.clock),
        now: () => this.clock.now(),
        cancelled: () => phase?.cancelled === true,
        onProgress: (p) => {
          if (phase) phase.progress = p;
        },
      });
      if (phase?.cancelled) throw new Error('cancelled while the disks were being mirrored');
      mirrored = true;
      this.diskPhase = undefined;
      await this.beginStream(req, uri, false, disks);
      this.poll();
    } catch (e) {
      this.diskPhase = undefined;
      this.sourceActive = false;
      // A failed wait already ended the mirrors; after it, `beginStream` failed with them still running.
      if (!mirrored) this.mirrored = [];
      await this.releaseDisks();
      if (this.stoppedGuest) await this.resumeSource('failed');
      const message = (e as Error).message;
      this.diskOutcome = phase?.cancelled
        ? { status: 'cancelled', error: 'cancelled while the disks were being mirrored' }
        : mirrored
          ? { status: 'failed', error: `QEMU refused the migration: ${message}` }
          : { status: 'failed', error: `disk mirror to the target failed: ${message}` };
      this.latest = { status: this.diskOutcome.status };
      this.log('migration finished', { info: this.latest, error: this.diskOutcome.error, stream: false });
      for (const l of this.finishedListeners) l(this.latest);
    }
  }

  /** Source: stops the guest when the stream needs it, then `migrate` (and post-copy when allowed). */
  private async beginStream(
    req: ValidMigrationRequest,
    uri: string,
    byBlock: boolean,
    disks: readonly MigratedDisk[],
  ): Promise<void> {
    // Last before the stream: a refused request above leaves the guest running.
    if (this.stopGuest) {
      await this.qmp.execute('stop');
      this.stoppedGuest = { postCopy: req.allowPostCopy };
      this.streamStopped = true;
    }
    // Writable disks travel in the stream (block migration); `inc` copies only the top qcow2 layer
    // when source and target share the base image.
    await this.qmp.execute(
      'migrate',
      byBlock ? { uri, blk: !req.incremental, inc: req.incremental } : { uri },
    );
    if (req.allowPostCopy) await this.qmp.execute('migrate-start-postcopy');
    this.log('migration started', {
      uri,
      tls: !!this.tls,
      tuning: this.tuning,
      ...(this.stopGuest ? { guestStopped: 'TCG: stop-and-copy' } : {}),
      disks: byBlock ? 'block migration' : `NBD mirror: ${disks.map((d) => d.device).join(', ')}`,
    });
  }

  private poll(): void {
    this.poller = this.clock.setTimer(50, () => {
      void this.info()
        .catch((e: Error) => this.log('query-migrate failed', { error: e.message }))
        .then(() => {
          if (this.sourceActive) this.poll();
        });
    });
  }

  /**
   * QEMU's figures as this runner reports them (here and in `GET /qemu`, which the operator copies into
   * the migration's status.info). QEMU counts its downtime from its own stop at the switch-over; a
   * guest stopped for the whole stream was paused for all of it (from just before `migrate`): that is
   * the downtime.
   */
  reported(info: MigrationInfo): MigrationInfo {
    return this.streamStopped && info.totalTimeMs !== undefined
      ? { ...info, downtimeMs: info.totalTimeMs }
      : info;
  }

  /**
   * What this runner reports for QEMU's `query-migrate` `q` (`GET /migration` and `GET /qemu`, which
   * the operator copies into status.info and reads the failure from): QEMU's figures, except while the
   * disks are mirrored before the stream (`setup`: QEMU has no migration yet, or a previous one's final
   * status) and once the mirrors ended the migration before its stream (`failed`/`cancelled`, and why).
   */
  report(q: QueryMigrate): { info: MigrationInfo; error?: string } {
    if (q.status) this.observe(q.status);
    const phase = this.diskPhase;
    if (phase)
      return {
        info: {
          status: 'setup',
          setupTimeMs: this.clock.now() - phase.startedAt,
          ...(phase.progress
            ? {
                disk: {
                  transferred: phase.progress.transferred,
                  remaining: phase.progress.total - phase.progress.transferred,
                  total: phase.progress.total,
                },
              }
            : {}),
        },
      };
    if (this.diskOutcome) return { info: { status: this.diskOutcome.status }, error: this.diskOutcome.error };
    return {
      info: this.reported(toMigrationInfo(q)),
      ...(q['error-desc'] ? { error: q['error-desc'] } : {}),
    };
  }

  /** Latest `query-migrate`; the first final status ends the outgoing migration (whoever sees it first). */
  async info(): Promise<MigrationInfo> {
    const q = await this.qmp.execute<QueryMigrate>('query-migrate');
    if (this.diskPhase || this.diskOutcome) return (this.latest = this.report(q).info);
    if (q.status) {
      this.latest = this.reported(toMigrationInfo(q));
      this.observe(q.status);
    }
    if (q.status === 'pre-switchover') void this.switchOver(); // a missed event
    if (this.sourceActive && q.status && !MIGRATION_ACTIVE_STATES.includes(q.status)) {
      this.sourceActive = false;
      this.poller?.cancel();
      // QEMU says why a migration failed only here; keep it in the pod log.
      this.log('migration finished', {
        info: this.latest,
        ...(q['error-desc'] ? { error: q['error-desc'] } : {}),
      });
      await this.releaseDisks();
      if (this.stoppedGuest) await this.resumeSource(q.status);
      for (const l of this.finishedListeners) l(this.latest);
    }
    return this.latest;
  }

  /** Source: ends the disk mirrors of the stream, if any are left (a failed or cancelled one). */
  private async releaseDisks(): Promise<void> {
    const disks = this.mirrored;
    if (disks.length === 0) return;
    await this.switchingOver;
    this.mirrored = [];
    await releaseMirrors(this.qmp, disks, (ms) => sleep(ms, this.clock)).catch((e: Error) =>
      this.log('could not end the disk mirrors', { error: e.message }),
    );
  }

  /**
   * Target, once the incoming stream is `completed`: closes the disk exports (the source let go of them
   * at the switch-over) and, with `resume`, runs the guest, which activates its disks. Once; whoever
   * comes first (the MIGRATION event, or the readiness probe finding the guest paused).
   */
  async incomingDone(resume = false): Promise<void> {
    if (!this.exporting) return;
    this.exporting = false;
    await stopDiskExports(this.qmp).catch((e: Error) =>
      this.log('could not stop the disk exports', { error: e.message }),
    );
    if (resume)
      await this.qmp
        .execute('cont')
        .then(() => this.log('incoming migration completed: disk exports closed, guest resumed'))
        .catch((e: Error) => this.log('could not resume the incoming guest', { error: e.message }));
  }

  /** After a stream that stopped the guest: resumes it when `resumesSourceAfter` says so. */
  private async resumeSource(finalStatus: string): Promise<void> {
    const stopped = this.stoppedGuest;
    this.stoppedGuest = undefined;
    // A guest split by post-copy is stale here, even when its run state reads like the stream's pause
    // (the runner's own `stop` after QEMU restarted it).
    if (!stopped || this.staleAfterPostcopy) return;
    try {
      const { status } = await this.qmp.execute<{ status: string }>('query-status');
      if (!resumesSourceAfter(finalStatus, status, stopped.postCopy)) return;
      await this.qmp.execute('cont');
      this.log('guest resumed on the source after the migration ended', {
        migration: finalStatus,
        was: status,
      });
    } catch (e) {
      this.log('could not resume the guest after the migration ended', { error: (e as Error).message });
    }
  }

  async cancel(): Promise<MigrationInfo> {
    if (!this.sourceActive) throw conflict('no migration in progress');
    if (this.diskPhase) {
      // No stream yet: the background wait sees this, ends the mirrors and reports `cancelled`.
      this.diskPhase.cancelled = true;
      return this.info();
    }
    await this.qmp.execute('migrate_cancel');
    return this.info();
  }

  /** Target side: listen for the stream on host:port (QEMU started with `-incoming defer`). */
  async listen(host: string, port = MIGRATION_PORT): Promise<void> {
    const tuningProblem = migrationTuningProblem(this.tuning, this.qemuVersion);
    if (tuningProblem) throw new Error(`cannot receive a migration: ${tuningProblem}`);
    // The tuning must match the source's before the stream starts (decompression threads, channels).
    const plan = planTargetMigration(this.tuning);
    await this.qmp.execute('migrate-set-capabilities', caps(plan.capabilities));
    if (Object.keys(plan.parameters).length > 0)
      await this.qmp.execute('migrate-set-parameters', plan.parameters);
    if (plan.tryPostCopy) {
      try {
        await this.qmp.execute('migrate-set-capabilities', caps({ 'postcopy-ram': true, events: true }));
      } catch (e) {
        this.log('post-copy unavailable on this target', { error: (e as Error).message });
      }
    }
    const tls = this.tls;
    if (tls) {
      await this.replaceObject('tls-creds-x509', MIGRATION_TLS_IDS.server, {
        dir: tls.dir,
        endpoint: 'server',
        'verify-peer': true,
      });
      // The client certificate must be this VM's own: the operator issues it with CN = hostname.
      await this.replaceObject('authz-simple', MIGRATION_TLS_IDS.authz, { identity: `CN=${tls.hostname}` });
      await this.qmp.execute('migrate-set-parameters', {
        'tls-creds': MIGRATION_TLS_IDS.server,
        'tls-authz': MIGRATION_TLS_IDS.authz,
      });
    }
    if (!this.blockMigration && (await queryWritableDisks(this.qmp)).length > 0) {
      // The guest's disk devices take the write permission their exports hold when they activate, so
      // they activate only after the exports are gone: no autostart (QMP `stop` while QEMU waits for
      // the stream) and late block activation; `incomingDone` then closes the exports and `cont`s.
      await this.qmp.execute('stop');
      await this.qmp.execute('migrate-set-capabilities', caps({ 'late-block-activate': true, events: true }));
      await exportDisks(
        this.qmp,
        host,
        diskMigrationPort(port),
        tls ? { creds: MIGRATION_TLS_IDS.server, authz: MIGRATION_TLS_IDS.authz } : undefined,
      );
      this.exporting = true;
      const off = this.qmp.onEvent('MIGRATION', (e) => {
        if ((e.data as { status?: string } | undefined)?.status !== 'completed') return;
        off();
        void this.incomingDone(true);
      });
    }
    await this.qmp.execute('migrate-incoming', { uri: `tcp:${host}:${port}` });
  }

  stop(): void {
    this.poller?.cancel();
    if (this.diskPhase) this.diskPhase.cancelled = true;
  }
}
