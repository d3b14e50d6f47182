/**
 * Accumulates a guest's console output and lets callers wait for a pattern, failing fast (with the
 * last output) when the process ends first or the timeout passes.
 */
export class ConsoleWatcher {
  private buffer = '';
  private readonly waiters = new Set<() => void>();
  private ended: string | undefined;

  /** Feeds a chunk of output. */
  push(chunk: string): void {
    this.buffer += chunk;
    for (const w of this.waiters) w();
  }

  /** Marks the output as finished (the process exited); pending waits fail. */
  end(reason: string): void {
    this.ended = reason;
    for (const w of this.waiters) w();
  }

  text(): string {
    return this.buffer;
  }

  /** Resolves with the first match of pattern in everything seen so far or later. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const tail = () => this.buffer.slice(-3000);
      const check = () => {
        const m = this.buffer.match(pattern);
        if (m) {
          done();
          resolve(m);
        } else if (this.ended !== undefined) {
          done();
          reject(new Error(`${this.ended} before the console matched ${pattern}:\n${tail()}`));
        }
      };
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`console did not match ${pattern} within ${timeoutMs} ms; last output:\n${tail()}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }
}
