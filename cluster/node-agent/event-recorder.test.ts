import { podEvent } from './event-recorder';

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
