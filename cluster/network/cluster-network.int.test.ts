import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { acquireSlot, ClusterNetwork, listOwnedNetworkObjects } from '.';

const SLOT_DIR = process.env.NEONVM_NET_SLOT_DIR ?? '/run/neonvm-net';

describe('ClusterNetwork', () => {
  it('removes the leftovers of a crashed run that used the same slot', async () => {
    // Play a crashed run: claim the slot, let its owner "die" (a PID that no longer exists), and leave
    // a namespace and a veth pair behind.
    const lease = acquireSlot();
    const slot = lease.slot;
    const deadPid = spawnSync('true').pid!;
    writeFileSync(join(SLOT_DIR, `slot-${slot}.pid`), `${deadPid}\n`);
    execFileSync('ip', ['netns', 'add', `nvm${slot}-stale`]);
    execFileSync('ip', [
      'link',
      'add',
      `nvm${slot}hstale`,
      'type',
      'veth',
      'peer',
      'name',
      `nvm${slot}hstal2`,
    ]);
    expect(listOwnedNetworkObjects(slot)).toEqual(
      expect.arrayContaining([`nvm${slot}-stale`, `nvm${slot}hstale`, `nvm${slot}hstal2`]),
    );

    const network = await ClusterNetwork.create();
    try {
      expect(network.addressing.slot).toBe(slot);
      expect(listOwnedNetworkObjects(slot)).toEqual([`nvm${slot}br`]);
    } finally {
      await network.destroy();
    }
    expect(listOwnedNetworkObjects(slot)).toEqual([]);
  });

  it('gives each pod its own namespace and address, reachable from the host', async () => {
    const network = await ClusterNetwork.create();
    try {
      const node = await network.addNode(1);
      const a = await network.createSandbox('pod-a', 1);
      const b = await network.createSandbox('pod-b', 1);
      expect(node).toBe(`10.${244 + network.addressing.slot}.1.1`);
      expect(a.ip).not.toBe(b.ip);
      expect(a.netns).not.toBe(b.netns);
      const route = execFileSync('ip', ['-n', a.netns, 'route', 'show', 'default']).toString();
      expect(route).toContain(`via ${network.addressing.gateway}`);
      await network.deleteSandbox('pod-a');
      expect(listOwnedNetworkObjects(network.addressing.slot)).not.toContain(a.netns);
    } finally {
      await network.destroy();
    }
  });
});
