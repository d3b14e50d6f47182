import type { ObservedLink } from './links';
import { parseNatRules, type NatRules } from './nat-rules';
import type { NetworkTools } from './network-tools';
import { changed, reconcileOverlay, removeOverlay } from './reconcile';
import type { OverlaySettings } from './settings';

/** The node's links, flood list and nat rules as plain data, changed by the commands it is sent. */
class MemoryNode implements NetworkTools {
  readonly commands: string[] = [];
  readonly flood = new Set<string>();
  private readonly state: ObservedLink[] = [];
  private rules: NatRules = parseNatRules('');

  async links() {
    return this.state.map((l) => ({ ...l }));
  }
  async floodPeers() {
    return [...this.flood];
  }
  async natRules() {
    return this.rules;
  }
  async ip(a: readonly string[]) {
    this.commands.push(`ip ${a.join(' ')}`);
    const [, verb, name] = a;
    const i = this.state.findIndex((l) => l.name === name);
    if (verb === 'add' && a[4] === 'bridge') this.state.push({ name, kind: 'bridge', up: false });
    else if (verb === 'add')
      this.state.push({
        name,
        kind: 'vxlan',
        up: false,
        vxlan: { id: Number(a[6]), local: a[8], port: Number(a[10]) },
      });
    else if (verb === 'del') this.state.splice(i, 1);
    else if (a[3] === 'up') this.state[i] = { ...this.state[i], up: true };
    else if (a[3] === 'master') this.state[i] = { ...this.state[i], master: a[4] };
  }
  async bridge(a: readonly string[]) {
    this.commands.push(`bridge ${a.join(' ')}`);
    if (a[1] === 'append') this.flood.add(a[6]);
    else this.flood.delete(a[6]);
  }
  async nat(a: readonly string[]) {
    this.commands.push(`iptables -t nat ${a.join(' ')}`);
    const n = this.rules;
    if (a[0] === '-N') this.rules = { ...n, chainExists: true };
    else if (a[0] === '-I') this.rules = { ...n, jumps: [...n.jumps, a.slice(3)] };
    else if (a[0] === '-A') this.rules = { ...n, chainRules: [...n.chainRules, a.slice(2)] };
    else if (a[0] === '-D') this.rules = { ...n, jumps: [] };
    else if (a[0] === '-F') this.rules = { ...n, chainRules: [] };
    else if (a[0] === '-X') this.rules = parseNatRules('');
  }
}

const s: OverlaySettings = {
  bridge: 'neon-br0',
  vxlan: 'neon-vxlan0',
  vni: 100,
  port: 4789,
  localIp: '10.244.1.1',
  overlayCidr: '10.100.0.0/16',
};

describe('reconcileOverlay', () => {
  it('builds the node from nothing, then runs no command while nothing changes, then follows the peers', async () => {
    const node = new MemoryNode();
    const first = await reconcileOverlay(s, ['10.244.2.1', '10.244.3.1'], node);
    expect(changed(first)).toBe(true);
    expect(node.commands).toHaveLength(5 + 2 + 4);
    node.commands.length = 0;
    expect(changed(await reconcileOverlay(s, ['10.244.2.1', '10.244.3.1'], node))).toBe(false);
    expect(node.commands).toEqual([]);
    await reconcileOverlay(s, ['10.244.2.1'], node);
    expect(node.commands).toEqual(['bridge fdb del 00:00:00:00:00:00 dev neon-vxlan0 dst 10.244.3.1']);
    expect([...node.flood]).toEqual(['10.244.2.1']);
  });

  it('tears everything down with --delete', async () => {
    const node = new MemoryNode();
    await reconcileOverlay(s, ['10.244.2.1'], node);
    node.commands.length = 0;
    await removeOverlay(s, node);
    expect(node.commands).toEqual([
      'ip link del neon-vxlan0',
      'ip link del neon-br0',
      'iptables -t nat -D POSTROUTING -d 10.100.0.0/16 -j NEON-EXTRANET',
      'iptables -t nat -F NEON-EXTRANET',
      'iptables -t nat -X NEON-EXTRANET',
    ]);
  });
});
