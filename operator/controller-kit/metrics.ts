/**
 * The operator's Prometheus metrics, registered on one registry served at `/metrics`. Names, labels and
 * buckets follow upstream's neonvm-controller where it had them (`reconcile_*`, `vm_*`, `ipam_*`: its
 * dashboards and alerts keep working), with a `neonvm_` prefix for ours.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Upstream's reconcile buckets (copied there from controller-runtime's latency metric). */
const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25,
  1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
/** Upstream's buckets for "until Running": rarely under 10 s, sometimes several minutes. */
const TO_RUNNING_BUCKETS = [
  1, 5, 10, 12, 14, 16, 18, 20, 25, 30, 40, 50, 60, 80, 100, 120, 140, 160, 200, 300,
];

/** `reconcile_duration_seconds{outcome}` and `reconcile_failing_objects{outcome}` values, as upstream. */
export type ReconcileOutcome = 'success' | 'failure' | 'conflict';

/** One controller's degraded objects, read at scrape time (see FailureTracker). */
export interface FailingObjectCounts {
  readonly controller: string;
  readonly outcome: Exclude<ReconcileOutcome, 'success'>;
  readonly retried: number;
  readonly notRetried: number;
}

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconcileTotal = new Counter({
    name: 'neonvm_reconcile_total',
    help: 'Reconciles by controller and result (success, requeue, error, conflict).',
    labelNames: ['controller', 'result'] as const,
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: 'neonvm_reconcile_errors_total',
    help: 'Failed reconciles by controller.',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });
  /** Upstream's name, buckets and `outcome` values (success, failure, conflict), plus `controller`. */
  readonly reconcileDuration = new Histogram({
    name: 'reconcile_duration_seconds',
    help: 'Time duration of reconciles, by controller and outcome (success, failure, conflict).',
    labelNames: ['controller', 'outcome'] as const,
    // Upstream's buckets plus finer ones below 5 ms, where our targets are (p50 < 5 ms): every upstream
    // `le` is still there, so its dashboards keep working.
    buckets: [0.0005, 0.001, 0.002, ...RECONCILE_BUCKETS],
    registers: [this.registry],
  });
  /**
   * The old meaning of a reconcile's duration: from its start until the writes it handed to the write
   * queue landed (the same as `reconcile_duration_seconds` for a reconcile that hands off none). What a
   * writing round costs the object end to end; reported beside the reconcile histogram.
   */
  readonly reconcileWithWrites = new Histogram({
    name: 'neonvm_reconcile_with_writes_duration_seconds',
    help: 'Reconcile start until the writes it handed off (its status write) settled, by controller.',
    labelNames: ['controller'] as const,
    buckets: [0.0005, 0.001, 0.002, ...RECONCILE_BUCKETS],
    registers: [this.registry],
  });
  /** A handed-off write's wait for a slot in the write queue (submission → sent). */
  readonly writeQueueWait = new Histogram({
    name: 'neonvm_write_queue_wait_seconds',
    help: 'Time a handed-off write waited in the write queue before it was sent, by controller.',
    labelNames: ['controller'] as const,
    buckets: [0.0005, 0.001, 0.002, ...RECONCILE_BUCKETS],
    registers: [this.registry],
  });
  /** A handed-off write from sent to settled (its API round trips: status, and the pod patch with it). */
  readonly writeDuration = new Histogram({
    name: 'neonvm_write_duration_seconds',
    help: 'Handed-off writes from sent to settled, by controller and outcome (success, failure).',
    labelNames: ['controller', 'outcome'] as const,
    buckets: [0.0005, 0.001, 0.002, ...RECONCILE_BUCKETS],
    registers: [this.registry],
  });
  readonly writeFailures = new Counter({
    name: 'neonvm_write_failures_total',
    help: 'Handed-off writes that failed, by controller and outcome (failure, conflict).',
    labelNames: ['controller', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'neonvm_workqueue_depth',
    help: 'Keys waiting in the work queue.',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });
  /** Counted at scrape time from `vmPhaseSource` (the VM cache), so it is exact, not event-driven. */
  readonly vmPhase: Gauge<'phase'>;
  vmPhaseSource: (() => Record<string, number>) | undefined;
  readonly vmRestarts = new Counter({
    name: 'vm_restarts_count',
    help: 'Runner pods recreated after the VM ended (restartPolicy).',
    registers: [this.registry],
  });
  readonly vmCreationToRunnerCreation = new Histogram({
    name: 'vm_creation_to_runner_creation_duration_seconds',
    help: 'Time duration from VirtualMachine.CreationTimestamp to runner Pod.CreationTimestamp (first pod only)',
    buckets: RECONCILE_BUCKETS,
    registers: [this.registry],
  });
  readonly runnerCreationToVmRunning = new Histogram({
    name: 'vm_runner_creation_to_vm_running_duration_seconds',
    help: 'Time duration from runner Pod.CreationTimestamp to the moment when VirtualMachine.Status.Phase becomes Running',
    buckets: TO_RUNNING_BUCKETS,
    registers: [this.registry],
  });
  readonly vmCreationToRunning = new Histogram({
    name: 'vm_creation_to_vm_running_duration_seconds',
    help: 'Time duration from VirtualMachine.CreationTimestamp to the moment when VirtualMachine.Status.Phase becomes Running (first pod only)',
    buckets: TO_RUNNING_BUCKETS,
    registers: [this.registry],
  });
  /**
   * Upstream's gauge with its `actively_retried` label. Counted at scrape time from `failingSource`
   * (FIX: upstream refreshes it only on a reconcile or the refresh tick, so it lags by up to
   * `--failing-refresh-interval`).
   */
  readonly failingObjects: Gauge<'controller' | 'outcome' | 'actively_retried'>;
  failingSource: (() => readonly FailingObjectCounts[]) | undefined;
  readonly migrationOutcomes = new Counter({
    name: 'neonvm_migration_outcomes_total',
    help: 'Finished migrations by outcome (succeeded, failed) and reason.',
    labelNames: ['outcome', 'reason'] as const,
    registers: [this.registry],
  });
  readonly ipamDuration = new Histogram({
    name: 'ipam_request_duration_seconds',
    help: 'IPAM request duration.',
    labelNames: ['action', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly ipamOngoing = new Gauge({
    name: 'ipam_ongoing_requests',
    help: 'IPAM requests in progress.',
    labelNames: ['action'] as const,
    registers: [this.registry],
  });
  /** Requests to the API server (watches included), by verb and resource: client-go's rest_client_requests_total. */
  readonly kubeRequests = new Counter({
    name: 'neonvm_kube_requests_total',
    help: 'Requests to the Kubernetes API server by verb (GET, POST, PATCH, ..., WATCH) and resource.',
    labelNames: ['verb', 'resource'] as const,
    registers: [this.registry],
  });
  /**
   * Round trips of those requests (watches excluded), client-go's rest_client_request_duration_seconds:
   * what a reconcile that writes waits for at least, so the floor of `reconcile_duration_seconds`.
   */
  readonly kubeRequestDuration = new Histogram({
    name: 'neonvm_kube_request_duration_seconds',
    help: 'Round trip of Kubernetes API requests (to the response headers), by verb and resource.',
    labelNames: ['verb', 'resource'] as const,
    buckets: [0.0005, 0.001, 0.002, ...RECONCILE_BUCKETS],
    registers: [this.registry],
  });
  /** Calls to runners' HTTP APIs by path (`/status`, `/cpu_change`, ...): nothing should poll them. */
  readonly runnerRequests = new Counter({
    name: 'neonvm_runner_requests_total',
    help: 'Requests to runner APIs by path.',
    labelNames: ['path'] as const,
    registers: [this.registry],
  });
  readonly isLeader = new Gauge({
    name: 'neonvm_leader',
    help: '1 while this replica holds the leader lease.',
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const metrics = this;
    this.vmPhase = new Gauge({
      name: 'neonvm_vm_phase',
      help: 'VirtualMachines per phase.',
      labelNames: ['phase'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [phase, n] of Object.entries(metrics.vmPhaseSource?.() ?? {})) this.set({ phase }, n);
      },
    });
    this.failingObjects = new Gauge({
      name: 'reconcile_failing_objects',
      help: 'Number of objects that are failing to reconcile for each specific controller',
      labelNames: ['controller', 'outcome', 'actively_retried'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const c of metrics.failingSource?.() ?? []) {
          const labels = { controller: c.controller, outcome: c.outcome };
          this.set({ ...labels, actively_retried: 'true' }, c.retried);
          this.set({ ...labels, actively_retried: 'false' }, c.notRetried);
        }
      },
    });
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
