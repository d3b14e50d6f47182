import { ForeignLinkError, parseLinks, planLinkRemoval, planLinks, type ObservedLink } from './links';
import type { OverlaySettings } from './settings';

const s: OverlaySettings = {
  bridge: 'neon-br0',
  vxlan: 'neon-vxlan0',
  vni: 100,
  port: 4789,
  localIp: '10.244.1.1',
};
const bridge: ObservedLink = { name: 'neon-br0', kind: 'bridge', up: true };
const vxlan: ObservedLink = {
  name: 'neon-vxlan0',
  kind: 'vxlan',
  up: true,
  master: 'neon-br0',
  vxlan: { id: 100, local: '10.244.1.1', port: 4789 },
};
const cmd = (plan: string[][]) => plan.map((a) => a.join(' '));

describe('planLinks', () => {
  it('makes bridge and VXLAN from nothing, upstream style', () => {
    expect(cmd(planLinks(s, [{ name: 'eth0', up: true }]))).toEqual([
      'link add neon-br0 type bridge',
      'link set neon-br0 up',
      'link add neon-vxlan0 type vxlan id 100 local 10.244.1.1 dstport 4789 learning',
      'link set neon-vxlan0 master neon-br0',
      'link set neon-vxlan0 up',
    ]);
  });

  it('does nothing when everything is in place', () => {
    expect(planLinks(s, [bridge, vxlan])).toEqual([]);
  });

  it('repairs what upstream only checks by name: down links, a VXLAN off the bridge, another local address', () => {
    expect(
      cmd(
        planLinks(s, [
          { ...bridge, up: false },
          { ...vxlan, up: false },
        ]),
      ),
    ).toEqual(['link set neon-br0 up', 'link set neon-vxlan0 up']);
    expect(cmd(planLinks(s, [bridge, { ...vxlan, master: undefined }]))).toEqual([
      'link set neon-vxlan0 master neon-br0',
    ]);
    expect(
      cmd(planLinks(s, [bridge, { ...vxlan, vxlan: { id: 100, local: '10.0.0.9', port: 4789 } }])),
    ).toEqual([
      'link del neon-vxlan0',
      'link add neon-vxlan0 type vxlan id 100 local 10.244.1.1 dstport 4789 learning',
      'link set neon-vxlan0 master neon-br0',
      'link set neon-vxlan0 up',
    ]);
  });

  it('never touches a device of another kind that has one of the names', () => {
    expect(() => planLinks(s, [{ name: 'neon-br0', kind: 'veth', up: true }])).toThrow(ForeignLinkError);
    expect(() => planLinks(s, [bridge, { name: 'neon-vxlan0', kind: 'bridge', up: true }])).toThrow(
      /link neon-vxlan0 exists as bridge, not a vxlan/,
    );
  });

  it('removes what exists, VXLAN first', () => {
    expect(cmd(planLinkRemoval(s, [bridge, vxlan]))).toEqual(['link del neon-vxlan0', 'link del neon-br0']);
    expect(planLinkRemoval(s, [])).toEqual([]);
  });
});

describe('parseLinks', () => {
  it('reads kind, state, master and the VXLAN attributes from ip -d -j link show', () => {
    // Trimmed from iproute2 6.1's output for the links above.
    const json = JSON.stringify([
      { ifname: 'lo', flags: ['LOOPBACK', 'UP', 'LOWER_UP'] },
      { ifname: 'neon-br0', flags: ['BROADCAST', 'MULTICAST', 'UP'], linkinfo: { info_kind: 'bridge' } },
      {
        ifname: 'neon-vxlan0',
        flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
        master: 'neon-br0',
        linkinfo: {
          info_kind: 'vxlan',
          info_data: { id: 100, local: '10.244.1.1', port: 4789, learning: true },
          info_slave_kind: 'bridge',
        },
      },
    ]);
    expect(parseLinks(json)).toEqual([
      { name: 'lo', up: true, kind: undefined, master: undefined },
      bridge,
      vxlan,
    ]);
    expect(parseLinks('')).toEqual([]);
  });
});
