/**
 * On-demand profiles of the operator process — the Node.js counterparts of Go's pprof profiles that
 * upstream's controller serves: a CPU profile over N seconds (V8's sampling profiler through the
 * built-in inspector; the `.cpuprofile` JSON that Chrome DevTools, VS Code and speedscope open), a heap
 * snapshot (`.heapsnapshot`, streamed by V8 as it is written) and the live handles that keep the event
 * loop busy (what goroutine dumps are for). Nothing runs until asked; one CPU profile at a time.
 */
import { Session } from 'node:inspector/promises';
import type { Readable } from 'node:stream';
import { getHeapSnapshot } from 'node:v8';

/** Longest CPU profile one request may ask for. */
export const MAX_PROFILE_SECONDS = 300;

export class ProfileBusyError extends Error {
  constructor() {
    super('a CPU profile is already being taken; try again when it is done');
    this.name = 'ProfileBusyError';
  }
}

export class Profiler {
  private busy = false;

  /**
   * Samples the CPU for `seconds` (stopped early, with what was sampled, when `signal` aborts);
   * resolves with the `.cpuprofile` JSON text.
   */
  async cpuProfile(seconds: number, signal?: AbortSignal): Promise<string> {
    if (this.busy) throw new ProfileBusyError();
    this.busy = true;
    const session = new Session();
    session.connect();
    try {
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, seconds * 1000);
        signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      const { profile } = await session.post('Profiler.stop');
      return JSON.stringify(profile);
    } finally {
      session.disconnect();
      this.busy = false;
    }
  }

  /** A heap snapshot as a stream (the process pauses while V8 walks the heap). */
  heapSnapshot(): Readable {
    return getHeapSnapshot();
  }

  /** What keeps the event loop alive right now (timers, sockets, servers…), counted by type. */
  activeResources(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
    return counts;
  }
}
