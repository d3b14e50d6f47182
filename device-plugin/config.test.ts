import { DEFAULT_RESOURCES } from './resources';
import { parseDevicePluginConfig } from './config';

describe('parseDevicePluginConfig', () => {
  it('defaults: the kubelet directory, 1000 each of the NeonVM devices, health on 8081', () => {
    expect(parseDevicePluginConfig([])).toEqual({
      pluginDir: '/var/lib/kubelet/device-plugins',
      kubeletSocket: '/var/lib/kubelet/device-plugins/kubelet.sock',
      resources: DEFAULT_RESOURCES,
      devicesPerResource: 1000,
      hostRoot: '/',
      pollIntervalMs: 5000,
      healthPort: 8081,
      logLevel: 'info',
    });
  });

  it('flags: directory, devices replace the defaults, count, host root, poll, no health server', () => {
    const c = parseDevicePluginConfig([
      '--device-plugin-dir=/tmp/dp',
      '--device',
      'neonvm/kvm=/dev/kvm',
      '--optional-device=neonvm/vhost-net=/dev/vhost-net',
      '--optional-device=neonvm/tun=/dev/net/tun',
      '--devices-per-resource=10',
      '--host-root=/host',
      '--poll-interval=0.5',
      '--health-port=0',
    ]);
    expect(c).toMatchObject({
      pluginDir: '/tmp/dp',
      kubeletSocket: '/tmp/dp/kubelet.sock',
      devicesPerResource: 10,
      hostRoot: '/host',
      pollIntervalMs: 500,
      healthPort: undefined,
    });
    expect(c.resources.map((r) => `${r.resourceName} ${r.whenMissing}`)).toEqual([
      'neonvm/kvm required',
      'neonvm/vhost-net optional',
      'neonvm/tun optional',
    ]);
    expect(parseDevicePluginConfig(['--kubelet-socket=/run/k.sock']).kubeletSocket).toBe('/run/k.sock');
  });

  it.each([
    [['--devices-per-resource=0'], /must be an integer from 1 to 100000/],
    [['--health-port=70000'], /from 0 to 65535/],
    [['--poll-interval=-1'], /positive number/],
    [['--device-plugin-dir=relative'], /must be an absolute path/],
    [['--device=neonvm/kvm'], /--device 'neonvm\/kvm': expected <resource>=<host device path>/],
    [['--device=neonvm/kvm=/dev/kvm', '--optional-device=neonvm/kvm=/dev/kvm'], /configured twice/],
    [['--unknown'], /unknown option/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseDevicePluginConfig(argv)).toThrow(message);
  });
});
