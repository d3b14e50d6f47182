/**
 * Live swap resize (`PUT /swap`): the guest re-initialises its swap disk at the requested size with
 * upstream's `resize-swap` helper (swapoff, mkswap, swapon). The disk itself keeps the size of
 * `spec.guest.settings.swap`, so a resize stays within it: a migration target creates the same disk
 * from the same spec, and the pod's emptyDir sizeLimit still holds. (Upstream resizes the same way
 * from inside the guest, e.g. Neon's compute_ctl calling `resize-swap --once`.)
 */
import type { SwapState } from '../api';
import type { GuestAgent } from './guest-agent';
import { badRequest, conflict } from './vm-error';

/** What the scaler needs from the guest agent. */
export type SwapAgent = Pick<GuestAgent, 'resizeSwap' | 'status'>;

export class SwapScaler {
  private requested: number | undefined;

  constructor(
    private readonly agent: SwapAgent,
    /** The swap disk's size; undefined: the VM has no swap disk. */
    private readonly diskBytes: number | undefined,
  ) {
    this.requested = diskBytes;
  }

  /** 400/409 before anything is touched. */
  check(bytes: unknown): number {
    if (this.diskBytes === undefined)
      throw conflict('this VM has no swap disk (spec.guest.settings.swap is not set)');
    if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0)
      throw badRequest('sizeBytes must be a non-negative integer');
    if (bytes > this.diskBytes)
      throw badRequest(
        `sizeBytes ${bytes} exceeds the swap disk (spec.guest.settings.swap = ${this.diskBytes} bytes); a larger disk needs a new runner pod`,
      );
    return bytes;
  }

  async set(bytes: number): Promise<SwapState> {
    await this.agent.resizeSwap(bytes);
    this.requested = bytes;
    return this.state();
  }

  async state(): Promise<SwapState> {
    if (this.diskBytes === undefined)
      throw conflict('this VM has no swap disk (spec.guest.settings.swap is not set)');
    const guest = await this.agent.status().catch(() => undefined);
    return {
      diskBytes: this.diskBytes,
      requestedBytes: this.requested ?? this.diskBytes,
      ...(guest?.swapTotalBytes !== undefined ? { guestBytes: guest.swapTotalBytes } : {}),
    };
  }
}
