import { guestModules, orderModules, parseModinfoDepends } from './kernel-modules';

const GUEST_MODULES = guestModules('amd64');

describe('parseModinfoDepends', () => {
  it('reads the depends= string and normalises dashes', () => {
    const ko = Buffer.from('\x7fELF....\0license=GPL\0depends=virtio_ring,virtio-pci-x\0intree=Y\0');
    expect(parseModinfoDepends(ko)).toEqual(['virtio_ring', 'virtio_pci_x']);
    expect(parseModinfoDepends(Buffer.from('\0depends=\0name=x\0'))).toEqual([]);
    expect(parseModinfoDepends(Buffer.from('nothing'))).toEqual([]);
  });
});

describe('orderModules', () => {
  // The real graph of Debian's 6.1 cloud kernel for the virtio stack.
  const deps: Record<string, string[]> = {
    virtio: ['virtio_ring'],
    virtio_ring: [],
    virtio_pci: ['virtio_ring', 'virtio_pci_modern_dev', 'virtio_pci_legacy_dev', 'virtio'],
    virtio_pci_modern_dev: [],
    virtio_pci_legacy_dev: [],
    virtio_blk: ['virtio', 'virtio_ring'],
    virtio_net: ['virtio_ring', 'virtio', 'net_failover'],
    net_failover: ['failover'],
    failover: [],
    virtio_console: ['virtio', 'virtio_ring'],
    virtio_mem: ['virtio', 'virtio_ring'],
    isofs: ['cdrom'],
    cdrom: [],
    button: [],
    evdev: [],
    virtio_rng: ['virtio', 'virtio_ring'],
    ptp_kvm: [],
  };
  const dependsOf = (n: string) => deps[n] ?? [];
  const available = new Set(Object.keys(deps));
  const builtin = new Set(['ext4']);

  it('puts dependencies first and skips built-ins', () => {
    const names = orderModules(GUEST_MODULES, dependsOf, available, builtin).map((m) => m.name);
    expect(names.slice(0, 5)).toEqual([
      'virtio_ring',
      'virtio_pci_modern_dev',
      'virtio_pci_legacy_dev',
      'virtio',
      'virtio_pci',
    ]);
    expect(names).not.toContain('ext4');
    for (const [mod, ds] of Object.entries(deps)) {
      for (const d of ds) {
        if (names.includes(mod)) expect(names.indexOf(d)).toBeLessThan(names.indexOf(mod));
      }
    }
    expect(new Set(names).size).toBe(names.length);
  });

  it('marks only optional-only modules optional', () => {
    const ordered = orderModules(GUEST_MODULES, dependsOf, available, builtin);
    expect(ordered.find((m) => m.name === 'ptp_kvm')?.optional).toBe(true);
    expect(ordered.find((m) => m.name === 'virtio')?.optional).toBe(false);
  });

  it('needs the ACPI button and evdev on x86 only', () => {
    const x86 = guestModules('amd64').find((m) => m.name === 'button');
    const arm = guestModules('arm64').find((m) => m.name === 'button');
    expect([x86?.optional, arm?.optional]).toEqual([false, true]);
    expect(guestModules('arm64').map((m) => m.name)).toContain('gpio_keys');
  });

  it('fails for a missing required module and drops a missing optional one', () => {
    expect(() => orderModules([{ name: 'nope' }], dependsOf, available, builtin)).toThrow(/nope not found/);
    expect(orderModules([{ name: 'nope', optional: true }], dependsOf, available, builtin)).toEqual([]);
  });
});
