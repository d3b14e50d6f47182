import { parseVxlanControllerConfig } from './config';

describe('parseVxlanControllerConfig', () => {
  it("takes upstream's MY_NODE_IP and constants by default", () => {
    expect(parseVxlanControllerConfig([], { MY_NODE_IP: '10.0.0.5', NODE_NAME: 'n1' })).toEqual({
      settings: {
        bridge: 'neon-br0',
        vxlan: 'neon-vxlan0',
        vni: 100,
        port: 4789,
        localIp: '10.0.0.5',
        overlayCidr: '10.100.0.0/16',
      },
      nodeName: 'n1',
      delete: false,
      resyncMs: 30_000,
      kubeconfig: undefined,
      logLevel: 'info',
    });
  });

  it('parses flags; upstream -delete needs no address', () => {
    const c = parseVxlanControllerConfig(
      [
        '--node-ip=10.1.2.3',
        '--bridge-name=br-x',
        '--vxlan-name=vx-x',
        '--vxlan-id=7',
        '--vxlan-port=8472',
        '--no-iptables',
        '--resync-interval=500ms',
      ],
      {},
    );
    expect(c.settings).toEqual({ bridge: 'br-x', vxlan: 'vx-x', vni: 7, port: 8472, localIp: '10.1.2.3' });
    expect(c.resyncMs).toBe(500);
    expect(parseVxlanControllerConfig(['-delete'], {}).delete).toBe(true);
  });

  it('names the flag and the rule for bad input', () => {
    expect(() => parseVxlanControllerConfig([], {})).toThrow(/--node-ip or MY_NODE_IP is required/);
    expect(() => parseVxlanControllerConfig([], { MY_NODE_IP: 'fd00::1' })).toThrow(
      /'fd00::1' is not an IPv4 address/,
    );
    const bad = (args: string[]) => () => parseVxlanControllerConfig(args, { MY_NODE_IP: '10.0.0.1' });
    expect(bad(['--vxlan-id=16777216'])).toThrow(/--vxlan-id.*must be an integer from 0 to 16777215/);
    expect(bad(['--bridge-name=a-name-longer-than-15'])).toThrow(/--bridge-name.*not an interface name/);
    expect(bad(['--overlay-cidr=10.100.0.0'])).toThrow(/--overlay-cidr.*not an IPv4 CIDR/);
    expect(bad(['--resync-interval=0s'])).toThrow(/--resync-interval.*not a positive duration/);
    expect(bad(['--bridge-name=x', '--vxlan-name=x'])).toThrow(/must differ/);
  });
});
