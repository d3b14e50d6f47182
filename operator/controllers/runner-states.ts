/**
 * What the operator knows of each VM's runner, and the runner calls in flight — outside reconciles.
 *
 * A runner's state changes only through the operator's own calls (CPU and memory changes answer once
 * the guest has the change), or when its container (re)starts or its guest's readiness flips, which
 * are pod events. So the runner is asked (`GET /status`) once per container run and readiness, and
 * then kept current from the answers to our own calls: nothing polls a runner while nothing changes.
 * Calls run in the background and enqueue the VM when they end, so a reconcile never waits on a
 * runner (a CPU plug takes hundreds of milliseconds, a memory unplug seconds) and one slow runner
 * never holds a worker. A failed call is reported until `retryMs` has passed, then the runner is asked
 * again.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { parseMilliCpu, RUNNER_CONTAINER_NAME } from '../../crds';
import type { Clock } from '../controller-kit';
import type { RunnerApi } from '../runner-client';
import type { RunnerReport } from '../vm/decide-vm-action';

export type RunnerView = RunnerReport | { readonly error: string } | undefined;

export interface RunnerStatesOptions {
  /** The VM's work-queue key is enqueued when a call ends. */
  readonly enqueue: (key: string) => void;
  readonly clock: Clock;
  /** How long a failed call is reported before the runner is asked again. */
  readonly retryMs: number;
  /** At most this many `GET /status` at once (all VMs at an operator start). */
  readonly maxObserving?: number;
}

interface Entry {
  /** The container run and readiness this entry describes. */
  readonly run: string;
  report?: RunnerReport;
  error?: { readonly message: string; readonly at: number };
  observing: boolean;
  /** Target of the CPU / memory call in flight. */
  cpu?: number;
  memory?: number;
  /** Calls of one runner go one after the other, as the reconciler used to make them. */
  chain: Promise<void>;
}

/**
 * Identity of the runner container's current run, and whether its guest is ready. The same pod comes
 * with `startedAt` as the API's text (`…:01Z`, watch events) or as a Date (objects decoded by the
 * client: lists, and the pods our own writes return): both are read as the instant they name. Taking
 * the text as it came made every pod patch look like a new run (`…:01.000Z` vs `…:01Z`): the runner
 * was asked `GET /status` again and the answer of a CPU change in flight was dropped.
 */
export function runnerRun(pod: V1Pod): string {
  const s = pod.status?.containerStatuses?.find((c) => c.name === RUNNER_CONTAINER_NAME);
  const started: Date | string | undefined = s?.state?.running?.startedAt;
  const at = started === undefined ? NaN : new Date(started).getTime();
  return [
    pod.metadata?.uid ?? '',
    s?.restartCount ?? 0,
    Number.isNaN(at) ? String(started ?? '') : at,
    s?.ready ? 'ready' : '',
  ].join('/');
}

export class RunnerStates {
  private readonly entries = new Map<string, Entry>();
  private readonly waiting: Array<() => void> = [];
  private observing = 0;

  constructor(private readonly o: RunnerStatesOptions) {}

  /**
   * The runner's state for VM `key` running in `pod`: its report, the error of the last failed call
   * (for `retryMs`), or undefined while it is being asked (the VM is enqueued once it answers).
   */
  view(key: string, pod: V1Pod, connect: () => Promise<RunnerApi>): RunnerView {
    const entry = this.entry(key, pod);
    if (entry.error) {
      if (this.o.clock.now() - entry.error.at < this.o.retryMs) return { error: entry.error.message };
      entry.error = undefined;
      entry.report = undefined;
    }
    if (entry.report) return entry.report;
    if (!entry.observing) this.observe(key, entry, connect);
    return undefined;
  }

  /** Starts `POST /cpu_change` unless a CPU change is in flight (its end enqueues the VM). */
  setCpu(key: string, pod: V1Pod, milliCpu: number, connect: () => Promise<RunnerApi>): void {
    const entry = this.entry(key, pod);
    if (entry.cpu !== undefined) return;
    entry.cpu = milliCpu;
    this.call(
      key,
      entry,
      connect,
      async (runner) => {
        await runner.setCpu(milliCpu);
        if (entry.report) entry.report = { ...entry.report, milliCpu };
      },
      () => (entry.cpu = undefined),
    );
  }

  /** Starts `PUT /memory` unless a memory change is in flight (its end enqueues the VM). */
  setMemory(key: string, pod: V1Pod, slots: number, connect: () => Promise<RunnerApi>): void {
    const entry = this.entry(key, pod);
    if (entry.memory !== undefined) return;
    entry.memory = slots;
    this.call(
      key,
      entry,
      connect,
      async (runner) => {
        const state = await runner.setMemory(slots);
        if (entry.report)
          entry.report = { ...entry.report, memorySlots: state.slots, memoryBytes: BigInt(state.sizeBytes) };
      },
      () => (entry.memory = undefined),
    );
  }

  /** The VM or its runner is gone. */
  forget(key: string): void {
    this.entries.delete(key);
  }

  private entry(key: string, pod: V1Pod): Entry {
    const run = runnerRun(pod);
    let entry = this.entries.get(key);
    if (entry?.run !== run) {
      // A new container run (or readiness): what we knew, and calls still in flight, are of the old one.
      entry = { run, observing: false, chain: Promise.resolve() };
      this.entries.set(key, entry);
    }
    return entry;
  }

  private observe(key: string, entry: Entry, connect: () => Promise<RunnerApi>): void {
    entry.observing = true;
    void this.slot()
      .then(async () => {
        try {
          const s = await (await connect()).status();
          entry.report = {
            milliCpu: parseMilliCpu(s.cpus.use),
            memorySlots: s.memory.slots,
            memoryBytes: BigInt(s.memory.sizeBytes),
            // Runners from before the field report nothing.
            degraded: s.degraded ?? [],
            qemuStatus: s.qemuStatus,
          };
        } catch (err) {
          entry.error = { message: message(err), at: this.o.clock.now() };
        } finally {
          this.release();
        }
      })
      .finally(() => {
        entry.observing = false;
        if (this.entries.get(key) === entry) this.o.enqueue(key);
      });
  }

  private call(
    key: string,
    entry: Entry,
    connect: () => Promise<RunnerApi>,
    fn: (runner: RunnerApi) => Promise<void>,
    ended: () => void,
  ): void {
    entry.chain = entry.chain
      .then(async () => fn(await connect()))
      .catch((err: unknown) => {
        entry.error = { message: message(err), at: this.o.clock.now() };
      })
      .finally(() => {
        ended();
        if (this.entries.get(key) === entry) this.o.enqueue(key);
      });
  }

  private slot(): Promise<void> {
    if (this.observing < (this.o.maxObserving ?? 32)) {
      this.observing += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.observing -= 1;
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
