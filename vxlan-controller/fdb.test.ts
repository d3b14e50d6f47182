import { parseFloodPeers, planFlood } from './fdb';

describe('flood list', () => {
  it('adds new peers and removes peers gone (upstream only ever appended)', () => {
    const plan = planFlood('neon-vxlan0', ['10.244.2.1', '10.244.9.1'], ['10.244.2.1', '10.244.3.1']);
    expect(plan.map((a) => a.join(' '))).toEqual([
      'fdb append 00:00:00:00:00:00 dev neon-vxlan0 dst 10.244.3.1',
      'fdb del 00:00:00:00:00:00 dev neon-vxlan0 dst 10.244.9.1',
    ]);
    expect(planFlood('neon-vxlan0', ['10.244.2.1'], ['10.244.2.1'])).toEqual([]);
  });

  it('reads only the all-zeros entries from bridge -j fdb show (learned MACs are not ours)', () => {
    const json = JSON.stringify([
      { mac: 'fe:33:9a:56:58:d5', flags: [], master: 'neon-br0', state: '' },
      { mac: 'fe:33:9a:56:58:d5', dst: '10.250.0.12', flags: ['self'], state: '' },
      { mac: '00:00:00:00:00:00', dst: '10.250.0.12', flags: ['self'], state: 'permanent' },
    ]);
    expect(parseFloodPeers(json)).toEqual(['10.250.0.12']);
    expect(parseFloodPeers('')).toEqual([]);
  });
});
