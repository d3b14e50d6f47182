import type { CoreV1Api } from '@kubernetes/client-node';
import { FakeClock } from '../../host';
import { EventRecorder, MAX_EVENT_DEFER_MS, podEvent, REPEAT_WINDOW_MS } from './event-recorder';

describe('podEvent', () => {
  it('points at the container of the pod and names the kubelet as source', () => {
    const event = podEvent(
      { metadata: { name: 'web', namespace: 'apps', uid: 'u1' } },
      'neonvm-node-1',
      'Warning',
      'BackOff',
      'Back-off restarting failed container main',
      'main',
      new Date('2026-11-27T10:00:00Z'),
    );
    expect(event).toMatchObject({
      metadata: { generateName: 'web.', namespace: 'apps' },
      involvedObject: { kind: 'Pod', name: 'web', uid: 'u1', fieldPath: 'spec.containers{main}' },
      type: 'Warning',
      reason: 'BackOff',
      source: { component: 'kubelet', host: 'neonvm-node-1' },
      count: 1,
    });
  });
});

describe('EventRecorder', () => {
  it('posts a repeated event once per window, on its clock', async () => {
    const clock = new FakeClock();
    const posted: Array<{ namespace: string; body: { reason?: string; firstTimestamp?: Date } }> = [];
    const core = {
      createNamespacedEvent: (req: (typeof posted)[number]) => (posted.push(req), Promise.resolve({})),
    } as unknown as CoreV1Api;
    const recorder = new EventRecorder(core, 'neonvm-node-1', clock);
    const pod = { metadata: { name: 'web', namespace: 'apps', uid: 'u1' } };
    recorder.record(pod, 'Warning', 'BackOff', 'Back-off restarting failed container main', 'main');
    recorder.record(pod, 'Warning', 'BackOff', 'Back-off restarting failed container main', 'main');
    expect(posted).toHaveLength(1);
    expect(posted[0].body.firstTimestamp).toEqual(new Date(clock.now()));
    clock.advance(REPEAT_WINDOW_MS + 1);
    recorder.record(pod, 'Warning', 'BackOff', 'Back-off restarting failed container main', 'main');
    await new Promise(setImmediate);
    expect(posted).toHaveLength(2);
  });

  it('posts one event at a time, in the order recorded', async () => {
    const calls: Array<{ reason?: string; done: () => void }> = [];
    const core = {
      createNamespacedEvent: (req: { body: { reason?: string } }) =>
        new Promise<void>((done) => calls.push({ reason: req.body.reason, done })),
    } as unknown as CoreV1Api;
    const recorder = new EventRecorder(core, 'neonvm-node-1', new FakeClock());
    const pod = { metadata: { name: 'web', namespace: 'apps', uid: 'u1' } };
    for (const reason of ['Pulled', 'Created', 'Started'])
      recorder.record(pod, 'Normal', reason, reason, 'main');
    expect(calls.map((c) => c.reason)).toEqual(['Pulled']);
    calls[0].done();
    await new Promise(setImmediate);
    expect(calls.map((c) => c.reason)).toEqual(['Pulled', 'Created']);
    calls[1].done();
    await new Promise(setImmediate);
    expect(calls.map((c) => c.reason)).toEqual(['Pulled', 'Created', 'Started']);
  });

  it('holds events back while a pod starts, at most MAX_EVENT_DEFER_MS', async () => {
    const clock = new FakeClock();
    const posted: string[] = [];
    const core = {
      createNamespacedEvent: (req: { body: { reason?: string } }) => (
        posted.push(req.body.reason ?? ''),
        Promise.resolve({})
      ),
    } as unknown as CoreV1Api;
    const recorder = new EventRecorder(core, 'neonvm-node-1', clock);
    const pod = { metadata: { name: 'web', namespace: 'apps', uid: 'u1' } };
    const releaseA = recorder.holdWhileStarting();
    const releaseB = recorder.holdWhileStarting();
    recorder.record(pod, 'Normal', 'Pulled', 'Pulled', 'main');
    recorder.record(pod, 'Normal', 'Started', 'Started', 'main');
    await new Promise(setImmediate);
    expect(posted).toEqual([]);
    releaseA();
    releaseA(); // idempotent: B still holds
    await new Promise(setImmediate);
    expect(posted).toEqual([]);
    releaseB();
    await new Promise(setImmediate);
    expect(posted).toEqual(['Pulled', 'Started']);

    // A hold that is never released delays an event by MAX_EVENT_DEFER_MS, not forever.
    recorder.holdWhileStarting();
    recorder.record(pod, 'Warning', 'BackOff', 'Back-off', 'main');
    clock.advance(MAX_EVENT_DEFER_MS - 1);
    await new Promise(setImmediate);
    expect(posted).toEqual(['Pulled', 'Started']);
    clock.advance(1);
    await new Promise(setImmediate);
    expect(posted).toEqual(['Pulled', 'Started', 'BackOff']);
  });
});
