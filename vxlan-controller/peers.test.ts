import { peerAddresses } from './peers';

const node = (name: string, ...addresses: Array<[string, string]>) => ({
  metadata: { name },
  status: { addresses: addresses.map(([type, address]) => ({ type, address })) },
});

describe('peerAddresses', () => {
  it("is every other node's IPv4 InternalIP, sorted numerically, without duplicates", () => {
    const nodes = [
      node('n10', ['InternalIP', '10.244.10.1'], ['Hostname', 'n10']),
      node('n2', ['InternalIP', '10.244.2.1'], ['InternalIP', 'fd00::2'], ['ExternalIP', '192.0.2.2']),
      node('self', ['InternalIP', '10.244.1.1']),
      node('twin', ['InternalIP', '10.244.2.1']),
      node('new'),
    ];
    expect(peerAddresses(nodes, { localIp: '10.244.1.1' })).toEqual(['10.244.2.1', '10.244.10.1']);
    // By name too: a node that lists another address of ours.
    expect(peerAddresses(nodes, { localIp: '10.9.9.9', nodeName: 'self' })).toEqual([
      '10.244.2.1',
      '10.244.10.1',
    ]);
  });
});
