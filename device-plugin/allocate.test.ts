import { allocate, preferredAllocation } from './allocate';
import { deviceIds } from './devices';
import { DEFAULT_RESOURCES } from './resources';

const [kvm, vhostNet] = DEFAULT_RESOURCES;
const known = (name: string) => new Set(deviceIds(name, 4));

describe('allocate', () => {
  it('one device node per container, rw, whatever the number of IDs', () => {
    const out = allocate(
      kvm,
      known('neonvm/kvm'),
      { containerRequests: [{ devicesIds: ['kvm-0'] }, { devicesIds: ['kvm-1', 'kvm-2'] }] },
      true,
    );
    expect(out).toEqual({
      ok: true,
      response: {
        containerResponses: [0, 1].map(() => ({
          envs: {},
          mounts: [],
          devices: [{ hostPath: '/dev/kvm', containerPath: '/dev/kvm', permissions: 'rw' }],
          annotations: {},
          cdiDevices: [],
        })),
      },
    });
  });

  it('a missing optional node: granted, nothing mounted (the runner goes without)', () => {
    const out = allocate(
      vhostNet,
      known('neonvm/vhost-net'),
      { containerRequests: [{ devicesIds: ['vhost-net-3'] }] },
      false,
    );
    expect(out.ok && out.response.containerResponses[0].devices).toEqual([]);
  });

  it('a missing required node: refused with the reason (the pod fails admission)', () => {
    expect(
      allocate(kvm, known('neonvm/kvm'), { containerRequests: [{ devicesIds: ['kvm-0'] }] }, false),
    ).toEqual({
      ok: false,
      refusal: { code: 'FAILED_PRECONDITION', message: 'neonvm/kvm: the host has no /dev/kvm' },
    });
  });

  it('unknown IDs are refused and named', () => {
    expect(
      allocate(
        kvm,
        known('neonvm/kvm'),
        { containerRequests: [{ devicesIds: ['kvm-0', 'gpu-1', 'kvm-9'] }] },
        true,
      ),
    ).toEqual({
      ok: false,
      refusal: { code: 'INVALID_ARGUMENT', message: 'neonvm/kvm: unknown device IDs gpu-1, kvm-9' },
    });
  });
});

describe('preferredAllocation', () => {
  it('the required IDs first, then available ones, up to the size', () => {
    expect(
      preferredAllocation({
        containerRequests: [
          { availableDeviceIDs: ['a', 'b', 'c', 'd'], mustIncludeDeviceIDs: ['c'], allocationSize: 2 },
          { availableDeviceIDs: ['a', 'b'], mustIncludeDeviceIDs: [], allocationSize: 5 },
        ],
      }),
    ).toEqual({ containerResponses: [{ deviceIDs: ['c', 'a'] }, { deviceIDs: ['a', 'b'] }] });
  });
});
