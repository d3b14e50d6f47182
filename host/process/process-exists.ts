/**
 * Whether a process with this PID exists (signal 0 checks without signalling). EPERM means it exists
 * but belongs to another user. A zombie counts as existing until its parent reaps it.
 */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
