/** An expected, retryable condition (e.g. "IPAM busy"): requeued after `retryAfterMs` without error logs. */
export class RetryLaterError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
    this.name = 'RetryLaterError';
  }
}
