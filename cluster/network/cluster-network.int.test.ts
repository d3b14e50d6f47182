import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
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

  it('a pod made after one was killed is reachable at once from a peer that talked to the dead one', async () => {
    // A migration source streams to a target that is then killed, and a new target is made on the same
    // node: the source still has the dead pod's MAC in its neighbour cache. With the dead pod's address
    // handed out again, the new target was unreachable from the source for minutes (connect timed out).
    const network = await ClusterNetwork.create();
    const children: ChildProcess[] = [];
    const inPod = (netns: string, script: string): ChildProcess => {
      const child = spawn('ip', ['netns', 'exec', netns, process.execPath, '-e', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(child);
      return child;
    };
    const output = (child: ChildProcess): Promise<string> =>
      new Promise((resolve) => {
        let out = '';
        child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
        child.on('exit', () => resolve(out.trim()));
      });
    const listen = (netns: string) =>
      new Promise<ChildProcess>((resolve) => {
        const child = inPod(
          netns,
          "require('net').createServer((s) => s.resume()).listen(20187, () => console.log('up'))",
        );
        child.stdout?.once('data', () => resolve(child));
      });
    try {
      await network.addNode(1);
      await network.addNode(2);
      const source = await network.createSandbox('source', 1);
      const dead = await network.createSandbox('target-1', 2);
      const deadServer = await listen(dead.netns);
      // The source streams to the first target and keeps the connection (as QEMU does until it fails).
      const stream = inPod(
        source.netns,
        `const s = require('net').connect(20187, '${dead.ip}', () => { console.log('streaming'); setInterval(() => s.write(Buffer.alloc(65536)), 10); }); s.on('error', () => undefined);`,
      );
      await new Promise((resolve) => stream.stdout?.once('data', resolve));
      await new Promise((resolve) => setTimeout(resolve, 1000));
      deadServer.kill('SIGKILL');
      await network.deleteSandbox('target-1');
      const next = await network.createSandbox('target-2', 2);
      await listen(next.netns);
      const connect = inPod(
        source.netns,
        `const t = Date.now(); const s = require('net').connect(20187, '${next.ip}', () => { console.log('connected'); process.exit(0); }); s.setTimeout(10000, () => { console.log('timed out'); process.exit(1); }); s.on('error', (e) => { console.log(e.message); process.exit(1); });`,
      );
      expect(await output(connect)).toBe('connected');
    } finally {
      for (const child of children) child.kill('SIGKILL');
      await network.destroy();
    }
  }, 60_000);
});
