/**
 * What a runner pod says about its VM (upstream §3.6): pending, running, succeeded or failed. A
 * migration target is "running" as soon as its container runs (its QEMU waits for the stream, so it is
 * not Ready yet).
 *
 * FIX: upstream counts a pod more than 5 s past its deletion timestamp as failed, so on a partitioned
 * node (kubelet cut off, QEMU still running) a second runner started next to the first (#794). Here a
 * terminating pod is what its status says until it is confirmed gone: its containers ended (the kubelet
 * reported it), the pod object was removed (by the kubelet, or force-deleted by an administrator or by
 * the pod garbage collector once the Node object is deleted).
 */
import type { V1Pod } from '@kubernetes/client-node';
import { RUNNER_CONTAINER_NAME } from '../../crds';

export type RunnerPodPhase = 'pending' | 'running' | 'succeeded' | 'failed';

export function isMigrationTargetPod(pod: V1Pod): boolean {
  return (pod.metadata?.ownerReferences ?? []).some(
    (r) => r.kind === 'VirtualMachineMigration' && r.controller === true,
  );
}

export function runnerPodPhase(pod: V1Pod): RunnerPodPhase {
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

/** The runner container runs, Ready or not (a source whose QEMU handed its guest over is not Ready). */
export function runnerContainerRunning(pod: V1Pod): boolean {
  return (
    pod.status?.phase === 'Running' &&
    (pod.status.containerStatuses ?? []).some((s) => s.name === RUNNER_CONTAINER_NAME && !!s.state?.running)
  );
}

/** The pod's containers have ended (the kubelet confirmed it): no runner or QEMU runs in it any more. */
export function runnerStopped(pod: V1Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** Human summary of why a pod ended, for conditions and events. */
export function podTerminationMessage(pod: V1Pod): string {
  const state = pod.status?.containerStatuses?.find((s) => s.name === RUNNER_CONTAINER_NAME)?.state
    ?.terminated;
  if (!state) return pod.status?.message ?? pod.status?.reason ?? '';
  return `exit code ${state.exitCode}${state.reason ? ` (${state.reason})` : ''}`;
}
