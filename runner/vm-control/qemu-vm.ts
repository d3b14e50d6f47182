/**
 * The VM as the runner API sees it, backed by the runner's single QMP connection and the guest
 * agent. Owns the scalers and the migrator; tracks readiness (the guest agent answers, initial CPUs
 * applied) with a background probe.
 */
import { formatMilliCpu, type MigrationInfo } from '../../crds';
import { systemClock, type Clock, type TimerHandle } from '../../host';
import {
  guestCustody,
  type Accel,
  type MemoryState,
  type MigrationRole,
  type NetworkMode,
  type QemuState,
  type RunnerStatus,
  type SwapState,
} from '../api';
import type { QmpClient, StatusInfo } from '../qmp';
import type { GuestArch } from '../../guest';
import type { MigrationTuning } from '../plan/migration-tuning';
import type { VmShape } from '../plan/vm-shape';
import { CpuScaler } from './cpu-scaler';
import type { GuestAgent } from './guest-agent';
import { MemoryScaler } from './memory-scaler';
import {
  Migrator,
  resumesIncomingGuest,
  stopsGuestForStream,
  type MigrationTls,
  type ValidMigrationRequest,
} from './migration';
import { formatQemuVersion, hasBlockMigration, incomingDiskTransport } from './migration-disks';
import type { QueryMigrate } from './migration-info';
import { Mutex } from './mutex';
import { SwapScaler } from './swap-scaler';
import type { Readiness, VmController } from './vm-controller';
import { conflict, VmError } from './vm-error';

export interface QemuVmOptions {
  qmp: QmpClient;
  agent: GuestAgent;
  shape: VmShape;
  accel: Accel;
  arch: GuestArch;
  networkMode: NetworkMode;
  netBacking?: { queues: number; vhost: boolean };
  /** What of the spec the VM runs without, and why (RunnerPlan.degraded). */
  degraded: readonly string[];
  role: MigrationRole;
  consolePty?: string;
  /** QEMU migration tuning both ends set (`-migration-*` flags). */
  migrationTuning?: MigrationTuning;
  /** Size of the swap disk (`spec.guest.settings.swap`), if the VM has one. */
  swapDiskBytes?: number;
  log: (msg: string, extra?: Record<string, unknown>) => void;
  /** Called after every applied CPU change (the runner moves QEMU's CPU quota with it). */
  onCpuApplied?: (milliCpu: number) => Promise<void>;
  /** Time for uptime, the readiness probe and the scalers' waits. Default: real time. */
  clock?: Clock;
  /** Migration stream over TLS (RunnerConfig.migrationTls). */
  migrationTls?: MigrationTls;
}

export class QemuVm implements VmController {
  readonly cpu: CpuScaler;
  readonly memory: MemoryScaler;
  readonly migrator: Migrator;
  readonly swap: SwapScaler;
  private readonly ops = new Mutex();
  private guestUp = false;
  private initialised = false;
  private role: MigrationRole;
  private qemuStatus = 'unknown';
  private probe: TimerHandle | undefined;
  private stopped = false;
  private readonly clock: Clock;
  private readonly startedAt: number;
  private readonly readyWaiters: Array<() => void> = [];

  constructor(private readonly o: QemuVmOptions) {
    this.clock = o.clock ?? systemClock;
    this.startedAt = this.clock.now();
    this.cpu = new CpuScaler(o.qmp, o.agent, o.shape, this.clock);
    this.memory = new MemoryScaler(o.qmp, o.shape, this.clock);
    this.migrator = new Migrator(
      o.qmp,
      this.cpu,
      o.log,
      this.clock,
      o.migrationTls,
      o.migrationTuning,
      stopsGuestForStream(o.accel, o.qmp.greeting?.QMP.version.qemu),
      hasBlockMigration(o.qmp.greeting?.QMP.version.qemu),
      o.qmp.greeting?.QMP.version.qemu,
    );
    this.swap = new SwapScaler(o.agent, o.swapDiskBytes);
    this.role = o.role;
  }

  /**
   * Starts the readiness probe. `init` runs once when the guest agent first answers (e.g. applying
   * the initial CPU count in SysfsScaling mode, or adopting a migrated guest's state).
   */
  watchGuest(init: () => Promise<void>, intervalMs = 50): void {
    const tick = async () => {
      try {
        const st = await this.o.qmp.execute<StatusInfo>('query-status', undefined, { timeoutMs: 2000 });
        this.qemuStatus = st.status;
        if (st.status === 'paused' && this.role === 'target' && !this.initialised)
          await this.resumeIncoming();
        const up = st.running && (await this.o.agent.ready());
        if (up && !this.initialised) {
          await this.ops.run(init);
          this.initialised = true;
          this.o.log('guest ready');
        }
        this.guestUp = up;
        if (up) this.readyWaiters.splice(0).forEach((w) => w());
      } catch (e) {
        this.guestUp = false;
        this.o.log('guest probe failed', { error: (e as Error).message });
      }
      if (!this.stopped)
        this.probe = this.clock.setTimer(this.guestUp ? 1000 : intervalMs, () => void tick());
    };
    void tick();
  }

  /**
   * A guest that arrived paused (its source stopped it for the stream, or this target held it for its
   * NBD disks) runs here from now on.
   */
  private async resumeIncoming(): Promise<void> {
    const q = await this.o.qmp.execute<QueryMigrate>('query-migrate', undefined, { timeoutMs: 2000 });
    const facts = {
      qemuStatus: 'paused',
      incomingStatus: q.status ?? 'none',
      role: this.role,
      initialised: false,
    };
    if (!resumesIncomingGuest(facts)) return;
    // Disks that came over NBD activate at `cont`: their exports must be gone first.
    await this.migrator.incomingDone();
    await this.o.qmp.execute('cont', undefined, { timeoutMs: 2000 });
    this.o.log(
      'incoming migration completed with the guest paused (a stop-and-copy source or NBD disks): resumed it',
    );
  }

  /** Resolves when the guest is first (or again) ready. */
  whenReady(): Promise<void> {
    if (this.guestUp && this.initialised) return Promise.resolve();
    return new Promise((r) => this.readyWaiters.push(r));
  }

  stop(): void {
    this.stopped = true; // a probe in flight must not schedule the next one
    this.probe?.cancel();
    this.migrator.stop();
  }

  setRole(role: MigrationRole): void {
    this.role = role;
  }

  readiness(): Readiness {
    if (this.guestUp && this.initialised) return { ready: true, reason: 'guest agent answers' };
    if (this.role === 'target' && this.qemuStatus === 'inmigrate')
      return { ready: false, reason: 'waiting for the incoming migration' };
    return { ready: false, reason: `guest not ready (QEMU ${this.qemuStatus})` };
  }

  private assertMutable(): void {
    if (this.migrator.active) throw conflict('a migration is in progress');
    if (this.role === 'target' && !this.initialised)
      throw conflict('this runner is a migration target that has not started the VM yet');
    if (this.qemuStatus === 'postmigrate') throw conflict('the VM has migrated away');
    if (!this.guestUp) throw conflict('the guest is not ready');
  }

  setCpu(milli: number): Promise<void> {
    this.cpu.checkRange(milli);
    return this.ops.run(async () => {
      this.assertMutable();
      await this.cpu.set(milli);
      await this.o.onCpuApplied?.(milli);
    });
  }

  async getCpu(): Promise<number> {
    return this.cpu.currentMilli;
  }

  setMemory(slots: number): Promise<MemoryState> {
    this.memory.checkRange(slots);
    return this.ops.run(async () => {
      this.assertMutable();
      return this.memory.set(slots);
    });
  }

  getMemory(): Promise<MemoryState> {
    return this.memory.state();
  }

  setSwap(sizeBytes: number): Promise<SwapState> {
    const bytes = this.swap.check(sizeBytes);
    return this.ops.run(async () => {
      this.assertMutable();
      return this.swap.set(bytes);
    });
  }

  getSwap(): Promise<SwapState> {
    return this.swap.state();
  }

  async status(): Promise<RunnerStatus> {
    const [st, memory, plugged] = await Promise.all([
      this.o.qmp.execute<StatusInfo>('query-status'),
      this.memory.state(),
      this.o.qmp.execute<unknown[]>('query-cpus-fast').then((l) => l.length),
    ]);
    const online = this.guestUp
      ? await this.o.agent.getCpuMilli().then(
          (m) => m / 1000,
          () => undefined,
        )
      : undefined;
    const { cpus } = this.o.shape;
    return {
      guestReady: this.guestUp && this.initialised,
      qemuStatus: st.status,
      accel: this.o.accel,
      arch: this.o.arch,
      networkMode: this.o.networkMode,
      ...(this.o.netBacking ? { netBacking: { ...this.o.netBacking } } : {}),
      degraded: [...this.o.degraded],
      cpuScalingMode: this.o.shape.scalingMode,
      cpus: {
        use: formatMilliCpu(this.cpu.currentMilli),
        plugged,
        online,
        min: formatMilliCpu(cpus.minMilli),
        max: formatMilliCpu(cpus.maxMilli),
      },
      memory,
      migrationRole: this.role,
      consolePty: this.o.consolePty,
      uptimeSeconds: Math.round((this.clock.now() - this.startedAt) / 1000),
    };
  }

  startMigration(req: ValidMigrationRequest): Promise<MigrationInfo> {
    return this.ops.run(async () => {
      if (this.role === 'target' && !this.initialised) throw conflict('this runner is a migration target');
      if (this.qemuStatus === 'postmigrate') throw conflict('the VM has migrated away already');
      const info = await this.migrator.start(req);
      this.role = 'source'; // only once QEMU accepted it: a refused request leaves the VM as it was
      return info;
    });
  }

  migration(): Promise<MigrationInfo> {
    return this.migrator.info();
  }

  cancelMigration(): Promise<MigrationInfo> {
    return this.migrator.cancel();
  }

  /**
   * Two QMP queries outside the operation mutex (a migration start or a memory shrink must not delay
   * the answer), each bounded: no answer from QEMU is a 504, which the operator reads as "may still
   * hold the guest".
   */
  async qemuState(): Promise<QemuState> {
    const opts = { timeoutMs: QEMU_QUERY_TIMEOUT_MS };
    let st: StatusInfo;
    let q: QueryMigrate;
    try {
      [st, q] = await Promise.all([
        this.o.qmp.execute<StatusInfo>('query-status', undefined, opts),
        this.o.qmp.execute<QueryMigrate>('query-migrate', undefined, opts),
      ]);
    } catch (e) {
      throw new VmError(504, `QEMU did not answer: ${(e as Error).message}`);
    }
    const { info: migration, error } = this.migrator.report(q);
    const facts = {
      qemuStatus: st.status,
      migrationStatus: migration.status ?? 'none',
      staleAfterPostcopy: this.migrator.staleAfterPostcopy,
    };
    const version = this.o.qmp.greeting?.QMP.version.qemu;
    return {
      qemuStatus: st.status,
      running: st.running,
      migrationRole: this.role,
      migration,
      guest: guestCustody(facts),
      ...(error ? { migrationError: error } : {}),
      ...(version ? { qemuVersion: formatQemuVersion(version) } : {}),
      ...(this.role === 'target' ? { incomingDisks: incomingDiskTransport(version) } : {}),
    };
  }
}

/** Bound of each QMP query behind `GET /qemu` (the client waits 3 s for the whole answer). */
const QEMU_QUERY_TIMEOUT_MS = 1000;
