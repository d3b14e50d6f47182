/**
 * spec.enableNetworkMonitoring with the real runner in a pod network namespace: rules like the ones a
 * control plane installs (TCP, no private/loopback addresses) in the pod's iptables, and the runner's
 * /metrics turning their counters into runner_vm_ingress/egress_bytes_total. The test's own API calls
 * to the pod are the traffic. Needs root (namespaces, iptables).
 */
import { describeIf } from '../host/testing';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ClusterNetwork } from '../cluster/network';
import { RunnerHarness } from './testing/runner-harness';
import { builtinGuest } from '../crds/testing';

const run = promisify(execFile);
const suite = describeIf(process.getuid?.() === 0, 'needs root (network namespaces, tap devices)');
jest.setTimeout(300_000);

const counter = (text: string, name: string): number =>
  Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

suite('runner network monitoring (spec.enableNetworkMonitoring)', () => {
  const h = new RunnerHarness();
  let net: ClusterNetwork | undefined;

  beforeAll(() => h.init());
  afterAll(async () => {
    await h.stopAll();
    await net?.destroy();
  });

  it('counts public TCP bytes of the pod from its iptables rules', async () => {
    net = await ClusterNetwork.create();
    await net.addNode(1);
    const pod = await net.createSandbox('netmon-vm', 1);
    for (const chain of ['INPUT', 'OUTPUT'])
      await run('ip', ['netns', 'exec', pod.netns, 'iptables', '-A', chain, '-p', 'tcp']);
    // A rule for private traffic: not counted.
    await run('ip', ['netns', 'exec', pod.netns, 'iptables', '-A', 'INPUT', '-s', '10.0.0.0/8', '-p', 'tcp']);

    const r = h.start({
      name: 'vmo-netmon',
      ip: pod.ip,
      execPrefix: pod.execPrefix,
      spec: {
        enableNetworkMonitoring: true,
        guest: builtinGuest(),
      },
    });
    await h.waitReady(r, 240_000);

    const first = await r.client.metrics();
    const in1 = counter(first, 'runner_vm_ingress_bytes_total');
    const out1 = counter(first, 'runner_vm_egress_bytes_total');
    expect(in1).toBeGreaterThan(0); // the readiness polls and this request came in over TCP
    expect(out1).toBeGreaterThan(0);
    expect(counter(first, 'runner_vm_network_fetch_errors_total')).toBe(0);

    for (let i = 0; i < 5; i++) await r.client.status();
    const second = await r.client.metrics();
    const iptables = (await run('ip', ['netns', 'exec', pod.netns, 'iptables-save', '-c', '-t', 'filter']))
      .stdout;
    const inputBytes = Number(/\[\d+:(\d+)\] -A INPUT -p tcp$/m.exec(iptables)?.[1]);
    // Monotonic, growing with the traffic, and equal to the public rule's counter as of that scrape.
    expect(counter(second, 'runner_vm_ingress_bytes_total')).toBeGreaterThan(in1);
    expect(counter(second, 'runner_vm_egress_bytes_total')).toBeGreaterThan(out1);
    expect(counter(second, 'runner_vm_ingress_bytes_total')).toBeLessThanOrEqual(inputBytes);
  });
});
