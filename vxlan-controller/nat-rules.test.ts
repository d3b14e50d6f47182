import { parseNatRules, planNatRemoval, planNatRules } from './nat-rules';

const cmd = (plan: string[][]) => plan.map((a) => a.join(' '));

describe('NEON-EXTRANET', () => {
  it('creates upstream chain and jump from nothing', () => {
    const observed = parseNatRules(
      '-P PREROUTING ACCEPT\n-P POSTROUTING ACCEPT\n-A POSTROUTING -j MASQUERADE\n',
    );
    expect(cmd(planNatRules('10.100.0.0/16', observed))).toEqual([
      '-N NEON-EXTRANET',
      '-I POSTROUTING 1 -d 10.100.0.0/16 -j NEON-EXTRANET',
      '-A NEON-EXTRANET -s 10.100.0.0/16 -j ACCEPT',
      '-A NEON-EXTRANET -d 10.100.0.0/16 -j ACCEPT',
    ]);
  });

  it('does nothing when in place, and replaces the rules of another range', () => {
    const inPlace = [
      '-P POSTROUTING ACCEPT',
      '-N NEON-EXTRANET',
      '-A POSTROUTING -d 10.100.0.0/16 -j NEON-EXTRANET',
      '-A POSTROUTING -j MASQUERADE',
      '-A NEON-EXTRANET -s 10.100.0.0/16 -j ACCEPT',
      '-A NEON-EXTRANET -d 10.100.0.0/16 -j ACCEPT',
    ].join('\n');
    expect(planNatRules('10.100.0.0/16', parseNatRules(inPlace))).toEqual([]);
    expect(cmd(planNatRules('10.101.0.0/16', parseNatRules(inPlace)))).toEqual([
      '-D POSTROUTING -d 10.100.0.0/16 -j NEON-EXTRANET',
      '-I POSTROUTING 1 -d 10.101.0.0/16 -j NEON-EXTRANET',
      '-F NEON-EXTRANET',
      '-A NEON-EXTRANET -s 10.101.0.0/16 -j ACCEPT',
      '-A NEON-EXTRANET -d 10.101.0.0/16 -j ACCEPT',
    ]);
    expect(cmd(planNatRemoval(parseNatRules(inPlace)))).toEqual([
      '-D POSTROUTING -d 10.100.0.0/16 -j NEON-EXTRANET',
      '-F NEON-EXTRANET',
      '-X NEON-EXTRANET',
    ]);
    expect(planNatRemoval(parseNatRules(''))).toEqual([]);
  });
});
