/**
 * The one place that undoes what the runner set up. Every stage pushes the undo of a resource as soon
 * as the resource exists; `unwind()` runs each undo exactly once, newest first (QEMU must be gone
 * before its cgroup can be removed, and dnsmasq outlives the guest it served), awaiting each. A
 * failing undo is reported and the unwind goes on: a dnsmasq that will not die must not leave the
 * cgroup behind. An undo pushed while or after unwinding (a stage that finished after an abort) runs
 * at once, so nothing created late is leaked.
 *
 * Hand-written rather than a library: the semantics that matter here (late pushes, report-and-continue,
 * one shared unwind for SIGTERM, QEMU exit and crashes) are the whole of it, in a few lines.
 */

export interface CleanupFailure {
  /** What the failing undo was for, e.g. `prepare network: stop dnsmasq`. */
  readonly step: string;
  readonly error: Error;
}

interface Step {
  readonly name: string;
  readonly undo: () => unknown;
}

export class CleanupStack {
  private readonly steps: Step[] = [];
  private readonly failures: CleanupFailure[] = [];
  private started = false;
  private draining: Promise<void> | undefined;

  constructor(private readonly report: (failure: CleanupFailure) => void) {}

  /** Registers the undo of something that now exists. */
  push(name: string, undo: () => unknown): void {
    this.steps.push({ name, undo });
    if (this.started) void this.unwind();
  }

  /** True once unwinding has begun (new undos then run immediately). */
  get unwinding(): boolean {
    return this.started;
  }

  /** Names of the undos not run yet, oldest first. */
  get pending(): string[] {
    return this.steps.map((s) => s.name);
  }

  /**
   * Runs every registered undo once, newest first; resolves (never rejects) when none is left, with
   * every failure so far. Concurrent and repeated calls share the work.
   */
  async unwind(): Promise<readonly CleanupFailure[]> {
    this.started = true;
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
    await this.draining;
    // A push during the last await of a drain that had already seen an empty stack.
    if (this.steps.length) return this.unwind();
    return [...this.failures];
  }

  private async drain(): Promise<void> {
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      try {
        // Called from a microtask, never synchronously inside unwind(): an undo that pushes (or
        // unwinds) re-enters a stack whose drain is already registered.
        await Promise.resolve().then(() => step.undo());
      } catch (e) {
        const failure = { step: step.name, error: e instanceof Error ? e : new Error(String(e)) };
        this.failures.push(failure);
        this.report(failure);
      }
    }
  }
}
