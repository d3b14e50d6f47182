/** Capped exponential backoff, per key (work queue retries) or for one loop (watch restarts). */
export interface BackoffOptions {
  /** Delay after the first failure. */
  readonly baseMs: number;
  /** Upper bound of any delay. */
  readonly maxMs: number;
  /** Growth per failure (default 2). */
  readonly factor?: number;
}

export const DEFAULT_ITEM_BACKOFF: BackoffOptions = { baseMs: 5, maxMs: 60_000 };
export const DEFAULT_WATCH_BACKOFF: BackoffOptions = { baseMs: 200, maxMs: 30_000 };

/** Delay before retry number `failures` (1 = first retry): base × factor^(failures-1), capped. */
export function backoffDelay(failures: number, options: BackoffOptions): number {
  if (failures <= 0) return 0;
  const factor = options.factor ?? 2;
  const delay = options.baseMs * factor ** (failures - 1);
  return Number.isFinite(delay) ? Math.min(delay, options.maxMs) : options.maxMs;
}

/** Failure counts per key; `next` records a failure and returns how long to wait. */
export class KeyedBackoff {
  private readonly failures = new Map<string, number>();

  constructor(private readonly options: BackoffOptions = DEFAULT_ITEM_BACKOFF) {}

  next(key: string): number {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    return backoffDelay(n, this.options);
  }

  attempts(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Keys with failures and their counts. */
  entries(): Array<[string, number]> {
    return [...this.failures];
  }
}

/** Backoff for a single retry loop (e.g. re-establishing a watch). */
export class Backoff {
  private failures = 0;

  constructor(private readonly options: BackoffOptions = DEFAULT_WATCH_BACKOFF) {}

  next(): number {
    this.failures += 1;
    return backoffDelay(this.failures, this.options);
  }

  reset(): void {
    this.failures = 0;
  }
}
