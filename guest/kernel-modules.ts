import { GuestArch } from './arch';

/**
 * Kernel modules for the initramfs. Busybox `insmod` does no dependency resolution, so the build
 * computes a load order from each module's `depends=` modinfo field.
 */

/** A module the guest wants; optional ones may be missing from the kernel or fail to load (e.g. ptp_kvm without KVM). */
export interface WantedModule {
  readonly name: string;
  readonly optional?: boolean;
}

/**
 * What the guest needs, in the order we would like them loaded. Built-in modules (listed in
 * modules.builtin, e.g. ext4 in Debian's cloud kernel) are skipped.
 */
export function guestModules(arch: GuestArch): readonly WantedModule[] {
  const x86 = arch === 'amd64';
  return [
    { name: 'virtio_pci' },
    { name: 'virtio_blk' },
    { name: 'virtio_net' },
    { name: 'virtio_console' },
    { name: 'virtio_mem' },
    { name: 'ext4' },
    { name: 'isofs' },
    // The power button (system_powerdown): ACPI button on x86; on arm64 `virt` it is ACPI (GED)
    // or a gpio-keys device depending on firmware, so both are tried there.
    { name: 'button', optional: !x86 },
    ...(x86
      ? []
      : [
          { name: 'gpio_pl061', optional: true },
          { name: 'gpio_keys', optional: true },
        ]),
    { name: 'evdev', optional: !x86 }, // /dev/input/event* for the agent's power-button watcher
    { name: 'virtio_rng', optional: true }, // entropy for dropbear host keys
    { name: 'ptp_kvm', optional: true }, // /dev/ptp0 for chrony; only loads under KVM
    // ext4's hidden quota files (emptyDisk.enableQuotas) are in the vfsv1 format of quota_v2.
    { name: 'quota_v2', optional: true },
  ];
}

/** Module names are compared with '-' and '_' equivalent, as the kernel does. */
export function normalizeModuleName(name: string): string {
  return name.replace(/-/g, '_');
}

/** Extracts the `depends=` list from a module's .modinfo strings (NUL-separated key=value). */
export function parseModinfoDepends(ko: Buffer): string[] {
  const marker = Buffer.from('\0depends=');
  const at = ko.indexOf(marker);
  if (at < 0) return [];
  const start = at + marker.length;
  const end = ko.indexOf(0, start);
  const value = ko.subarray(start, end < 0 ? undefined : end).toString('latin1');
  return value === '' ? [] : value.split(',').map(normalizeModuleName);
}

export interface OrderedModule {
  readonly name: string;
  readonly optional: boolean;
}

/**
 * Orders the wanted modules and their dependencies so that every module comes after what it
 * depends on (depth-first; wanted order kept otherwise). A dependency inherits `optional: false`
 * if any non-optional module needs it. Names absent from `available` and not built in fail for
 * required modules and are dropped for optional ones.
 */
export function orderModules(
  wanted: readonly WantedModule[],
  dependsOf: (name: string) => readonly string[],
  available: ReadonlySet<string>,
  builtin: ReadonlySet<string>,
): OrderedModule[] {
  const order: string[] = [];
  const optional = new Map<string, boolean>();
  const visiting = new Set<string>();

  const visit = (name: string, isOptional: boolean, path: readonly string[]): boolean => {
    if (builtin.has(name)) return true;
    if (!available.has(name)) {
      if (isOptional) return false;
      throw new Error(`kernel module ${name} not found (needed by ${path.join(' → ') || 'the guest'})`);
    }
    if (optional.has(name)) {
      if (!isOptional) optional.set(name, false);
      return true;
    }
    if (visiting.has(name)) throw new Error(`module dependency cycle: ${[...path, name].join(' → ')}`);
    visiting.add(name);
    for (const dep of dependsOf(name)) {
      if (!visit(dep, isOptional, [...path, name]) && !isOptional) {
        throw new Error(`dependency ${dep} of ${name} missing`);
      }
    }
    visiting.delete(name);
    optional.set(name, isOptional);
    order.push(name);
    return true;
  };

  for (const m of wanted) visit(normalizeModuleName(m.name), m.optional ?? false, []);
  return order.map((name) => ({ name, optional: optional.get(name) ?? false }));
}
