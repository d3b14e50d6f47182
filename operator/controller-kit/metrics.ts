/**
 * The operator's Prometheus metrics, registered on one registry served at `/metrics`. Names follow
 * upstream where it had one (`ipam_*`, `reconcile_duration_seconds`), with a `neonvm_` prefix for ours.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconcileTotal = new Counter({
    name: 'neonvm_reconcile_total',
    help: 'Reconciles by controller and result (success, requeue, error).',
    labelNames: ['controller', 'result'] as const,
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: 'neonvm_reconcile_errors_total',
    help: 'Failed reconciles by controller.',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: 'reconcile_duration_seconds',
    help: 'Duration of one reconcile.',
    labelNames: ['controller', 'outcome'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
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
  readonly vmCreationToRunning = new Histogram({
    name: 'vm_creation_to_vm_running_duration_seconds',
    help: 'From VM creation to the first time its runner is Ready.',
    buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300],
    registers: [this.registry],
  });
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
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
