/**
 * Which vCPU slots to hot-plug or unplug: pure functions over `query-hotpluggable-cpus`.
 *
 * QEMU 7.2 under TCG crashes when a vCPU is re-added to a slot that was `device_del`ed before. So
 * the runner never unplugs to scale down: it offlines CPUs in the guest and keeps them plugged
 * (plugged = high-water mark). The only unplug is to match a migration target's vCPU count; those
 * slots are then retired under TCG and never plugged again by this QEMU.
 */
import type { HotpluggableCpu } from '../qmp';

export interface CpuSlot {
  readonly type: string;
  readonly socketId: number;
  readonly coreId: number;
  readonly threadId: number;
  readonly plugged: boolean;
  readonly qomPath?: string;
}

export function cpuSlots(list: readonly HotpluggableCpu[]): CpuSlot[] {
  return list
    .map((c) => ({
      type: c.type,
      socketId: c.props['socket-id'] ?? 0,
      coreId: c.props['core-id'] ?? 0,
      threadId: c.props['thread-id'] ?? 0,
      plugged: c['qom-path'] !== undefined,
      qomPath: c['qom-path'],
    }))
    .sort((a, b) => a.coreId - b.coreId);
}

/** The device id upstream gives a hot-plugged vCPU. */
export const cpuDeviceId = (coreId: number) => `cpu${coreId}`;

/** `device_add` arguments to reach `want` plugged vCPUs, lowest free cores first. */
export function plugPlan(
  slots: readonly CpuSlot[],
  want: number,
  retired: ReadonlySet<number>,
): Array<Record<string, unknown>> {
  const plugged = slots.filter((s) => s.plugged).length;
  if (want <= plugged) return [];
  const free = slots.filter((s) => !s.plugged && !retired.has(s.coreId));
  if (free.length < want - plugged) {
    throw new Error(
      retired.size
        ? `cannot plug ${want} vCPUs: slots ${[...retired].join(',')} were unplugged for a migration and cannot be re-plugged under TCG (QEMU 7.2)`
        : `no empty slots for CPU hotplug (${plugged} plugged, ${want} wanted)`,
    );
  }
  return free.slice(0, want - plugged).map((s) => ({
    id: cpuDeviceId(s.coreId),
    driver: s.type,
    'socket-id': s.socketId,
    'core-id': s.coreId,
    'thread-id': s.threadId,
  }));
}

/** Hot-plugged vCPUs to `device_del` (highest cores first) to get down to `want`; boot vCPUs are not removable. */
export function unplugPlan(slots: readonly CpuSlot[], want: number): string[] {
  const plugged = slots.filter((s) => s.plugged);
  const removable = plugged
    .filter((s) => s.qomPath?.includes('/machine/peripheral/'))
    .sort((a, b) => b.coreId - a.coreId);
  const surplus = plugged.length - want;
  if (surplus <= 0) return [];
  if (removable.length < surplus)
    throw new Error(`cannot unplug ${surplus} vCPUs: only ${removable.length} are hot-plugged`);
  return removable.slice(0, surplus).map((s) => cpuDeviceId(s.coreId));
}
