export interface PollOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Appears in the timeout error: "timed out after 30000 ms waiting for <description>". */
  description: string;
  /** Checked before every attempt; a non-undefined result aborts the wait with that error. */
  abortIf?: () => Error | undefined;
}

/** Calls `attempt` until it returns a value other than undefined; attempt errors count as "not yet". */
export async function pollUntil<T>(attempt: () => Promise<T | undefined>, options: PollOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    const abort = options.abortIf?.();
    if (abort) throw abort;
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.description}${cause}`);
    }
    await sleep(options.intervalMs ?? 200);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
