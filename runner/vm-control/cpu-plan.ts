/**
 * Which vCPU slots to hot-plug or unplug: pure functions over `query-hotpluggable-cpus`.
 *
 * QEMU 7.2 under TCG crashes when a vCPU is re-added to a slot that was `device_del`ed before, and
 * a guest must acknowledge an unplug (slow and unreliable under TCG). So the runner never unplugs:
 * it offlines CPUs in the guest and keeps them plugged (plugged = high-water mark); a migration
 * target is started with the plugged count.
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
export function plugPlan(slots: readonly CpuSlot[], want: number): Array<Record<string, unknown>> {
  const plugged = slots.filter((s) => s.plugged).length;
  if (want <= plugged) return [];
  const free = slots.filter((s) => !s.plugged);
  if (free.length < want - plugged) {
    throw new Error(`no empty slots for CPU hotplug (${plugged} plugged, ${want} wanted)`);
  }
  return free.slice(0, want - plugged).map((s) => ({
    id: cpuDeviceId(s.coreId),
    driver: s.type,
    'socket-id': s.socketId,
    'core-id': s.coreId,
    'thread-id': s.threadId,
  }));
}

/**
 * `slots` after a successful `device_add` with these `plugPlan` arguments, as QEMU would list them
 * (a device with an id lives at `/machine/peripheral/<id>`).
 */
export function markPlugged(slots: readonly CpuSlot[], args: Record<string, unknown>): CpuSlot[] {
  return slots.map((s) =>
    s.socketId === args['socket-id'] && s.coreId === args['core-id'] && s.threadId === args['thread-id']
      ? { ...s, plugged: true, qomPath: `/machine/peripheral/${String(args.id)}` }
      : s,
  );
}
