import {
  DEFAULT_RESOURCES,
  checkUniqueResources,
  extendedResourceNameProblem,
  isPluginSocketName,
  parseDeviceResource,
  pluginSocketName,
} from './resources';

describe('extendedResourceNameProblem', () => {
  it.each(['neonvm/kvm', 'neonvm/vhost-net', 'example.com/gpu', 'a.b-c/x_y.z'])('accepts %s', (name) => {
    expect(extendedResourceNameProblem(name)).toBeUndefined();
  });

  it.each([
    ['kvm', /<domain>\/<name>/],
    ['a/b/c', /<domain>\/<name>/],
    ['Neonvm/kvm', /DNS subdomain/],
    ['-neonvm/kvm', /DNS subdomain/],
    ['kubernetes.io/kvm', /reserved/],
    ['foo.kubernetes.io/kvm', /reserved/],
    ['neonvm/-kvm', /at most 63/],
    [`neonvm/${'k'.repeat(64)}`, /at most 63/],
    [`${'a'.repeat(245)}/kvm`, /at most 244/],
  ])('refuses %s', (name, rule) => {
    expect(extendedResourceNameProblem(name)).toMatch(rule);
  });
});

describe('parseDeviceResource', () => {
  it('reads <resource>=<path> with the policy of its flag', () => {
    expect(parseDeviceResource('neonvm/kvm=/dev/kvm', 'required')).toEqual({
      resourceName: 'neonvm/kvm',
      hostPath: '/dev/kvm',
      containerPath: '/dev/kvm',
      whenMissing: 'required',
    });
    expect(parseDeviceResource('neonvm/tun=/dev/net/tun', 'optional').whenMissing).toBe('optional');
  });

  it('names the flag, the value and the rule', () => {
    expect(() => parseDeviceResource('neonvm/kvm', 'required')).toThrow(
      "--device 'neonvm/kvm': expected <resource>=<host device path>",
    );
    expect(() => parseDeviceResource('kvm=/dev/kvm', 'optional')).toThrow(
      "--optional-device 'kvm=/dev/kvm': resource name must be <domain>/<name>",
    );
    expect(() => parseDeviceResource('neonvm/kvm=dev/kvm', 'required')).toThrow(/must be absolute/);
    expect(() => parseDeviceResource('neonvm/kvm=/dev/../etc/passwd', 'required')).toThrow(/without '\.\.'/);
  });
});

describe('defaults', () => {
  it("are upstream's two resources: KVM required, vhost-net optional", () => {
    expect(DEFAULT_RESOURCES.map((r) => [r.resourceName, r.hostPath, r.whenMissing])).toEqual([
      ['neonvm/kvm', '/dev/kvm', 'required'],
      ['neonvm/vhost-net', '/dev/vhost-net', 'optional'],
    ]);
  });

  it('a resource configured twice is refused', () => {
    expect(() => checkUniqueResources([...DEFAULT_RESOURCES, DEFAULT_RESOURCES[0]])).toThrow(
      'resource neonvm/kvm is configured twice',
    );
  });
});

describe('socket names', () => {
  it('one per resource and suffix, recognised again', () => {
    const name = pluginSocketName('neonvm/vhost-net', '0a1b2c3d');
    expect(name).toBe('neonvm-vhost-net-0a1b2c3d.sock');
    expect(isPluginSocketName('neonvm/vhost-net', name)).toBe(true);
    expect(isPluginSocketName('neonvm/kvm', name)).toBe(false);
    expect(isPluginSocketName('neonvm/vhost-net', 'kubelet.sock')).toBe(false);
    expect(isPluginSocketName('neonvm/vhost', name)).toBe(false);
    expect(() => pluginSocketName('neonvm/kvm', 'xyz')).toThrow(/8 hex/);
  });
});
