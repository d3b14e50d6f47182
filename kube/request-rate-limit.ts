/**
 * Client-side request rate limiting, as client-go's `rest.Config` QPS/Burst (upstream's
 * `--k8s-client-qps` / `--k8s-client-burst`): a token bucket that starts full with `burst` tokens and
 * refills `qps` per second; every API request — calls and the requests that open watches (the
 * operator's KubeClient `beforeRequest`) — takes one token first, waiting in FIFO order when there is none.
 * @kubernetes/client-node has no such limiter; the bucket is a few lines on our Clock (testable without
 * sleeping), so it is written here rather than taken from a rate-limiting package built on wall time.
 */
import type { Clock, TimerHandle } from '../host';

export interface RequestRateLimit {
  /** Sustained requests per second (> 0). */
  readonly qps: number;
  /** Requests allowed at once after a quiet period (≥ 1). */
  readonly burst: number;
}

export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly waiters: Array<() => void> = [];
  private timer: TimerHandle | undefined;

  constructor(
    private readonly limit: RequestRateLimit,
    private readonly clock: Clock,
  ) {
    if (!(limit.qps > 0)) throw new RangeError(`qps must be > 0 (got ${limit.qps})`);
    if (!Number.isInteger(limit.burst) || limit.burst < 1)
      throw new RangeError(`burst must be an integer ≥ 1 (got ${limit.burst})`);
    this.tokens = limit.burst;
    this.last = clock.now();
  }

  /** Resolves when the caller may send one request. */
  acquire(): Promise<void> {
    this.refill();
    if (this.waiters.length === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.schedule();
    });
  }

  /** Requests waiting for a token now (dump-state). */
  get waiting(): number {
    return this.waiters.length;
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.last) * this.limit.qps) / 1000);
    this.last = now;
  }

  private schedule(): void {
    if (this.timer) return;
    const waitMs = Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.limit.qps));
    this.timer = this.clock.setTimer(waitMs, () => {
      this.timer = undefined;
      this.refill();
      while (this.waiters.length > 0 && this.tokens >= 1) {
        this.tokens -= 1;
        this.waiters.shift()?.();
      }
      if (this.waiters.length > 0) this.schedule();
    });
  }
}
