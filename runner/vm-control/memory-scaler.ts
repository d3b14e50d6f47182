/**
 * Memory scaling through virtio-mem: `qom-set vm0 requested-size`, then wait until QEMU reports the
 * memory plugged (the guest driver plugs/unplugs blocks; shrinking needs the guest to offline them,
 * measured 0.6–2.2 s under TCG).
 */
import { systemClock, type Clock } from '../../host';
import type { MemoryState } from '../api';
import type { MemorySizeSummary, QmpClient } from '../qmp';
import { VIRTIO_MEM_ID } from '../plan/qemu-args';
import { pluggedBytesFor, type VmShape } from '../plan/vm-shape';
import { badRequest, VmError } from './vm-error';

export class MemoryScaler {
  private requestedSlots: number;

  constructor(
    private readonly qmp: QmpClient,
    private readonly shape: VmShape,
    private readonly clock: Clock = systemClock,
  ) {
    this.requestedSlots = shape.memory.useSlots;
  }

  checkRange(slots: number): void {
    const { minSlots, maxSlots } = this.shape.memory;
    if (!Number.isInteger(slots) || slots < minSlots || slots > maxSlots) {
      throw badRequest(`slots ${slots} is outside [${minSlots}, ${maxSlots}] (spec.guest.memorySlots)`);
    }
  }

  async state(): Promise<MemoryState> {
    const s = await this.qmp.execute<MemorySizeSummary>('query-memory-size-summary');
    const { slotBytes, minSlots, maxSlots } = this.shape.memory;
    const plugged = BigInt(s['plugged-memory'] ?? 0);
    const base = BigInt(s['base-memory']);
    return {
      slots: Number((base + plugged) / slotBytes),
      requestedSlots: this.requestedSlots,
      minSlots,
      maxSlots,
      slotSizeBytes: Number(slotBytes),
      sizeBytes: Number(base + plugged),
      baseBytes: Number(base),
      pluggedBytes: Number(plugged),
    };
  }

  async set(slots: number, timeoutMs = 30_000): Promise<MemoryState> {
    this.checkRange(slots);
    if (this.shape.memory.maxSlots === this.shape.memory.minSlots) return this.state();
    const want = pluggedBytesFor(this.shape, slots);
    // virtio-mem announces size changes (MEMORY_DEVICE_SIZE_CHANGE): re-check on each event. QEMU
    // rate-limits that event to one per second per device, so a 20 ms poll covers the rest.
    // Subscribed before the change so no event is missed.
    let events = 0;
    let wake: (() => void) | undefined;
    const unsubscribe = this.qmp.onEvent('MEMORY_DEVICE_SIZE_CHANGE', () => {
      events++;
      wake?.();
    });
    const deadline = this.clock.now() + timeoutMs;
    try {
      await this.qmp.execute('qom-set', {
        path: VIRTIO_MEM_ID,
        property: 'requested-size',
        value: Number(want),
      });
      this.requestedSlots = slots;
      for (;;) {
        const seen = events;
        const state = await this.state();
        if (BigInt(state.pluggedBytes) === want) return state;
        if (this.clock.now() >= deadline) {
          throw new VmError(
            504,
            `timed out after ${timeoutMs} ms waiting for ${slots} memory slots in the guest (plugged ${state.pluggedBytes} bytes)`,
          );
        }
        if (events === seen) {
          await new Promise<void>((resolve) => {
            const timer = this.clock.setTimer(20, resolve);
            wake = () => {
              timer.cancel();
              resolve();
            };
          });
          wake = undefined;
        }
      }
    } finally {
      unsubscribe();
    }
  }

  /** After an incoming migration, requested-size came with the device state. */
  async adopt(): Promise<void> {
    if (this.shape.memory.maxSlots === this.shape.memory.minSlots) return;
    const requested = await this.qmp.execute<number>('qom-get', {
      path: VIRTIO_MEM_ID,
      property: 'requested-size',
    });
    this.requestedSlots =
      this.shape.memory.minSlots + Number(BigInt(requested) / this.shape.memory.slotBytes);
  }
}
