import { deviceIds, listDevices } from './devices';
import { DEFAULT_RESOURCES } from './resources';

const [kvm, vhostNet] = DEFAULT_RESOURCES;

describe('deviceIds', () => {
  it('count stable IDs named after the resource', () => {
    expect(deviceIds('neonvm/kvm', 3)).toEqual(['kvm-0', 'kvm-1', 'kvm-2']);
    expect(new Set(deviceIds('neonvm/vhost-net', 1000)).size).toBe(1000);
  });

  it('stay within 63 characters', () => {
    const ids = deviceIds(`example.com/${'x'.repeat(63)}`, 10_000);
    expect(Math.max(...ids.map((id) => id.length))).toBe(63);
    expect(ids[9999]).toMatch(/-9999$/);
  });
});

describe('listDevices', () => {
  it('all Healthy when the host has the node', () => {
    const list = listDevices(kvm, 1000, true);
    expect(list).toHaveLength(1000);
    expect(new Set(list.map((d) => d.health))).toEqual(new Set(['Healthy']));
  });

  it('a missing required node: all Unhealthy (capacity stays, allocatable 0)', () => {
    expect(new Set(listDevices(kvm, 5, false).map((d) => d.health))).toEqual(new Set(['Unhealthy']));
  });

  it('a missing optional node: still Healthy', () => {
    expect(new Set(listDevices(vhostNet, 5, false).map((d) => d.health))).toEqual(new Set(['Healthy']));
  });
});
