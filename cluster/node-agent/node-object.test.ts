import { nodeObject } from './node-object';

describe('nodeObject', () => {
  const node = nodeObject(
    {
      name: 'neonvm-node-2',
      internalIP: '10.244.2.1',
      kubeletPort: 10250,
      capacity: { cpu: '4', memory: '8Gi', pods: '50' },
    },
    new Date('2026-11-27T10:00:00Z'),
  );

  it('carries the well-known labels', () => {
    expect(node.metadata!.labels).toMatchObject({
      'kubernetes.io/hostname': 'neonvm-node-2',
      'kubernetes.io/arch': 'amd64',
      'kubernetes.io/os': 'linux',
    });
  });

  it('advertises the kubelet endpoint at the InternalIP, capacity and Ready', () => {
    const status = node.status!;
    expect(status.addresses).toContainEqual({ type: 'InternalIP', address: '10.244.2.1' });
    expect(status.daemonEndpoints!.kubeletEndpoint!.Port).toBe(10250);
    expect(status.allocatable).toEqual({ cpu: '4', memory: '8Gi', pods: '50' });
    expect(status.conditions!.find((c) => c.type === 'Ready')!.status).toBe('True');
  });
});
