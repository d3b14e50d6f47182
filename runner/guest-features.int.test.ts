/**
 * Upstream's guest features that must have an effect, on real QEMU through the runner process:
 * `emptyDisk.enableQuotas` (set-disk-quota, writing past the quota fails), `disks[].readOnly` (the
 * guest cannot write), `settings.swap` resized live through the runner API (`PUT /swap`), the
 * guest's host metrics on :9100 under the names upstream's autoscaler-agent scrapes, and scp/sftp
 * into the guest with the runner's ssh_config (what `ssh guest-vm` in a runner pod uses).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollUntil } from '../host';
import { RunnerHarness, sshGuest, type TestRunner } from './testing/runner-harness';

jest.setTimeout(600_000);

const h = new RunnerHarness();
const MiB = 1024 * 1024;
const IP = '127.0.20.7';
let r: TestRunner;
let work: string;

/** Runs an OpenSSH client tool (scp, sftp) with the runner's ssh_config. */
function sshTool(tool: 'scp' | 'sftp', args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(tool, ['-F', join(r.root, 'r', 'ssh_config'), '-o', 'BatchMode=yes', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

async function inGuest(command: string): Promise<string> {
  const res = await sshGuest(r, command, 60_000);
  if (res.code !== 0) throw new Error(`guest: ${command}: exit ${res.code}: ${res.stdout}${res.stderr}`);
  return res.stdout;
}

/** SwapTotal in KiB as the guest kernel reports it. */
async function guestSwapKiB(): Promise<number> {
  return Number(/SwapTotal:\s+(\d+)/.exec(await inGuest('cat /proc/meminfo'))?.[1]);
}

beforeAll(async () => {
  await h.init();
  work = mkdtempSync(join(tmpdir(), 'neonvm-guest-features-'));
  const key = await h.keyPair();
  r = h.start({
    name: 'features-abcde',
    ip: IP,
    spec: {
      guest: {
        rootDisk: { image: 'builtin' },
        cpus: { min: 1, max: 1, use: 1 },
        memorySlotSize: '256Mi',
        memorySlots: { min: 1, max: 1, use: 1 },
        settings: { swap: '128Mi' },
        ports: [{ name: 'host-metrics', port: 9100 }],
      },
      disks: [
        { name: 'data', mountPath: '/data', emptyDisk: { size: '64Mi', enableQuotas: true } },
        { name: 'frozen', mountPath: '/frozen', readOnly: true, emptyDisk: { size: '16Mi' } },
      ],
    },
    podFiles: { 'vm/ssh/authorized_keys': key.publicKey, 'mnt/ssh/id_ed25519': key.privateKey },
  });
  await h.waitReady(r);
});

afterAll(async () => {
  await h.stopAll();
  rmSync(work, { recursive: true, force: true });
});

describe('emptyDisk.enableQuotas', () => {
  it('mounts with project quotas; past set-disk-quota a write fails, below it succeeds', async () => {
    expect(await inGuest('cat /proc/mounts')).toMatch(/ \/data ext4 [^ ]*prjquota/);
    const asNobody = (cmd: string) => `su -s /neonvm/bin/sh nobody -c '${cmd}'`;
    // Without a limit, an unprivileged writer fills 4 MiB (root is exempt from quotas by design).
    await inGuest(
      asNobody('dd if=/dev/zero of=/data/before bs=1024 count=4096 2>&1') + ' && rm /data/before',
    );
    await inGuest('/neonvm/bin/set-disk-quota 2048 /data');
    expect(await inGuest('repquota -P /data')).toMatch(/^#0 .* 2048 /m);
    await inGuest(asNobody('dd if=/dev/zero of=/data/small bs=1024 count=1024 2>&1'));
    const over = await sshGuest(r, asNobody('dd if=/dev/zero of=/data/big bs=1024 count=4096 2>&1'), 60_000);
    expect(over.code).not.toBe(0);
    expect(over.stdout + over.stderr).toMatch(/Disk quota exceeded/);
  });
});

describe('disks[].readOnly', () => {
  it('is a read-only device and a read-only mount in the guest', async () => {
    const mounts = await inGuest('cat /proc/mounts');
    expect(mounts).toMatch(/ \/frozen ext4 ro[, ]/);
    const dev = /^(\/dev\/\S+) \/frozen /m.exec(mounts)?.[1];
    expect(dev).toBeDefined();
    expect((await inGuest(`blockdev --getro ${dev}`)).trim()).toBe('1');
    const write = await sshGuest(r, 'touch /frozen/x 2>&1');
    expect(write.code).not.toBe(0);
    expect(write.stdout + write.stderr).toMatch(/Read-only file system/);
  });
});

describe('settings.swap', () => {
  it('is resized live through the runner API, within the swap disk', async () => {
    // mkswap keeps one page for its header.
    expect(await guestSwapKiB()).toBe(128 * 1024 - 4);
    const down = await r.client.setSwap(32 * MiB);
    expect(down).toMatchObject({ diskBytes: 128 * MiB, requestedBytes: 32 * MiB });
    expect(await guestSwapKiB()).toBe(32 * 1024 - 4);
    expect(down.guestBytes).toBe((32 * 1024 - 4) * 1024);
    await r.client.setSwap(96 * MiB);
    expect(await guestSwapKiB()).toBe(96 * 1024 - 4);
    await expect(r.client.setSwap(256 * MiB)).rejects.toMatchObject({ status: 400 });
    expect(await guestSwapKiB()).toBe(96 * 1024 - 4);
  });

  it('ships upstream resize-swap helper in the guest', async () => {
    await inGuest('/neonvm/bin/resize-swap 67108864');
    expect(await guestSwapKiB()).toBe(64 * 1024 - 4);
  });
});

describe('host metrics (upstream: vector on :9100)', () => {
  it('serves the gauges the autoscaler-agent reads, one series each', async () => {
    const text = await pollUntil(
      async () => {
        const res = await fetch(`http://${IP}:9100/metrics`).catch(() => undefined);
        return res?.ok ? res.text() : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, description: 'the guest metrics endpoint' },
    );
    for (const name of [
      'host_load1',
      'host_memory_total_bytes',
      'host_memory_available_bytes',
      'host_memory_cached_bytes',
    ]) {
      expect(text).toContain(`# TYPE ${name} gauge`);
      expect(text.split('\n').filter((l) => l.startsWith(`${name}{`))).toHaveLength(1);
    }
    const total = Number(/^host_memory_total_bytes\{[^}]*\} (\S+)$/m.exec(text)?.[1]);
    const memTotalKiB = Number(/MemTotal:\s+(\d+)/.exec(await inGuest('cat /proc/meminfo'))?.[1]);
    expect(total).toBe(memTotalKiB * 1024);
    expect(text).toMatch(/^host_cpu_seconds_total\{collector="cpu",cpu="0",host="[^"]+",mode="idle"\} /m);
  });
});

describe('scp and sftp into the guest', () => {
  it('copies a file in and out with scp (SFTP protocol) and lists it with sftp', async () => {
    const local = join(work, 'testfile');
    writeFileSync(local, `scp payload ${Date.now()}\n`);
    const put = await sshTool('scp', [local, 'guest-vm:/tmp/testfile']);
    expect(put).toMatchObject({ code: 0 });
    expect(await inGuest('cat /tmp/testfile')).toBe(readFileSync(local, 'utf8'));
    const back = join(work, 'back');
    expect(await sshTool('scp', ['guest-vm:/tmp/testfile', back])).toMatchObject({ code: 0 });
    expect(readFileSync(back, 'utf8')).toBe(readFileSync(local, 'utf8'));

    const batch = join(work, 'batch');
    writeFileSync(batch, `put ${local} /tmp/via-sftp\nls -l /tmp/via-sftp\n`);
    const sftp = await sshTool('sftp', ['-b', batch, 'guest-vm']);
    expect(sftp.code).toBe(0);
    expect(sftp.out).toMatch(/\/tmp\/via-sftp/);
    expect(await inGuest('cat /tmp/via-sftp')).toBe(readFileSync(local, 'utf8'));
  });
});
