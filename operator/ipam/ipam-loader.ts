/**
 * The overlay IPAM, loaded on first use and retried: a missing or broken IPAM NetworkAttachmentDefinition
 * makes only the VMs with `spec.extraNetwork` wait (Degraded, reason IpamUnavailable) instead of
 * stopping the operator at start (upstream crash-looped the controller, and with it every VM).
 */
import { RetryLaterError, type Clock } from '../controller-kit';
import type { Ipam } from './ipam';
import { loadIpam, type IpamSource } from './load-ipam';

/** IPAM cannot be used now; the VM is retried after `retryAfterMs`. */
export class IpamUnavailableError extends RetryLaterError {
  constructor(message: string, retryAfterMs: number) {
    super(message, retryAfterMs);
    this.name = 'IpamUnavailableError';
  }
}

/** How long a failed load is remembered before the NAD is read again. */
export const IPAM_RETRY_MS = 30_000;

export class IpamLoader {
  private ipam: Ipam | undefined;
  private failure: { readonly error: IpamUnavailableError; readonly at: number } | undefined;
  private loading: Promise<Ipam> | undefined;

  constructor(
    private readonly o: {
      /** Undefined when the operator has no IPAM NAD configured. */
      readonly source?: IpamSource;
      readonly clock: Clock;
      readonly load?: (source: IpamSource) => Promise<Ipam>;
      readonly retryMs?: number;
    },
  ) {}

  async get(): Promise<Ipam> {
    if (this.ipam) return this.ipam;
    const retryMs = this.o.retryMs ?? IPAM_RETRY_MS;
    const source = this.o.source;
    if (!source)
      throw new IpamUnavailableError(
        'spec.extraNetwork is enabled but the operator has no IPAM configured (NAD_IPAM_NAMESPACE/NAD_IPAM_NAME)',
        retryMs,
      );
    const now = this.o.clock.now();
    if (this.failure && now - this.failure.at < retryMs) throw this.failure.error;
    this.loading ??= (this.o.load ?? loadIpam)(source).finally(() => (this.loading = undefined));
    try {
      this.ipam = await this.loading;
      this.failure = undefined;
      return this.ipam;
    } catch (err) {
      const error = new IpamUnavailableError(err instanceof Error ? err.message : String(err), retryMs);
      this.failure = { error, at: now };
      throw error;
    }
  }
}
