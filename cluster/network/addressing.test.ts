import {
  clusterAddressing,
  HostNumberAllocator,
  nodeAddress,
  ownedByCluster,
  podAddress,
  podLinkNames,
} from './addressing';

describe('cluster addressing', () => {
  const a = clusterAddressing(0);

  it('puts slot 0 on 10.244.0.0/16 with node i at 10.244.i.1', () => {
    expect(a).toMatchObject({ bridge: 'nvm0br', bridgeCidr: '10.244.0.1/16', gateway: '10.244.0.1' });
    expect(nodeAddress(a, 3)).toBe('10.244.3.1');
    expect(podAddress(a, 3, 7)).toBe('10.244.3.7');
    expect(nodeAddress(clusterAddressing(2), 1)).toBe('10.246.1.1');
  });

  it('keeps link names within 15 characters and recognisable', () => {
    const names = podLinkNames(clusterAddressing(9), '0f3c9a2e-1111-2222');
    expect(names.hostVeth).toBe('nvm9h0f3c9a2e');
    for (const n of Object.values(names)) {
      expect(n.length).toBeLessThanOrEqual(15);
      expect(ownedByCluster(clusterAddressing(9), n)).toBe(true);
      expect(ownedByCluster(clusterAddressing(1), n)).toBe(false);
    }
  });

  it('rejects slots and nodes out of range', () => {
    expect(() => clusterAddressing(10)).toThrow();
    expect(() => nodeAddress(a, 0)).toThrow();
  });
});

describe('HostNumberAllocator', () => {
  it('is idempotent per key and never hands out the number just released', () => {
    const alloc = new HostNumberAllocator();
    expect(alloc.allocate('a')).toBe(2);
    expect(alloc.allocate('b')).toBe(3);
    expect(alloc.allocate('a')).toBe(2);
    // A killed migration target's address goes to the next pod only after every other one was used:
    // its peers' neighbour caches still point at the dead pod's MAC.
    alloc.release('b');
    expect(alloc.allocate('c')).toBe(4);
  });

  it('wraps around after .254, skipping numbers in use, and fails only when all 253 are taken', () => {
    const alloc = new HostNumberAllocator();
    for (let n = 2; n <= 254; n++) expect(alloc.allocate(`p${n}`)).toBe(n);
    expect(() => alloc.allocate('full')).toThrow('no free pod address');
    alloc.release('p100');
    alloc.release('p3');
    expect(alloc.allocate('q')).toBe(3);
    expect(alloc.allocate('r')).toBe(100);
    alloc.release('p2');
    expect(alloc.allocate('s')).toBe(2);
  });
});
