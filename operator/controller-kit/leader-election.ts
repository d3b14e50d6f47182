/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's algorithm: a candidate takes the
 * lease when it is free or when its record has not changed for `leaseDuration` (measured on the
 * candidate's own clock from when it observed the record, so clock skew between replicas does not
 * matter); the leader renews every `retryPeriod` and steps down when it could not renew for
 * `renewDeadline`. On stop the leader releases the lease so a successor takes over at once.
 *
 * The deadline is a timer, not a check after each attempt: a renewal whose API connection hangs never
 * returns, so the leader would otherwise go on leading while a standby takes over (two leaders). The
 * timer counts from the start of the last successful renewal (the earliest moment the API server can
 * have stored it, so the earliest a standby can have observed it): the leader is out by
 * `renewDeadline` after that, a standby in at `leaseDuration` at the earliest.
 */
import { sleep, systemClock, type Clock, type TimerHandle } from './clock';
import { errorFields, type Logger } from './logger';

export interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime?: Date;
  renewTime?: Date;
  leaseTransitions: number;
  /** Opaque version for optimistic concurrency. */
  version?: string;
}

/** Where the lease lives; `update` must fail if `record.version` is stale. */
export interface LeaseStore {
  get(): Promise<LeaseRecord | undefined>;
  create(record: LeaseRecord): Promise<LeaseRecord>;
  update(record: LeaseRecord): Promise<LeaseRecord>;
}

export interface LeaderElectionOptions {
  readonly identity: string;
  readonly store: LeaseStore;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly clock?: Clock;
  readonly log: Logger;
  readonly onStartedLeading: () => void;
  /** Called once when leadership is lost (not on a voluntary release). */
  readonly onStoppedLeading: () => void;
}

export const LEASE_DURATION_MS = 15_000;
export const RENEW_DEADLINE_MS = 10_000;
export const RETRY_PERIOD_MS = 2_000;

export class LeaderElector {
  private leader = false;
  private stopped = false;
  private observed: { record: LeaseRecord; at: number } | undefined;
  private loop: Promise<void> | undefined;
  private deadline: TimerHandle | undefined;
  private readonly clock: Clock;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;

  constructor(private readonly options: LeaderElectionOptions) {
    this.clock = options.clock ?? systemClock;
    this.leaseDurationMs = options.leaseDurationMs ?? LEASE_DURATION_MS;
    this.renewDeadlineMs = options.renewDeadlineMs ?? RENEW_DEADLINE_MS;
    this.retryPeriodMs = options.retryPeriodMs ?? RETRY_PERIOD_MS;
  }

  get isLeader(): boolean {
    return this.leader;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Stops campaigning; a leader releases the lease unless `release` is false (simulated crash). */
  async stop(release = true): Promise<void> {
    this.stopped = true;
    this.deadline?.cancel();
    await this.loop;
    if (this.leader && release) await this.release();
    this.leader = false;
  }

  /** One acquire-or-renew attempt; true if we hold the lease afterwards. Exposed for tests. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.clock.now();
    const current = await this.options.store.get();
    const mine = (acquired: boolean, previous?: LeaseRecord): LeaseRecord => ({
      holderIdentity: this.options.identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime: acquired ? new Date(now) : previous?.acquireTime,
      renewTime: new Date(now),
      leaseTransitions: (previous?.leaseTransitions ?? 0) + (acquired && previous ? 1 : 0),
      version: previous?.version,
    });
    if (!current) {
      this.observed = { record: await this.options.store.create(mine(true)), at: now };
      return true;
    }
    if (!this.observed || !sameRecord(this.observed.record, current)) {
      // When the record was renewed: the holder's renewTime, trusted only within one retry period of
      // our own observation (bounds the effect of clock skew; renewDeadline < leaseDuration leaves room).
      const renewed = current.renewTime?.getTime() ?? now;
      this.observed = { record: current, at: Math.min(now, Math.max(renewed, now - this.retryPeriodMs)) };
    }
    const heldByOther = current.holderIdentity !== '' && current.holderIdentity !== this.options.identity;
    const expiresAt = this.observed.at + current.leaseDurationSeconds * 1000;
    if (heldByOther && expiresAt > now) return false;
    const updated = await this.options.store.update(
      mine(current.holderIdentity !== this.options.identity, current),
    );
    this.observed = { record: updated, at: now };
    return true;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const attemptStart = this.clock.now();
      let held = false;
      try {
        held = await this.withDeadline(this.tryAcquireOrRenew());
      } catch (err) {
        this.options.log.debug({ ...errorFields(err) }, 'lease acquire/renew failed');
      }
      if (this.stopped) return;
      if (held) {
        this.armDeadline(attemptStart);
        if (!this.leader) {
          this.leader = true;
          this.options.log.info({ identity: this.options.identity }, 'became leader');
          this.options.onStartedLeading();
        }
      }
      await sleep(this.nextAttemptDelay(), this.clock);
    }
  }

  /** The leader steps down `renewDeadline` after the start of its last successful renewal. */
  private armDeadline(renewedAt: number): void {
    this.deadline?.cancel();
    const remaining = renewedAt + this.renewDeadlineMs - this.clock.now();
    this.deadline = this.clock.setTimer(Math.max(0, remaining), () => this.lose());
  }

  private lose(): void {
    if (!this.leader || this.stopped) return;
    this.leader = false;
    this.stopped = true;
    this.options.log.error(
      { identity: this.options.identity, renewDeadlineMs: this.renewDeadlineMs },
      'lost leadership: could not renew the lease within the renew deadline',
    );
    this.options.onStoppedLeading();
  }

  /** An attempt may not outlast the renew deadline (a hung API connection never answers). */
  private withDeadline<T>(attempt: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.clock.setTimer(this.renewDeadlineMs, () =>
        reject(new Error(`lease request did not answer within ${this.renewDeadlineMs} ms`)),
      );
      attempt.then(
        (v) => {
          timer.cancel();
          resolve(v);
        },
        (err: unknown) => {
          timer.cancel();
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  /** A candidate wakes up right when the observed lease expires instead of up to a period later. */
  private nextAttemptDelay(): number {
    if (this.leader || !this.observed) return this.retryPeriodMs;
    const expiresIn = this.observed.at + this.observed.record.leaseDurationSeconds * 1000 - this.clock.now();
    return expiresIn > 0 ? Math.min(this.retryPeriodMs, expiresIn + 1) : this.retryPeriodMs;
  }

  private async release(): Promise<void> {
    try {
      const current = await this.options.store.get();
      if (current?.holderIdentity === this.options.identity) {
        await this.options.store.update({
          ...current,
          holderIdentity: '',
          leaseDurationSeconds: 1,
          renewTime: new Date(this.clock.now()),
        });
      }
      this.options.log.info({ identity: this.options.identity }, 'released leadership');
    } catch (err) {
      this.options.log.warn({ ...errorFields(err) }, 'could not release the lease');
    }
    this.leader = false;
  }
}

function sameRecord(a: LeaseRecord, b: LeaseRecord): boolean {
  return (
    a.holderIdentity === b.holderIdentity &&
    a.renewTime?.getTime() === b.renewTime?.getTime() &&
    a.version === b.version
  );
}

/** Keeps a store in memory (tests); `update` checks the version like the API server. */
export class MemoryLeaseStore implements LeaseStore {
  private record: LeaseRecord | undefined;
  private version = 0;

  async get(): Promise<LeaseRecord | undefined> {
    return this.record ? { ...this.record } : undefined;
  }

  async create(record: LeaseRecord): Promise<LeaseRecord> {
    if (this.record) throw Object.assign(new Error('exists'), { code: 409 });
    this.record = { ...record, version: String(++this.version) };
    return { ...this.record };
  }

  async update(record: LeaseRecord): Promise<LeaseRecord> {
    if (!this.record || record.version !== this.record.version)
      throw Object.assign(new Error('conflict'), { code: 409 });
    this.record = { ...record, version: String(++this.version) };
    return { ...this.record };
  }
}
