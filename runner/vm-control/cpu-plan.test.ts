import { cpuSlots, markPlugged, plugPlan } from './cpu-plan';
import type { HotpluggableCpu } from '../qmp';

const T = 'max-x86_64-cpu';
// query-hotpluggable-cpus lists slots highest core first, as QEMU does.
const list = (plugged: number[]): HotpluggableCpu[] =>
  [3, 2, 1, 0].map((core) => ({
    type: T,
    'vcpus-count': 1,
    props: { 'socket-id': 0, 'core-id': core, 'thread-id': 0 },
    'qom-path': plugged.includes(core)
      ? core === 0
        ? '/machine/unattached/device[0]'
        : `/machine/peripheral/cpu${core}`
      : undefined,
  }));

describe('cpu plans', () => {
  it('plugs the lowest free cores in ascending order', () => {
    expect(plugPlan(cpuSlots(list([0])), 3)).toEqual([
      { id: 'cpu1', driver: T, 'socket-id': 0, 'core-id': 1, 'thread-id': 0 },
      { id: 'cpu2', driver: T, 'socket-id': 0, 'core-id': 2, 'thread-id': 0 },
    ]);
    expect(plugPlan(cpuSlots(list([0, 1, 2])), 2)).toEqual([]);
  });
  it('fails clearly when no slot is free', () => {
    expect(() => plugPlan(cpuSlots(list([0])), 5)).toThrow(/no empty slots/);
  });
  it('marks a plugged slot as QEMU then lists it', () => {
    const before = cpuSlots(list([0]));
    const [args] = plugPlan(before, 2);
    expect(markPlugged(before, args)).toEqual(cpuSlots(list([0, 1])));
  });
});
