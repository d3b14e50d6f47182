import type {
  V1ContainerState,
  V1ContainerStatus,
  V1PodCondition,
  V1PodStatus,
} from '@kubernetes/client-node';
import type { ContainerRecord, ContainerState } from './container-state';

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

/** Everything pod status is computed from; the agent's view of one pod at one moment. */
export interface PodRuntimeView {
  restartPolicy: RestartPolicy;
  initContainers: readonly ContainerRecord[];
  containers: readonly ContainerRecord[];
  /** The pod sandbox (network namespace, volumes) exists. */
  sandboxReady: boolean;
  podIP?: string;
  hostIP: string;
  startTime: Date;
  /** Conditions already on the pod that the agent does not own (PodScheduled, readiness gates...). */
  previousConditions?: readonly V1PodCondition[];
}

const OWN_CONDITIONS = ['PodReadyToStartContainers', 'Initialized', 'ContainersReady', 'Ready'];

export function containerStateToApi(state: ContainerState): V1ContainerState {
  switch (state.kind) {
    case 'waiting':
      return { waiting: { reason: state.reason, message: state.message } };
    case 'running':
      return { running: { startedAt: state.startedAt } };
    case 'terminated':
      return {
        terminated: {
          exitCode: state.exitCode,
          signal: state.signal,
          reason: state.reason,
          message: state.message,
          startedAt: state.startedAt,
          finishedAt: state.finishedAt,
        },
      };
  }
}

function containerStatus(record: ContainerRecord): V1ContainerStatus {
  return {
    name: record.name,
    image: record.image,
    imageID: '',
    containerID:
      record.state.kind === 'waiting' ? undefined : `neonvm://${record.name}-${record.restartCount}`,
    state: containerStateToApi(record.state),
    lastState: record.lastState ? containerStateToApi(record.lastState) : {},
    ready: record.ready && record.state.kind === 'running',
    restartCount: record.restartCount,
    started: record.state.kind === 'running' && record.started,
  };
}

const succeeded = (c: ContainerRecord): boolean => c.state.kind === 'terminated' && c.state.exitCode === 0;
const failedForGood = (c: ContainerRecord, policy: RestartPolicy): boolean =>
  c.state.kind === 'terminated' && c.state.exitCode !== 0 && policy === 'Never';

/**
 * The pod phase by the rules of the Kubernetes API documentation:
 * Pending until every init container succeeded and some container has started; Succeeded/Failed once
 * every container terminated and none will be restarted; Running otherwise.
 */
export function podPhase(view: PodRuntimeView): 'Pending' | 'Running' | 'Succeeded' | 'Failed' {
  const initFailed = view.initContainers.some((c) => failedForGood(c, view.restartPolicy));
  if (initFailed) return 'Failed';
  if (!view.initContainers.every(succeeded)) return 'Pending';
  const { containers } = view;
  const everStarted = containers.some((c) => c.state.kind !== 'waiting' || c.restartCount > 0 || c.lastState);
  if (!everStarted) return 'Pending';
  const allTerminated = containers.every((c) => c.state.kind === 'terminated');
  if (allTerminated) {
    if (containers.every(succeeded)) return view.restartPolicy === 'Always' ? 'Running' : 'Succeeded';
    if (view.restartPolicy === 'Never') return 'Failed';
  }
  return 'Running';
}

function condition(
  type: string,
  ok: boolean,
  now: Date,
  previous: readonly V1PodCondition[],
  reason?: string,
): V1PodCondition {
  const status = ok ? 'True' : 'False';
  const before = previous.find((c) => c.type === type);
  // lastTransitionTime only moves when the status flips, as API consumers expect.
  const lastTransitionTime =
    before && before.status === status && before.lastTransitionTime ? before.lastTransitionTime : now;
  return { type, status, lastTransitionTime, ...(ok || !reason ? {} : { reason }) };
}

/** The full pod status the agent writes. Pure; `now` is passed in for deterministic tests. */
export function computePodStatus(view: PodRuntimeView, now: Date): V1PodStatus {
  const previous = view.previousConditions ?? [];
  const phase = podPhase(view);
  const initialized = view.initContainers.every(succeeded);
  const containersReady =
    initialized &&
    view.containers.length > 0 &&
    view.containers.every((c) => c.state.kind === 'running' && c.ready);
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const notReadyReason = terminal ? 'PodCompleted' : 'ContainersNotReady';

  const conditions: V1PodCondition[] = [
    ...previous.filter((c) => !OWN_CONDITIONS.includes(c.type)),
    condition('PodReadyToStartContainers', view.sandboxReady, now, previous),
    condition('Initialized', initialized, now, previous, 'ContainersNotInitialized'),
    condition('ContainersReady', containersReady && !terminal, now, previous, notReadyReason),
    condition('Ready', containersReady && !terminal, now, previous, notReadyReason),
  ];

  return {
    phase,
    conditions,
    hostIP: view.hostIP,
    hostIPs: [{ ip: view.hostIP }],
    podIP: view.podIP,
    podIPs: view.podIP ? [{ ip: view.podIP }] : [],
    startTime: view.startTime,
    initContainerStatuses: view.initContainers.map(containerStatus),
    containerStatuses: view.containers.map(containerStatus),
  };
}
