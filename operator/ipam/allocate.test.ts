import { allocate, RangeExhaustedError, release } from './allocate';
import { ipPoolName, parseIpamConfig, parseRange } from './ipam-config';

describe('allocate (upstream IPAM cases, §8.2)', () => {
  const range = parseRange({
    range: '10.100.123.0/24',
    range_start: '10.100.123.1',
    range_end: '10.100.123.254',
  });

  it('hands out the lowest free address, idempotently per id, and reuses released ones', () => {
    const a = allocate({}, 'default/vm', range);
    expect([a.ip, a.mask, a.prefix]).toEqual(['10.100.123.1', '255.255.255.0', 24]);
    expect(a.allocations).toEqual({ '1': { id: 'default/vm' } });
    const again = allocate(a.allocations, 'default/vm', range);
    expect(again).toMatchObject({ ip: '10.100.123.1', changed: false });
    const b = allocate(a.allocations, 'default/vm2', range);
    expect(b.ip).toBe('10.100.123.2');
    const r = release(b.allocations, 'default/vm2', range);
    expect(r.ip).toBe('10.100.123.2');
    const c = allocate(r.allocations, 'default/vm3', range);
    expect(c.ip).toBe('10.100.123.2');
  });

  it('releasing twice returns no address and is not an error', () => {
    const a = allocate({}, 'default/vm', range);
    const r1 = release(a.allocations, 'default/vm', range);
    const r2 = release(r1.allocations, 'default/vm', range);
    expect(r1.ip).toBe('10.100.123.1');
    expect(r2.ip).toBeUndefined();
    expect(r2.allocations).toEqual({});
  });

  it('keys allocations by VM and records its UID: a lost status write gets the same address back, a release frees only what that VM holds', () => {
    const a = allocate({}, 'default/vm', range, 'uid-1');
    expect(a.allocations).toEqual({ '1': { id: 'default/vm', podref: 'uid-1' } });
    // The status write after the allocation was lost: acquiring again is a no-op.
    expect(allocate(a.allocations, 'default/vm', range, 'uid-1')).toMatchObject({
      ip: '10.100.123.1',
      changed: false,
    });
    // The VM was deleted and re-created under the same name before the old one's release: the new one
    // takes the address over, and the old VM's late release leaves it alone.
    const b = allocate(a.allocations, 'default/vm', range, 'uid-2');
    expect(b).toMatchObject({ ip: '10.100.123.1', changed: true });
    expect(release(b.allocations, 'default/vm', range, 'uid-1').ip).toBeUndefined();
    expect(release(b.allocations, 'default/vm', range, 'uid-2').ip).toBe('10.100.123.1');
    // Allocations from before UIDs were recorded (upstream's) are released by name.
    expect(release({ '1': { id: 'default/vm' } }, 'default/vm', range, 'uid-3').ip).toBe('10.100.123.1');
  });

  it('skips the network address, the broadcast address and excluded subnets', () => {
    const small = parseRange({ range: '10.0.0.0/29', exclude: ['10.0.0.1/32', '10.0.0.4/31'] });
    let allocs = {};
    const ips: string[] = [];
    for (const id of ['a', 'b', 'c']) {
      const r = allocate(allocs, id, small);
      ips.push(r.ip);
      allocs = r.allocations;
    }
    expect(ips).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.6']);
    expect(() => allocate(allocs, 'd', small)).toThrow(RangeExhaustedError);
  });

  it('starts at range_start inside a larger range (shipped config)', () => {
    const shipped = parseRange({ range: '10.100.0.0/16', range_start: '10.100.128.0' });
    expect(allocate({}, 'default/vm', shipped)).toMatchObject({
      ip: '10.100.128.0',
      mask: '255.255.0.0',
      allocations: { '32768': { id: 'default/vm' } },
    });
  });
});

describe('IPAM config', () => {
  it('reads legacy and ipRanges fields and names the pool like whereabouts', () => {
    const cfg = parseIpamConfig(
      JSON.stringify({
        ipam: {
          range: '10.100.0.0/16',
          range_start: '10.100.128.0',
          network_name: 'neonvm',
          ipRanges: [{ range: '10.200.0.0/24' }],
        },
      }),
    );
    expect(cfg.ranges.map((r) => r.range)).toEqual(['10.100.0.0/16', '10.200.0.0/24']);
    expect(ipPoolName(cfg.networkName, cfg.ranges[0].range)).toBe('neonvm-10.100.0.0-16');
    expect(ipPoolName(undefined, '10.200.0.0/24')).toBe('10.200.0.0-24');
  });

  it('rejects a range_start outside the range', () => {
    expect(() => parseRange({ range: '10.0.0.0/24', range_start: '10.0.1.1' })).toThrow(
      'range_start 10.0.1.1 is not in 10.0.0.0/24',
    );
    expect(() => parseIpamConfig('{"ipam":{}}')).toThrow('no range');
  });
});
