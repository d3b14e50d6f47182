/**
 * What a runner pod says about its VM (upstream §3.6): pending, running, succeeded or failed. A pod
 * whose deletion is overdue (dead node) counts as failed. A migration target is "running" as soon as
 * its container runs (its QEMU waits for the stream, so it is not Ready yet).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { RUNNER_CONTAINER_NAME } from '../../crds';

export type RunnerPodPhase = 'pending' | 'running' | 'succeeded' | 'failed';

/** Deletion older than this means the kubelet is gone. */
export const STUCK_DELETION_MS = 5_000;

export function isMigrationTargetPod(pod: V1Pod): boolean {
  return (pod.metadata?.ownerReferences ?? []).some(
    (r) => r.kind === 'VirtualMachineMigration' && r.controller === true,
  );
}

export function runnerPodPhase(pod: V1Pod, now: number): RunnerPodPhase {
  const deletion = pod.metadata?.deletionTimestamp;
  if (deletion && now - new Date(deletion).getTime() > STUCK_DELETION_MS) return 'failed';
  switch (pod.status?.phase) {
    case 'Succeeded':
      return 'succeeded';
    case 'Failed':
      return 'failed';
    case 'Running': {
      const statuses = pod.status?.containerStatuses ?? [];
      if (statuses.length === 0) return 'pending';
      if (isMigrationTargetPod(pod)) return 'running';
      return statuses.some((s) => s.name === RUNNER_CONTAINER_NAME && s.ready) ? 'running' : 'pending';
    }
    default:
      return 'pending';
  }
}

/** Human summary of why a pod ended, for conditions and events. */
export function podTerminationMessage(pod: V1Pod): string {
  const state = pod.status?.containerStatuses?.find((s) => s.name === RUNNER_CONTAINER_NAME)?.state
    ?.terminated;
  if (!state) return pod.status?.message ?? pod.status?.reason ?? '';
  return `exit code ${state.exitCode}${state.reason ? ` (${state.reason})` : ''}`;
}
