/**
 * Last-resort teardown. Everything the harness creates outside its own process (child process groups,
 * temp directories, network namespaces, links) registers a synchronous undo here. Normal shutdown runs
 * and unregisters them itself; this registry covers the paths where that never happens: an uncaught
 * error, process.exit() from a test runner, SIGINT/SIGTERM. Handlers must be synchronous because the
 * 'exit' event does not wait for promises.
 */
type Undo = () => void;

const pending = new Map<number, { label: string; undo: Undo }>();
let nextId = 1;
let installed = false;

function runAll(): void {
  // Newest first: things are undone in the reverse order of their creation (processes before the
  // directories and namespaces they live in).
  const entries = [...pending.entries()].reverse();
  pending.clear();
  for (const [, { label, undo }] of entries) {
    try {
      undo();
    } catch (err) {
      process.stderr.write(`neonvm cleanup "${label}" failed: ${(err as Error).message}\n`);
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  runAll();
  // Re-raise with the default disposition so the exit status still says "killed by <signal>".
  process.removeListener('SIGINT', onSignal);
  process.removeListener('SIGTERM', onSignal);
  process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** Registers `undo` to run if the process dies before the returned function is called. */
export function registerEmergencyCleanup(label: string, undo: Undo): () => void {
  install();
  const id = nextId++;
  pending.set(id, { label, undo });
  return () => {
    pending.delete(id);
  };
}

/** Runs every registered cleanup now (used by tests of the registry and by fatal error paths). */
export function runEmergencyCleanups(): void {
  runAll();
}
