/**
 * The runner end to end with real QEMU (KVM when the probe says it works, else TCG): boot to guest
 * ready, workload env and mounts, SSH, console, CPU and memory scaling in both modes, file sync,
 * auth, live migration over TLS with the operator's per-VM certificates (and to a dead target, and
 * to a target holding another VM's certificate), SIGTERM and QEMU failure exit codes.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { QEMU_TLS_FILES, RunnerApiError, migrationTlsHostname } from './api';
import { createMigrationCa, issueMigrationCertificate } from '../operator/migration-tls';
import { consoleRoundTrip } from './testing/console';
import { RunnerHarness, sshGuest, type TestRunner } from './testing/runner-harness';
import { pollUntil } from '../host';

jest.setTimeout(600_000);

const h = new RunnerHarness();
const MiB = 1024 * 1024;

function spec(extra: Record<string, unknown> = {}, guest: Record<string, unknown> = {}) {
  return {
    guest: {
      rootDisk: { image: 'builtin' },
      cpus: { min: 1, max: 3, use: 1 },
      memorySlotSize: '256Mi',
      memorySlots: { min: 1, max: 3, use: 1 },
      command: ['/bin/sh', '-c'],
      args: ['echo "workload: FOO=$FOO BAR=$BAR"; exec sleep 1000000'],
      env: [
        { name: 'FOO', value: 'foo value' },
        { name: 'BAR', value: "it's" },
      ],
      ...guest,
    },
    ...extra,
  };
}

async function guestOnline(r: TestRunner): Promise<string> {
  const out = await sshGuest(r, 'cat /sys/devices/system/cpu/online');
  return out.stdout.trim();
}

async function guestMemTotalKiB(r: TestRunner): Promise<number> {
  const out = await sshGuest(r, 'grep MemTotal /proc/meminfo');
  return Number(/(\d+)/.exec(out.stdout)?.[1]);
}

beforeAll(() => h.init());
afterAll(() => h.stopAll());

/** A VM's migration TLS credentials as the operator mounts them, and the runner flags naming them. */
async function migrationTls(
  ca: Awaited<ReturnType<typeof createMigrationCa>>,
  vmUid: string,
): Promise<{ files: Record<string, string>; flags: string[] }> {
  const hostname = migrationTlsHostname(vmUid);
  const leaf = await issueMigrationCertificate(ca, hostname);
  const byKey = { 'ca.crt': ca.cert, 'tls.crt': leaf.cert, 'tls.key': leaf.key };
  const files = Object.fromEntries(
    QEMU_TLS_FILES.map(({ file, key }) => [`vm/migration-tls/${file}`, byKey[key]]),
  );
  return { files, flags: ['-migration-tls-dir=/vm/migration-tls', `-migration-tls-hostname=${hostname}`] };
}

/** The last JSON log line of a runner with this message. */
function logEntry(output: string, msg: string): Record<string, unknown> | undefined {
  const lines = output.split('\n').filter((l) => l.includes(`"msg":"${msg}"`));
  return lines.length
    ? (JSON.parse(lines[lines.length - 1].slice(lines[lines.length - 1].indexOf('{'))) as Record<
        string,
        unknown
      >)
    : undefined;
}

describe('runner (QmpScaling, SSH, disks, migration)', () => {
  let a: TestRunner;
  let b: TestRunner;
  let tls: { files: Record<string, string>; flags: string[] };
  let otherVmTls: { files: Record<string, string>; flags: string[] };

  beforeAll(async () => {
    const key = await h.keyPair();
    const ca = await createMigrationCa();
    tls = await migrationTls(ca, '6f1d2c3b-aaaa-4bbb-8ccc-000000000001');
    otherVmTls = await migrationTls(ca, '6f1d2c3b-aaaa-4bbb-8ccc-000000000002');
    a = h.start({
      name: 'vma-aaaaa',
      ip: '127.0.0.2',
      spec: spec({
        disks: [
          { name: 'data', mountPath: '/data', emptyDisk: { size: '64Mi', discard: true } },
          { name: 'scratch', mountPath: '/scratch', tmpfs: { size: '16Mi' } },
          { name: 'creds', mountPath: '/etc/creds', secret: { secretName: 'creds' }, watch: true },
        ],
      }),
      podFiles: {
        'vm/ssh/authorized_keys': key.publicKey,
        'mnt/ssh/id_ed25519': key.privateKey,
        'vm/mounts/etc/creds/password': 'v1',
        ...tls.files,
      },
      extraFlags: tls.flags,
    });
    await h.waitReady(a);
  });

  it('is ready only once the guest agent answers, and reports the guest', async () => {
    const st = await a.client.status();
    expect(st).toMatchObject({
      guestReady: true,
      qemuStatus: 'running',
      networkMode: 'user',
      cpuScalingMode: 'QmpScaling',
      migrationRole: 'none',
    });
    expect(st.cpus).toMatchObject({ use: 1, plugged: 1, online: 1 });
    expect(['kvm', 'tcg']).toContain(st.accel);
  });

  it('rejects unauthenticated API calls with 401', async () => {
    const res = await fetch('http://127.0.0.2:25183/status');
    expect(res.status).toBe(401);
    const cpu = await fetch('http://127.0.0.2:25183/cpu_change', { method: 'POST', body: '{"VCPUs":2}' });
    expect(cpu.status).toBe(401);
    expect((await a.client.status()).cpus.use).toBe(1); // nothing applied
  });

  it('runs the workload with its env and mounts the disks', async () => {
    expect(a.output()).toContain("workload: FOO=foo value BAR=it's");
    const mounts = await sshGuest(a, 'cat /proc/mounts');
    expect(mounts.code).toBe(0);
    expect(mounts.stdout).toMatch(/ \/data ext4 [^ ]*discard/);
    expect(mounts.stdout).toMatch(/^scratch \/scratch tmpfs /m);
    const w = await sshGuest(a, 'echo hi > /data/f && cat /data/f');
    expect(w.stdout.trim()).toBe('hi');
  });

  it('lets SSH in and answers on the serial console pty', async () => {
    const who = await sshGuest(a, 'id -u; hostname');
    expect(who.stdout.split('\n').slice(0, 2)).toEqual(['0', 'vm-vma-aaaaa']);
    const pty = a.info().consolePty!;
    expect(pty).toMatch(/^\/dev\/pts\/\d+$/);
    expect(await consoleRoundTrip(pty)).toMatch(/^ANSWER-/);
  });

  it('copies what the guest writes to its log channel (tech.neon.log.0) to the runner stdout', async () => {
    const marker = `guest-log-${Date.now()}`;
    await sshGuest(a, `printf '${marker} one\\n${marker} two\\n' > /dev/virtio-ports/tech.neon.log.0`);
    await pollUntil(async () => (a.output().includes(`${marker} two\n`) ? true : undefined), {
      timeoutMs: 10_000,
      description: 'the guest log lines in the runner output',
    });
    expect(a.output()).toContain(`${marker} one\n${marker} two\n`);
  });

  it('scales CPUs 1→3→2→1 and the guest sees each count', async () => {
    for (const [n, online] of [
      [3, '0-2'],
      [2, '0-1'],
      [1, '0'],
    ] as const) {
      await a.client.setCpu(n * 1000);
      expect(await a.client.getCpu()).toBe(n * 1000);
      expect(await guestOnline(a)).toBe(online);
    }
    await expect(a.client.setCpu(4000)).rejects.toMatchObject({ status: 400 });
  });

  it('scales memory 1→3→2 slots and the guest sees each size', async () => {
    const base = await guestMemTotalKiB(a);
    for (const slots of [3, 2]) {
      const st = await a.client.setMemory(slots);
      expect(st).toMatchObject({ slots, pluggedBytes: (slots - 1) * 256 * MiB });
      const kib = await guestMemTotalKiB(a);
      expect(Math.round((kib - base) / 1024 / 256)).toBe(slots - 1);
    }
    await expect(a.client.setMemory(4)).rejects.toBeInstanceOf(RunnerApiError);
  });

  it('re-syncs a watched secret disk into the guest', async () => {
    const read = async () => (await sshGuest(a, 'cat /etc/creds/password 2>/dev/null')).stdout.trim();
    const until = async (want: string) => {
      for (let i = 0; i < 60 && (await read()) !== want; i++) await new Promise((r) => setTimeout(r, 500));
      return read();
    };
    expect(await until('v1')).toBe('v1');
    writeFileSync(join(a.root, 'vm/mounts/etc/creds/password'), 'v2');
    expect(await until('v2')).toBe('v2');
  });

  it('fails a migration to a dead target cleanly and keeps running', async () => {
    await a.client.startMigration({ targetHost: '127.0.0.9' }).catch(() => undefined);
    let info = await a.client.migration();
    for (let i = 0; i < 100 && !['failed', 'completed', 'cancelled'].includes(info.status ?? ''); i++) {
      await new Promise((r) => setTimeout(r, 100));
      info = await a.client.migration();
    }
    expect(info.status).toBe('failed');
    expect((await a.client.status()).qemuStatus).toBe('running');
    expect(await a.client.ready()).toBe(true);
    await a.client.setCpu(2000); // still scalable
  });

  it("refuses to migrate to a target holding another VM's certificate (same CA), and keeps running", async () => {
    const impostor = h.start({
      name: 'vmx-xxxxx',
      ip: '127.0.0.4',
      spec: spec(),
      status: { cpus: (await a.client.status()).cpus.plugged },
      receiveMigration: true,
      podFiles: otherVmTls.files,
      extraFlags: otherVmTls.flags,
    });
    try {
      await h.waitIncoming(impostor);
      await a.client.startMigration({ targetHost: '127.0.0.4', targetVcpus: 3 });
      const info = await h.migrationOutcome(a);
      expect(info.status).toBe('failed');
      expect(String(logEntry(a.output(), 'migration finished')?.error)).toMatch(/certificate|TLS|hostname/i);
      expect((await impostor.client.status()).qemuStatus).toBe('inmigrate'); // it received nothing
      expect((await a.client.status()).qemuStatus).toBe('running');
      await a.client.setCpu(2000); // still scalable
    } finally {
      impostor.child.kill('SIGKILL');
      await impostor.exited;
    }
  });

  it('live-migrates to a second runner over TLS: file, console and stats survive', async () => {
    const key = await h.keyPair();
    await sshGuest(a, 'echo migrated-data > /root/before.txt; echo mem > /dev/shm/m; sync');
    b = h.start({
      name: 'vma-bbbbb',
      ip: '127.0.0.3',
      spec: spec({
        disks: [
          { name: 'data', mountPath: '/data', emptyDisk: { size: '64Mi', discard: true } },
          { name: 'scratch', mountPath: '/scratch', tmpfs: { size: '16Mi' } },
          { name: 'creds', mountPath: '/etc/creds', secret: { secretName: 'creds' }, watch: true },
        ],
      }),
      // The target gets the source's plugged vCPUs; it adopts the guest's online count after the switch.
      status: { cpus: (await a.client.status()).cpus.plugged },
      receiveMigration: true,
      podFiles: {
        'vm/ssh/authorized_keys': key.publicKey,
        'mnt/ssh/id_ed25519': key.privateKey,
        'vm/mounts/etc/creds/password': 'v2',
        ...tls.files,
      },
      extraFlags: tls.flags,
    });
    await h.waitIncoming(b);
    expect(logEntry(b.output(), 'waiting for the incoming migration')).toMatchObject({ tls: true });
    expect(await b.client.ready()).toBe(false);
    await a.client.startMigration({ targetHost: '127.0.0.3', targetVcpus: 3 });
    await expect(a.client.setCpu(1000)).rejects.toMatchObject({ status: 409 });
    const info = await h.migrationOutcome(a);
    expect(info.status).toBe('completed');
    expect(logEntry(a.output(), 'migration started')).toMatchObject({ tls: true });
    expect(info.totalTimeMs).toBeGreaterThan(0);
    expect(info.downtimeMs).toBeGreaterThanOrEqual(0);
    expect(info.ram?.transferred).toBeGreaterThan(0);
    await h.waitReady(b, 60_000);
    expect((await a.client.status()).qemuStatus).toBe('postmigrate');
    const st = await b.client.status();
    expect(st).toMatchObject({ qemuStatus: 'running', migrationRole: 'none' });
    expect(st.cpus).toMatchObject({ use: 2, online: 2 });
    expect(st.memory.slots).toBe(2);
    expect((await sshGuest(b, 'cat /root/before.txt /dev/shm/m')).stdout).toBe('migrated-data\nmem\n');
    expect(await consoleRoundTrip(b.info().consolePty!)).toMatch(/^ANSWER-/);
    await b.client.setCpu(3000);
    expect(await guestOnline(b)).toBe('0-2');
  });

  it('exits 0 on SIGTERM after a clean poweroff (and the migrated-away source too)', async () => {
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    expect(b.output()).toContain('reboot: Power down');
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    expect(existsSync(`/proc/${b.info().qemuPid}`)).toBe(false);
  });
});

describe('runner (SysfsScaling)', () => {
  it('scales CPUs 1→3→2→1 by onlining and offlining in the guest', async () => {
    const key = await h.keyPair();
    const c = h.start({
      name: 'vmc-ccccc',
      ip: '127.0.0.4',
      spec: spec({ cpuScalingMode: 'SysfsScaling' }),
      extraFlags: ['-cpu-scaling-mode=SysfsScaling'],
      podFiles: { 'vm/ssh/authorized_keys': key.publicKey, 'mnt/ssh/id_ed25519': key.privateKey },
    });
    await h.waitReady(c);
    expect((await c.client.status()).cpus).toMatchObject({ plugged: 3, online: 1 });
    for (const [n, online] of [
      [3, '0-2'],
      [2, '0-1'],
      [1, '0'],
    ] as const) {
      await c.client.setCpu(n * 1000);
      expect(await guestOnline(c)).toBe(online);
    }
    c.child.kill('SIGTERM');
    expect(await c.exited).toBe(0);
  });
});

describe('runner failures', () => {
  it('takes QEMU down with it when the runner is SIGKILLed (no orphan QEMU)', async () => {
    const r = h.start({ name: 'vme-eeeee', ip: '127.0.0.6', spec: spec({ enableSSH: false }) });
    let qemuPid: number | undefined;
    for (let i = 0; i < 300 && !qemuPid; i++) {
      try {
        qemuPid = r.info().qemuPid;
      } catch {
        await new Promise((res) => setTimeout(res, 100));
      }
    }
    expect(qemuPid).toBeDefined();
    r.child.kill('SIGKILL');
    await r.exited;
    for (let i = 0; i < 50 && existsSync(`/proc/${qemuPid}`); i++)
      await new Promise((res) => setTimeout(res, 100));
    expect(existsSync(`/proc/${qemuPid}`)).toBe(false);
  });

  it('undoes the stages before a failing one: API port taken → exit 1 naming the stage, QEMU gone', async () => {
    const taken = createServer();
    await new Promise<void>((res) => taken.listen(25183, '127.0.0.7', res));
    try {
      const r = h.start({ name: 'vmf-fffff', ip: '127.0.0.7', spec: spec({ enableSSH: false }) });
      expect(await r.exited).toBe(1);
      const qemuPid = Number(/"qemuPid":(\d+)/.exec(r.output())?.[1]);
      expect(qemuPid).toBeGreaterThan(0);
      expect(existsSync(`/proc/${qemuPid}`)).toBe(false);
      expect(r.output()).toContain('serve API: listen EADDRINUSE');
      expect(r.output()).not.toContain('cleanup step failed');
      expect(existsSync(join(r.root, 'r', 'runner.json'))).toBe(false);
    } finally {
      await new Promise((res) => taken.close(res));
    }
  });

  it('SIGTERM while starting stops the running stage and exits 1 (the init script is killed)', async () => {
    const r = h.start({
      name: 'vmg-ggggg',
      ip: '127.0.0.8',
      spec: spec({ enableSSH: false, initScript: 'echo "init-script pid $$"; exec sleep 600' }),
    });
    const scriptPid = await pollUntil(async () => /init-script pid (\d+)/.exec(r.output())?.[1], {
      timeoutMs: 60_000,
      intervalMs: 50,
      description: 'the init script to start',
    });
    expect(existsSync(`/proc/${scriptPid}`)).toBe(true);
    r.child.kill('SIGTERM');
    expect(await r.exited).toBe(1);
    expect(r.output()).toContain('init script: received SIGTERM while starting');
    expect(existsSync(`/proc/${scriptPid}`)).toBe(false);
  });

  it('exits non-zero when QEMU cannot start', async () => {
    const r = h.start({
      name: 'vmd-ddddd',
      ip: '127.0.0.5',
      spec: spec(),
      podFiles: { 'vm/bad/vmlinux': 'not a kernel' },
      extraFlags: ['-kernelpath=/vm/bad/vmlinux'],
    });
    expect(await r.exited).toBe(1);
    expect(r.output()).toMatch(/QEMU exited/);
  });
});
