import { decideNetworkMode, netQueues, type NetworkFacts } from './network-mode';

const pod: NetworkFacts = {
  ownNetns: true,
  capNetAdmin: true,
  tun: { usable: true, created: false },
  missingTools: [],
};

describe('decideNetworkMode (golden)', () => {
  it.each<[string, Partial<NetworkFacts>, { mode: 'tap' | 'user'; reason: string }]>([
    ['a pod with everything', {}, { mode: 'tap', reason: 'own network namespace with CAP_NET_ADMIN' }],
    [
      'a pod whose /dev/net/tun the runner made',
      { tun: { usable: true, created: true } },
      { mode: 'tap', reason: 'own network namespace with CAP_NET_ADMIN (created /dev/net/tun)' },
    ],
    [
      'the host namespace',
      { ownNetns: false },
      { mode: 'user', reason: 'the runner shares the host network namespace' },
    ],
    ['no CAP_NET_ADMIN', { capNetAdmin: false }, { mode: 'user', reason: 'no CAP_NET_ADMIN' }],
    [
      'no tun device and no way to make one',
      { tun: { usable: false, reason: 'no /dev/net/tun, and no CAP_MKNOD to create it' } },
      { mode: 'user', reason: 'no /dev/net/tun, and no CAP_MKNOD to create it' },
    ],
    [
      'a tun device the cgroup denies',
      { tun: { usable: false, reason: '/dev/net/tun cannot be opened (EPERM)' } },
      { mode: 'user', reason: '/dev/net/tun cannot be opened (EPERM)' },
    ],
    ['missing tools', { missingTools: ['dnsmasq'] }, { mode: 'user', reason: 'missing tools: dnsmasq' }],
  ])('%s', (_name, facts, expected) => {
    expect(decideNetworkMode('auto', { ...pod, ...facts })).toEqual(expected);
  });

  it('an explicit -network-mode wins', () => {
    expect(decideNetworkMode('user', pod)).toEqual({ mode: 'user', reason: '-network-mode=user' });
    expect(decideNetworkMode('tap', { ...pod, capNetAdmin: false })).toEqual({
      mode: 'tap',
      reason: '-network-mode=tap',
    });
  });
});

describe('netQueues', () => {
  it('one queue pair per possible vCPU, at most 4', () => {
    expect([1, 2, 3, 4, 5, 64].map((max) => netQueues({ vcpus: { min: 1, max, use: 1 } }))).toEqual([
      1, 2, 3, 4, 4, 4,
    ]);
  });
});
