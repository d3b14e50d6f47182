import { Testing } from 'cdk8s';
import { Network, buildOverlayNetwork } from '.';

describe('buildOverlayNetwork', () => {
  test("upstream's three attachment definitions by default", () => {
    const net = buildOverlayNetwork();
    expect([net.forVms, net.forPods, net.ipam].map((n) => n.metadata?.name)).toEqual([
      'neonvm-overlay-for-vms',
      'neonvm-overlay-for-pods',
      'neonvm-overlay-ipam',
    ]);
    expect(JSON.parse(net.forVms.spec!.config!)).toEqual({
      cniVersion: '0.3.1',
      name: 'overlay-for-vms',
      type: 'bridge',
      bridge: 'neon-br0',
      ipam: {},
    });
    expect(JSON.parse(net.forPods.spec!.config!).ipam).toEqual({
      type: 'whereabouts',
      range: '10.100.0.0/16',
      range_start: '10.100.1.0',
      range_end: '10.100.127.255',
    });
    expect(JSON.parse(net.ipam.spec!.config!)).toEqual({
      ipam: { network_name: 'neonvm', ipRanges: [{ range: '10.100.0.0/16', range_start: '10.100.128.0' }] },
    });
    expect(net.runnerRef).toEqual({ namespace: 'neonvm-system', name: 'neonvm-overlay-for-vms' });
  });

  test('custom range, namespace and prefix', () => {
    const net = buildOverlayNetwork({
      namespace: 'net',
      namePrefix: 'lab',
      range: '10.200.0.0/16',
      vmRangeStart: '10.200.200.0',
    });
    expect(net.ipamRef).toEqual({ namespace: 'net', name: 'lab-overlay-ipam' });
    expect(JSON.parse(net.ipam.spec!.config!).ipam.ipRanges).toEqual([
      { range: '10.200.0.0/16', range_start: '10.200.200.0' },
    ]);
  });
});

describe('Network', () => {
  test('synthesizes the attachment definitions and exposes the VM attachment', () => {
    const chart = Testing.chart();
    const net = new Network(chart, 'overlay', { syncWave: -1 });
    const out = Testing.synth(chart);
    expect(out).toMatchSnapshot();
    expect(net.multusNetwork).toBe('neonvm-system/neonvm-overlay-for-vms');
    expect(out.every((o) => o.metadata.annotations['argocd.argoproj.io/sync-wave'] === '-1')).toBe(true);
  });
});
