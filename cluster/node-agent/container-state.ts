/** What the agent knows about one container, independent of the Kubernetes API types. */
export type ContainerState =
  | { kind: 'waiting'; reason: string; message?: string }
  | { kind: 'running'; startedAt: Date }
  | {
      kind: 'terminated';
      exitCode: number;
      signal?: number;
      reason: string;
      message?: string;
      startedAt?: Date;
      finishedAt: Date;
    };

export interface ContainerRecord {
  name: string;
  image: string;
  state: ContainerState;
  lastState?: Extract<ContainerState, { kind: 'terminated' }>;
  restartCount: number;
  /** Readiness probe result (true when running without a readiness probe). */
  ready: boolean;
  /** Startup probe passed (true when running without a startup probe). */
  started: boolean;
}

/** Exit code the way the kubelet reports a process killed by a signal: 128 + signal number. */
export function exitCodeOf(code: number | null, signalNumber: number | undefined): number {
  if (code !== null) return code;
  return 128 + (signalNumber ?? 0);
}

/** Terminated reason for a process exit: Completed for 0, Error otherwise (as the kubelet reports). */
export function terminatedReason(exitCode: number): string {
  return exitCode === 0 ? 'Completed' : 'Error';
}
