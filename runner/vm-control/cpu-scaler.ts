/**
 * CPU scaling, both upstream modes through one path:
 *  1. QmpScaling: make sure at least N vCPUs are plugged (`device_add`, ascending cores);
 *     SysfsScaling: all vCPUs are plugged at boot, nothing to do;
 *  2. ask the guest agent to have exactly N CPUs online (`PUT /cpu`), which offlines on scale-down;
 *  3. confirm through the agent (`GET /cpu`).
 * Scale-down never unplugs (see cpu-plan.ts for the QEMU 7.2 TCG crash this avoids); the guest
 * agent keeps CPUs offlined through PUT /cpu offline even though they stay plugged.
 *
 * The slots are read from QEMU once (at boot, when the runner plugs `vcpus.use`) and then kept
 * current by the runner's own `device_add`s: this runner owns QEMU's only scaling path and never
 * unplugs, so a plug is one QMP command, not a query and a command. A failed `device_add` (someone
 * changed the devices behind our back on the manual QMP socket) drops what we knew, and the next plug
 * reads QEMU again. Migration answers (`pluggedCount`) always ask QEMU.
 */
import { milliCpuRoundedUp } from '../../crds';
import type { HotpluggableCpu, QmpClient } from '../qmp';
import type { VmShape } from '../plan/vm-shape';
import { cpuSlots, markPlugged, plugPlan, type CpuSlot } from './cpu-plan';
import type { GuestAgent } from './guest-agent';
import { sleep, systemClock, type Clock } from '../../host';
import { badRequest, VmError } from './vm-error';

export class CpuScaler {
  /** Last amount applied successfully (what /cpu_current reports). */
  private appliedMilli: number;
  /** The slots as QEMU last reported them, with our own plugs since; undefined: ask QEMU. */
  private known: CpuSlot[] | undefined;

  constructor(
    private readonly qmp: QmpClient,
    private readonly agent: GuestAgent,
    private readonly shape: VmShape,
    private readonly clock: Clock = systemClock,
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

  /** The slots as QEMU reports them now (and remembered for the next plug). */
  async slots(): Promise<CpuSlot[]> {
    this.known = cpuSlots(await this.qmp.execute<HotpluggableCpu[]>('query-hotpluggable-cpus'));
    return this.known;
  }

  /** Plugs vCPUs up to `count` (QmpScaling only); used at boot, for scaling and on migration targets. */
  async ensurePlugged(count: number): Promise<void> {
    if (this.shape.scalingMode !== 'QmpScaling') return;
    const slots = this.known ?? (await this.slots());
    let plan;
    try {
      plan = plugPlan(slots, count);
    } catch (e) {
      throw new VmError(409, (e as Error).message);
    }
    for (const args of plan) {
      try {
        await this.qmp.execute('device_add', args);
      } catch (e) {
        this.known = undefined;
        throw e;
      }
      this.known = markPlugged(this.known ?? slots, args);
    }
  }

  async set(milli: number): Promise<void> {
    this.checkRange(milli);
    const count = milliCpuRoundedUp(milli);
    // Listening before the device_add: the acknowledgement can come before its answer is read.
    const inserted = this.cpuInsertions();
    try {
      await this.ensurePlugged(count);
      await this.putOnline(count, inserted.next);
    } finally {
      inserted.stop();
    }
    this.appliedMilli = milli;
  }

  /**
   * `PUT /cpu` until the guest agent has `count` CPUs online (it answers 200 only then, so a success
   * needs no re-read). A PUT that reaches the guest before its kernel has added a freshly plugged vCPU
   * fails ("cannot online 1 more CPUs"); it is retried as soon as the guest acknowledges the insertion
   * (ACPI _OST), else every 25 ms. Traced first plugs on the local stack: 2 of 5 first PUTs came
   * too early; in one the acknowledgement arrived 1 ms after the failed answer, 26 ms before the
   * retry at the poll interval.
   */
  private async putOnline(count: number, inserted: Promise<void>): Promise<void> {
    const timeoutMs = 15_000;
    const deadline = this.clock.now() + timeoutMs;
    let wake: Promise<void> | undefined = inserted;
    for (;;) {
      try {
        await this.agent.setCpuMilli(count * 1000, 3000);
        return;
      } catch (e) {
        if (this.clock.now() >= deadline)
          throw new VmError(
            504,
            `timed out after ${timeoutMs} ms waiting for ${count} online CPUs in the guest (last error: ${(e as Error).message})`,
          );
      }
      const pause = sleep(25, this.clock).then(() => false);
      // The acknowledgement wakes one retry; later ones go at the poll interval.
      if (!wake) await pause;
      else if (await Promise.race([pause, wake.then(() => true)])) wake = undefined;
    }
  }

  /**
   * Resolves `next` on the guest's first acknowledgement of an inserted vCPU: QEMU's ACPI_DEVICE_OST
   * with source 1 (insertion processed), for a CPU slot.
   */
  private cpuInsertions(): { next: Promise<void>; stop: () => void } {
    let resolve = () => {};
    const next = new Promise<void>((r) => (resolve = r));
    const stop = this.qmp.onEvent('ACPI_DEVICE_OST', (e) => {
      const info = e.data.info as { source?: number; 'slot-type'?: string } | undefined;
      if (info?.source === 1 && info['slot-type'] === 'CPU') resolve();
    });
    return { next, stop };
  }

  /** Plugged vCPU count as QEMU sees it. */
  async pluggedCount(): Promise<number> {
    return (await this.slots()).filter((s) => s.plugged).length;
  }

  /**
   * The vCPU count a migration target must have been started with: QEMU needs identical devices on
   * both sides, and scale-down keeps vCPUs plugged (offline in the guest), so this is the plugged
   * count, which can exceed the CPUs in use. A caller that names another count gets a 409.
   */
  async vcpusForMigration(requested?: number): Promise<number> {
    const plugged = await this.pluggedCount();
    if (requested !== undefined && requested !== plugged) {
      throw new VmError(
        409,
        `the target must have ${plugged} vCPUs plugged (source /status cpus.plugged), not ${requested}: start it with -vmstatus cpus=${plugged}`,
      );
    }
    return plugged;
  }

  /** After an incoming migration the guest state came from the source: read what it runs. */
  adopt(milli: number): void {
    this.appliedMilli = milli;
  }
}
