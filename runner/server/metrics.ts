/** Prometheus metrics of the runner (prom-client, one registry per runner). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class RunnerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'neonvm_runner_api_requests_total',
    help: 'Runner API requests by path and status code',
    labelNames: ['method', 'path', 'code'] as const,
    registers: [this.registry],
  });
  readonly scalingSeconds = new Histogram({
    name: 'neonvm_runner_scaling_duration_seconds',
    help: 'Time to apply a CPU or memory change, until the guest has it',
    labelNames: ['resource'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [this.registry],
  });
  readonly guestReady = new Gauge({
    name: 'neonvm_runner_guest_ready',
    help: '1 when the guest agent answers',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'neonvm_runner_' });
  }
}
