/** Prometheus metrics of the runner (prom-client, one registry per runner). */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Source of the VM's network byte counts for `enableNetworkMonitoring` (increments since the last call). */
export interface NetworkCounterSource {
  sample(): Promise<{ ingressBytes: bigint; egressBytes: bigint }>;
}

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
    help: 'Time to apply a CPU, memory or swap change, until the guest has it',
    labelNames: ['resource'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [this.registry],
  });
  readonly guestReady = new Gauge({
    name: 'neonvm_runner_guest_ready',
    help: '1 when the guest agent answers',
    registers: [this.registry],
  });
  private network?: {
    source: NetworkCounterSource;
    ingress: Counter;
    egress: Counter;
    errors: Counter;
  };

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'neonvm_runner_' });
  }

  /**
   * `spec.enableNetworkMonitoring`: upstream's counters, under upstream's names so existing dashboards
   * keep working, refreshed from `source` on every scrape.
   */
  monitorNetwork(source: NetworkCounterSource): void {
    const counter = (name: string, help: string) => new Counter({ name, help, registers: [this.registry] });
    this.network = {
      source,
      ingress: counter(
        'runner_vm_ingress_bytes_total',
        'Public TCP bytes received by the VM (iptables INPUT)',
      ),
      egress: counter('runner_vm_egress_bytes_total', 'Public TCP bytes sent by the VM (iptables OUTPUT)'),
      errors: counter('runner_vm_network_fetch_errors_total', 'Failed reads of the iptables counters'),
    };
  }

  /** The exposition text, after refreshing what is sampled at scrape time. */
  async scrape(): Promise<string> {
    const n = this.network;
    if (n) {
      try {
        const { ingressBytes, egressBytes } = await n.source.sample();
        n.ingress.inc(Number(ingressBytes));
        n.egress.inc(Number(egressBytes));
      } catch {
        n.errors.inc();
      }
    }
    return this.registry.metrics();
  }
}
