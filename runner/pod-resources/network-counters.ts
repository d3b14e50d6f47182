/** Reads the pod's iptables counters for `enableNetworkMonitoring` (`iptables-save -c -t filter`). */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CounterDelta, parseIptablesSave, publicTcpBytes } from '../plan/network-counters';

const run = promisify(execFile);

/** `iptables-save -c -t filter` in this process's network namespace (the pod's). */
export async function iptablesSaveFilter(): Promise<string> {
  const { stdout } = await run('iptables-save', ['-c', '-t', 'filter'], { timeout: 10_000 });
  return stdout;
}

/** Public TCP bytes since the previous sample, ingress (INPUT) and egress (OUTPUT). */
export class NetworkCounterSampler {
  private readonly ingress = new CounterDelta();
  private readonly egress = new CounterDelta();

  constructor(private readonly read: () => Promise<string> = iptablesSaveFilter) {}

  async sample(): Promise<{ ingressBytes: bigint; egressBytes: bigint }> {
    const rules = parseIptablesSave(await this.read());
    return {
      ingressBytes: this.ingress.next(publicTcpBytes(rules, 'INPUT')),
      egressBytes: this.egress.next(publicTcpBytes(rules, 'OUTPUT')),
    };
  }
}
