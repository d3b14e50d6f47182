import { NetworkCounterSampler } from '../pod-resources/network-counters';
import { RunnerMetrics } from './metrics';

const save = (inBytes: number, outBytes: number) =>
  `*filter\n[1:${inBytes}] -A INPUT -p tcp -j ACCEPT\n[1:${outBytes}] -A OUTPUT -p tcp -j ACCEPT\nCOMMIT\n`;
const value = (text: string, name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);

describe('RunnerMetrics network monitoring', () => {
  it('is absent unless enabled', async () => {
    expect(await new RunnerMetrics().scrape()).not.toContain('runner_vm_ingress_bytes_total');
  });

  it('adds the iptables deltas on every scrape and counts failed reads', async () => {
    const reads = [save(100, 40), save(250, 40), 'fail', save(10, 50)];
    const metrics = new RunnerMetrics();
    metrics.monitorNetwork(
      new NetworkCounterSampler(async () => {
        const next = reads.shift() ?? '';
        if (next === 'fail') throw new Error('iptables-save: not found');
        return next;
      }),
    );
    let text = await metrics.scrape();
    expect(value(text, 'runner_vm_ingress_bytes_total')).toBe(100);
    expect(value(text, 'runner_vm_egress_bytes_total')).toBe(40);
    text = await metrics.scrape();
    expect(value(text, 'runner_vm_ingress_bytes_total')).toBe(250);
    text = await metrics.scrape();
    expect(value(text, 'runner_vm_network_fetch_errors_total')).toBe(1);
    text = await metrics.scrape(); // INPUT was reset (250 → 10): all 10 are new; OUTPUT grew by 10
    expect(value(text, 'runner_vm_ingress_bytes_total')).toBe(260);
    expect(value(text, 'runner_vm_egress_bytes_total')).toBe(50);
  });
});
