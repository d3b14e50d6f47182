import type { ContainerRecord } from './container-state';
import { computePodStatus, podPhase, PodRuntimeView } from './pod-status';

const t0 = new Date('2026-11-27T10:00:00Z');
const running = (name: string, ready = true): ContainerRecord => ({
  name,
  image: 'img',
  state: { kind: 'running', startedAt: t0 },
  restartCount: 0,
  ready,
  started: true,
});
const waiting = (name: string, reason: string): ContainerRecord => ({
  name,
  image: 'img',
  state: { kind: 'waiting', reason },
  restartCount: 0,
  ready: false,
  started: false,
});
const exited = (name: string, exitCode: number, restartCount = 0): ContainerRecord => ({
  name,
  image: 'img',
  state: { kind: 'terminated', exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', finishedAt: t0 },
  restartCount,
  ready: false,
  started: false,
});
const view = (over: Partial<PodRuntimeView>): PodRuntimeView => ({
  restartPolicy: 'Always',
  initContainers: [],
  containers: [],
  sandboxReady: true,
  podIP: '10.244.1.2',
  hostIP: '10.244.1.1',
  startTime: t0,
  ...over,
});

describe('podPhase', () => {
  it('is Pending while an image cannot be pulled', () => {
    expect(podPhase(view({ containers: [waiting('a', 'ImagePullBackOff')] }))).toBe('Pending');
  });

  it('is Pending while init containers run', () => {
    expect(
      podPhase(view({ initContainers: [running('init')], containers: [waiting('a', 'PodInitializing')] })),
    ).toBe('Pending');
  });

  it('is Running while a crashed container waits for its restart', () => {
    const crashing: ContainerRecord = {
      ...waiting('a', 'CrashLoopBackOff'),
      restartCount: 2,
      lastState: { kind: 'terminated', exitCode: 1, reason: 'Error', finishedAt: t0 },
    };
    expect(podPhase(view({ containers: [crashing] }))).toBe('Running');
  });

  it.each([
    ['Never', [0, 0], 'Succeeded'],
    ['Never', [0, 3], 'Failed'],
    ['OnFailure', [0, 0], 'Succeeded'],
    ['OnFailure', [0, 3], 'Running'],
    ['Always', [0, 0], 'Running'],
  ] as const)('restartPolicy %s with exit codes %j is %s', (restartPolicy, codes, phase) => {
    expect(podPhase(view({ restartPolicy, containers: codes.map((c, i) => exited(`c${i}`, c)) }))).toBe(
      phase,
    );
  });

  it('is Failed when an init container fails and restartPolicy is Never', () => {
    expect(
      podPhase(
        view({
          restartPolicy: 'Never',
          initContainers: [exited('init', 1)],
          containers: [waiting('a', 'PodInitializing')],
        }),
      ),
    ).toBe('Failed');
  });
});

describe('computePodStatus', () => {
  const now = new Date('2026-11-27T10:01:00Z');
  const byType = (status: ReturnType<typeof computePodStatus>, type: string) =>
    status.conditions!.find((c) => c.type === type)!;

  it('is Ready only when every container is running and ready', () => {
    const notReady = computePodStatus(view({ containers: [running('a'), running('b', false)] }), now);
    expect(byType(notReady, 'Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady' });
    const ready = computePodStatus(view({ containers: [running('a'), running('b')] }), now);
    expect(byType(ready, 'Ready').status).toBe('True');
    expect(byType(ready, 'ContainersReady').status).toBe('True');
    expect(ready.containerStatuses!.map((c) => c.ready)).toEqual([true, true]);
  });

  it('keeps conditions it does not own and the transition time of unchanged ones', () => {
    const earlier = new Date('2026-11-27T09:00:00Z');
    const status = computePodStatus(
      view({
        containers: [running('a')],
        previousConditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: earlier },
          { type: 'Ready', status: 'True', lastTransitionTime: earlier },
        ],
      }),
      now,
    );
    expect(byType(status, 'PodScheduled').lastTransitionTime).toBe(earlier);
    expect(byType(status, 'Ready').lastTransitionTime).toBe(earlier);
    expect(byType(status, 'Initialized').lastTransitionTime).toBe(now);
  });

  it('reports restart count, waiting reason and the last termination', () => {
    const crashing: ContainerRecord = {
      ...waiting('a', 'CrashLoopBackOff'),
      restartCount: 3,
      lastState: { kind: 'terminated', exitCode: 2, reason: 'Error', finishedAt: t0 },
    };
    const [status] = computePodStatus(view({ containers: [crashing] }), now).containerStatuses!;
    expect(status).toMatchObject({
      restartCount: 3,
      state: { waiting: { reason: 'CrashLoopBackOff' } },
      lastState: { terminated: { exitCode: 2, reason: 'Error' } },
      ready: false,
    });
  });

  it('sets podIP and hostIP', () => {
    const status = computePodStatus(view({ containers: [running('a')] }), now);
    expect(status).toMatchObject({
      podIP: '10.244.1.2',
      podIPs: [{ ip: '10.244.1.2' }],
      hostIP: '10.244.1.1',
    });
  });
});
