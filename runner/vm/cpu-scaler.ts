/**
 * CPU scaling, both upstream modes through one path:
 *  1. QmpScaling: make sure at least N vCPUs are plugged (`device_add`, ascending cores);
 *     SysfsScaling: all vCPUs are plugged at boot, nothing to do;
 *  2. ask the guest agent to have exactly N CPUs online (`PUT /cpu`), which offlines on scale-down;
 *  3. confirm through the agent (`GET /cpu`).
 * Scale-down never unplugs (see cpu-plan.ts for the QEMU 7.2 TCG crash this avoids).
 */
import { milliCpuRoundedUp } from '../../crds';
import type { HotpluggableCpu, QmpClient } from '../qmp';
import type { VmShape } from '../plan/vm-shape';
import { cpuSlots, plugPlan, unplugPlan, type CpuSlot } from './cpu-plan';
import type { GuestAgent } from './guest-agent';
import { pollUntil } from './poll';
import { badRequest, VmError } from './vm-error';

export class CpuScaler {
  /** Last amount applied successfully (what /cpu_current reports). */
  private appliedMilli: number;
  /** Slots unplugged to match a migration target; under TCG they must never be plugged again. */
  private readonly retired = new Set<number>();

  constructor(
    private readonly qmp: QmpClient,
    private readonly agent: GuestAgent,
    private readonly shape: VmShape,
    private readonly accel: 'kvm' | 'tcg',
  ) {
    this.appliedMilli = shape.cpus.useMilli;
  }

  get currentMilli(): number {
    return this.appliedMilli;
  }

  checkRange(milli: number): void {
    const { minMilli, maxMilli } = this.shape.cpus;
    if (milli < minMilli || milli > maxMilli) {
      throw badRequest(`VCPUs ${milli}m is outside [${minMilli}m, ${maxMilli}m] (spec.guest.cpus)`);
    }
  }

  async slots(): Promise<CpuSlot[]> {
    return cpuSlots(await this.qmp.execute<HotpluggableCpu[]>('query-hotpluggable-cpus'));
  }

  /** Plugs vCPUs up to `count` (QmpScaling only); used at boot, for scaling and on migration targets. */
  async ensurePlugged(count: number): Promise<void> {
    if (this.shape.scalingMode !== 'QmpScaling') return;
    let plan;
    try {
      plan = plugPlan(await this.slots(), count, this.retired);
    } catch (e) {
      throw new VmError(409, (e as Error).message);
    }
    for (const args of plan) await this.qmp.execute('device_add', args);
  }

  async set(milli: number): Promise<void> {
    this.checkRange(milli);
    const count = milliCpuRoundedUp(milli);
    await this.ensurePlugged(count);
    // A freshly plugged vCPU shows up in the guest a few hundred ms after device_add; PUT /cpu fails
    // ("not enough CPUs") until then, so retry within a bound.
    await pollUntil(
      async () => {
        await this.agent.setCpuMilli(count * 1000, 3000);
        return this.agent.getCpuMilli();
      },
      (online) => online === count * 1000,
      { timeoutMs: 15_000, intervalMs: 100, what: `${count} online CPUs in the guest` },
    ).catch((e: unknown) => {
      throw e instanceof VmError ? e : new VmError(504, (e as Error).message);
    });
    this.appliedMilli = milli;
  }

  /** Plugged vCPU count as QEMU sees it. */
  async pluggedCount(): Promise<number> {
    return (await this.slots()).filter((s) => s.plugged).length;
  }

  /**
   * Makes the plugged count equal `count` before a migration (QEMU needs identical devices on both
   * sides). Surplus vCPUs are offline in the guest already (scale-down offlines), so unplugging them
   * is safe; under TCG their slots are retired afterwards.
   */
  async matchPluggedForMigration(count: number): Promise<void> {
    if (this.shape.scalingMode !== 'QmpScaling') return;
    const slots = await this.slots();
    const plugged = slots.filter((s) => s.plugged).length;
    if (count > plugged) {
      await this.ensurePlugged(count);
      // device_add onlines in the guest (agent hotplug handler): put the online count back.
      await this.set(this.appliedMilli);
      return;
    }
    const online = (await this.agent.getCpuMilli()) / 1000;
    if (count < online)
      throw badRequest(`targetVcpus ${count} is below the ${online} CPUs online in the guest`);
    for (const id of unplugPlan(slots, count)) {
      const deleted = this.qmp.waitForEvent(
        'DEVICE_DELETED',
        (e) => (e.data as { device?: string } | undefined)?.device === id,
        10_000,
      );
      await this.qmp.execute('device_del', { id });
      await deleted;
      if (this.accel === 'tcg') this.retired.add(Number(id.slice(3)));
    }
  }

  /** After an incoming migration the guest state came from the source: read what it runs. */
  adopt(milli: number): void {
    this.appliedMilli = milli;
  }
}
