/**
 * Boots the built guest under QEMU (KVM if the probe says it works, else TCG) as the runner boots it
 * (its planners build the disks, runtime ISO, kernel command line and QEMU argv from a VM spec) and
 * checks the guest side end to end: ready line, workload, guest agent, QMP CPU hot-plug onlined by
 * the agent, SysfsScaling, virtio-mem growth, SSH with dropbear, ACPI power button → clean poweroff.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GUEST_READY_LINE, GuestArtifacts, ensureGuestArtifacts } from '../guest';
import { pollUntil } from '../host';
import { GuestVm, bootGuestVm, sshInGuest, waitGuestReady } from './testing/guest-vm';
import { AccelVerdict, probeAccel } from './qemu/kvm-probe';
import { killAllQemu, liveQemuPids } from './qemu/qemu-process';
import { HotpluggableCpu } from './qmp/types';

const execFileP = promisify(execFile);

interface AgentStatus {
  cpuScalingMode: string;
  cpuTarget: number;
  onlineCpus: number[];
  presentCpus: number[];
  memTotalBytes: number;
}

/** A request to the guest agent, with the runner's token unless `authorization` says otherwise. */
async function agent(
  vm: GuestVm,
  path: string,
  init: { method?: string; body?: string; authorization?: string | null } = {},
): Promise<{ status: number; text: string }> {
  const { authorization = `Bearer ${vm.agentToken}`, ...rest } = init;
  const res = await fetch(vm.agentUrl + path, {
    ...rest,
    headers: authorization === null ? {} : { authorization },
    signal: AbortSignal.timeout(10_000), // TCG on a loaded 2-core machine
  });
  return { status: res.status, text: await res.text() };
}

/** A PUT with the path sent as written (fetch would resolve `..` segments before sending). */
function rawPut(vm: GuestVm, path: string, body: string): Promise<number> {
  const url = new URL(vm.agentUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: 'PUT',
        path,
        headers: { authorization: `Bearer ${vm.agentToken}` },
        timeout: 10_000,
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Boots a VM with this spec and waits for the agent and the ready line on the console. */
async function boot(name: string, spec: Record<string, unknown>, sshPublicKey?: string): Promise<GuestVm> {
  const vm = await bootGuestVm({ name, spec, guest: artifacts, accel: accel.accel, sshPublicKey });
  vms.push(vm);
  const readyMs = await waitGuestReady(vm, 120_000);
  await vm.waitForConsole(new RegExp(GUEST_READY_LINE), 10_000);
  measurements.push(`boot to agent ready (${accel.accel}, ${name}): ${readyMs} ms`);
  return vm;
}

const getCpu = async (vm: GuestVm) => Number((await agent(vm, '/cpu')).text);
const getStatus = async (vm: GuestVm) => JSON.parse((await agent(vm, '/status')).text) as AgentStatus;

/** Plugs the lowest free core (upstream picks QEMU's last free entry = lowest core-id). */
async function plugNextCpu(vm: GuestVm): Promise<number> {
  const slots = await vm.qmp.execute<HotpluggableCpu[]>('query-hotpluggable-cpus');
  const free = slots
    .filter((s) => !s['qom-path'])
    .sort((a, b) => (a.props['core-id'] ?? 0) - (b.props['core-id'] ?? 0));
  const slot = free[0];
  if (!slot) throw new Error('no free CPU slot');
  const core = slot.props['core-id'] ?? 0;
  await vm.qmp.execute('device_add', {
    id: `cpu${core}`,
    driver: slot.type,
    'socket-id': 0,
    'core-id': core,
    'thread-id': 0,
  });
  return core;
}

const MiB = 1024 * 1024;
let artifacts: GuestArtifacts;
let accel: AccelVerdict;
const vms: GuestVm[] = [];
const measurements: string[] = [];

beforeAll(async () => {
  const t = Date.now();
  artifacts = await ensureGuestArtifacts();
  measurements.push(
    `guest artifacts ready in ${Date.now() - t} ms (build ${artifacts.manifest.buildSeconds} s when built)`,
  );
  accel = await probeAccel({ kernel: artifacts.kernel });
  measurements.push(`accel: ${accel.accel} (${accel.reason})`);
}, 300_000);

afterAll(async () => {
  await Promise.all(vms.map((vm) => vm.stop()));
  await killAllQemu();
  expect(liveQemuPids()).toEqual([]);
  console.log(measurements.join('\n'));
});

describe('guest in QmpScaling mode', () => {
  let vm: GuestVm;
  let sshDir: string;

  beforeAll(async () => {
    sshDir = mkdtempSync(join(tmpdir(), 'neonvm-ssh-test-'));
    await execFileP('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(sshDir, 'id_ed25519')]);
    vm = await boot(
      'qmp-scaling',
      {
        cpuScalingMode: 'QmpScaling',
        guest: {
          cpus: { min: 1, max: 4, use: 1 },
          // 512 MiB at boot, 1 GiB of virtio-mem to plug.
          memorySlotSize: '256Mi',
          memorySlots: { min: 2, max: 6, use: 2 },
          // The overlay is grown from 512 MiB to 1 GiB before boot; sysinit runs resize2fs.
          rootDisk: { image: 'builtin', size: '1Gi' },
          command: ['sh', '-c', 'echo "workload says $GREETING"; exec sleep 100000'],
          env: [{ name: 'GREETING', value: "hello 'guest'" }],
          settings: { sysctl: ['vm.swappiness=7'] },
        },
        // mounts.sh mounts it through the blkid shim, like the SSH keys' ISO.
        disks: [
          { name: 'scratch', mountPath: '/var/scratch', tmpfs: { size: '1Mi' } },
          // Synced through the agent: its mountPath is a root the agent may write.
          { name: 'app-secret', mountPath: '/etc/app-secret', secret: { secretName: 's' }, watch: true },
        ],
        // The TLS pseudo-disk (/var/tls): synced through the agent, files root-only.
        tls: { certificateIssuer: 'ca' },
      },
      readFileSync(join(sshDir, 'id_ed25519.pub'), 'utf8'),
    );
    measurements.push(`qemu ${vm.args.join(' ')}`);
  }, 120_000);

  afterAll(() => rmSync(sshDir, { recursive: true, force: true }));

  it('runs the workload from the runtime ISO with its environment', async () => {
    await vm.waitForConsole(/workload says hello 'guest'/, 20_000);
  });

  it('serves the agent API: /ready, /status and GET /cpu', async () => {
    expect((await agent(vm, '/ready')).status).toBe(200);
    const st = await getStatus(vm);
    expect(st.cpuScalingMode).toBe('QmpScaling');
    expect(st.onlineCpus).toEqual([0]);
    expect(await getCpu(vm)).toBe(1000);
  });

  it('onlines QMP hot-plugged CPUs by itself', async () => {
    for (const expected of [2000, 3000]) {
      const started = Date.now();
      await plugNextCpu(vm);
      await pollUntil(async () => ((await getCpu(vm)) === expected ? true : undefined), {
        timeoutMs: 10_000,
        intervalMs: 25,
        description: `GET /cpu = ${expected}`,
      });
      measurements.push(`cpu plug → online (GET /cpu = ${expected}): ${Date.now() - started} ms`);
    }
    expect((await getStatus(vm)).onlineCpus).toEqual([0, 1, 2]);
  }, 30_000);

  it('keeps a scale-down (PUT /cpu) although the offlined CPUs stay plugged', async () => {
    // The runner scales down in the guest and never unplugs (QEMU 7.2 TCG re-plug crash).
    expect((await agent(vm, '/cpu', { method: 'PUT', body: '2000' })).status).toBe(200);
    expect(await getCpu(vm)).toBe(2000);
    await new Promise((r) => setTimeout(r, 2500)); // one reconcile round of the agent
    const st = await getStatus(vm);
    expect([st.onlineCpus, st.presentCpus, st.cpuTarget]).toEqual([[0, 1], [0, 1, 2], 2]);
  }, 30_000);

  it('grows and shrinks virtio-mem memory, as /proc/meminfo shows', async () => {
    const before = (await getStatus(vm)).memTotalBytes;
    const started = Date.now();
    await vm.qmp.execute('qom-set', { path: 'vm0', property: 'requested-size', value: 256 * MiB });
    const value = await pollUntil(
      async () => {
        const s = await getStatus(vm);
        return s.memTotalBytes >= before + 250 * MiB ? s : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 25, description: 'MemTotal to grow by 256 MiB' },
    );
    measurements.push(`virtio-mem +256 MiB visible in MemTotal: ${Date.now() - started} ms`);
    expect(value.memTotalBytes - before).toBeLessThanOrEqual(256 * MiB);

    // Shrink: the virtio-mem driver offlines and unplugs its (movable) blocks by itself.
    const shrinkStarted = Date.now();
    await vm.qmp.execute('qom-set', { path: 'vm0', property: 'requested-size', value: 0 });
    await pollUntil(async () => ((await getStatus(vm)).memTotalBytes <= before ? true : undefined), {
      timeoutMs: 20_000,
      intervalMs: 50,
      description: 'MemTotal to shrink back',
    });
    measurements.push(`virtio-mem -256 MiB gone from MemTotal: ${Date.now() - shrinkStarted} ms`);
  }, 40_000);

  const ssh = (command: string) => sshInGuest(vm, join(sshDir, 'id_ed25519'), command);

  it('accepts SSH with the key from the ssh-authorized-keys ISO', async () => {
    const started = Date.now();
    const stdout = await ssh(
      'id -u; cat /proc/sys/vm/swappiness; pidof chronyd >/dev/null && echo chronyd-running; df -k / | tail -1; ' +
        'grep -c " /var/scratch tmpfs " /proc/mounts',
    );
    measurements.push(`ssh round trip (incl. host key generation): ${Date.now() - started} ms`);
    const [uid, swappiness, chrony, df, scratch] = stdout.split('\n');
    expect([uid, swappiness, chrony, scratch]).toEqual(['0', '7', 'chronyd-running', '1']);
    expect(Number(df!.split(/\s+/)[1])).toBeGreaterThan(900_000);
  }, 40_000);

  it('exposes the virtio-serial log channel as /dev/virtio-ports/tech.neon.log.0', async () => {
    const received = new Promise<string>((resolve, reject) => {
      const sock = createConnection(vm.logSocket);
      let data = '';
      sock.setEncoding('utf8');
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`no log line, got ${JSON.stringify(data)}`));
      }, 15_000);
      sock.on('data', (c: string) => {
        data += c;
        if (data.includes('\n')) {
          clearTimeout(timer);
          sock.destroy();
          resolve(data);
        }
      });
      sock.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    await new Promise((r) => setTimeout(r, 100)); // let QEMU accept the connection
    await ssh('echo hello-log-channel > /dev/virtio-ports/tech.neon.log.0');
    expect(await received).toBe('hello-log-channel\n');
  }, 30_000);

  it('writes files through the agent with the atomic-writer layout', async () => {
    const put = await agent(vm, '/files/etc/app-secret', {
      method: 'PUT',
      body: JSON.stringify({ 'a.txt': { data: Buffer.from('hi').toString('base64') } }),
    });
    expect(put.status).toBe(200);
    const sum = await agent(vm, '/files/etc/app-secret');
    expect(sum.status).toBe(200);
    expect(sum.text).toMatch(/^[A-Za-z0-9+/]{43}$/);
    expect((await ssh('cat /etc/app-secret/a.txt; echo; readlink /etc/app-secret/a.txt')).trim()).toBe(
      'hi\n..data/a.txt',
    );
  });

  it('refuses requests without the runner token, and writes outside the synced-disk roots', async () => {
    const body = JSON.stringify({
      authorized_keys: { data: Buffer.from('ssh-ed25519 AAAA evil').toString('base64') },
    });
    const refused: Record<string, number> = {};
    for (const [label, path, init] of [
      ['no token: /ready', '/ready', { authorization: null }],
      ['no token: /cpu', '/cpu', { authorization: null }],
      [
        'wrong token: PUT /files',
        '/files/etc/app-secret',
        { method: 'PUT', body, authorization: 'Bearer 00' },
      ],
      ['outside the roots: /root/.ssh', '/files/root/.ssh', { method: 'PUT', body }],
      [
        'body over the limit',
        '/files/etc/app-secret',
        { method: 'PUT', body: `{"a":{"data":"${'A'.repeat(3 << 20)}"}}` },
      ],
    ] as const) {
      refused[label] = (await agent(vm, path, init)).status;
    }
    refused['".." out of a root'] = await rawPut(vm, '/files/etc/app-secret/../../root/.ssh', body);
    expect(refused).toEqual({
      'no token: /ready': 401,
      'no token: /cpu': 401,
      'wrong token: PUT /files': 401,
      'outside the roots: /root/.ssh': 403,
      '".." out of a root': 400,
      'body over the limit': 413,
    });
    // Nothing reached the guest's disk; the runner's own calls still work.
    expect(
      (await ssh('cat /root/.ssh/authorized_keys 2>/dev/null; ls -a /root/.ssh 2>/dev/null')).includes(
        'evil',
      ),
    ).toBe(false);
    expect((await agent(vm, '/ready')).status).toBe(200);
    expect(await vm.agent.ready()).toBe(true);
    measurements.push(`agent refusals: ${JSON.stringify(refused)}`);
  }, 60_000);

  it('listens on the runner-facing link only, and keeps the runtime disk and the TLS key root-only', async () => {
    const put = await agent(vm, '/files/var/tls', {
      method: 'PUT',
      body: JSON.stringify({
        'tls.crt': { data: Buffer.from('crt').toString('base64') },
        'tls.key': { data: Buffer.from('key').toString('base64') },
      }),
    });
    expect(put.status).toBe(200);
    const [listen, key, runtime, token] = (
      await ssh(
        'netstat -ltn | grep :25183 | tr -s " " | cut -d" " -f4; stat -L -c "%a %U" /var/tls/tls.key; stat -c "%a %U" /neonvm/runtime; stat -c "%a %U" /neonvm/runtime/agent-token',
      )
    )
      .trim()
      .split('\n');
    expect(listen).toBe('169.254.254.254:25183');
    expect(key).toBe('600 root');
    expect(runtime).toBe('500 root');
    expect(token).toBe('400 root');
  }, 30_000);

  it('releases a hot-plugged CPU on device_del (guest ACPI eject)', async () => {
    // Removal only: QEMU 7.2 under TCG crashes when a slot is re-plugged after device_del.
    // cpu2 is plugged but offline (scale-down above).
    // QEMU 7.2 reports the end of a CPU eject as ACPI_DEVICE_OST {source: 3 (eject), status: 0}
    // and DEVICE_DELETED only for the CPU's lapic child, not for "cpu2" itself.
    const started = Date.now();
    const ejected = vm.qmp.waitForEvent(
      'ACPI_DEVICE_OST',
      (e) => {
        const info = e.data.info as { source?: number; status?: number; slot?: string };
        return info.source === 3 && info.status === 0 && info.slot === '2';
      },
      30_000,
    );
    await vm.qmp.execute('device_del', { id: 'cpu2' });
    await ejected;
    const slots = await vm.qmp.execute<HotpluggableCpu[]>('query-hotpluggable-cpus');
    expect(slots.find((s) => s.props['core-id'] === 2)?.['qom-path']).toBeUndefined();
    expect(await getCpu(vm)).toBe(2000);
    measurements.push(
      `cpu device_del → eject completed (ACPI_DEVICE_OST), GET /cpu = 2000: ${Date.now() - started} ms`,
    );
    expect((await getStatus(vm)).presentCpus).toEqual([0, 1]);
  }, 40_000);

  it('powers off cleanly on system_powerdown (ACPI power button)', async () => {
    const started = Date.now();
    const shutdown = vm.qmp.waitForEvent('SHUTDOWN', undefined, 30_000);
    await vm.qmp.execute('system_powerdown');
    const ev = await shutdown;
    expect(ev.data.guest).toBe(true);
    expect(await vm.qemu.exited).toBe(0);
    measurements.push(`system_powerdown → QEMU exit: ${Date.now() - started} ms`);
    expect(vm.console()).toContain('neonvm-guest: shutting down');
  }, 40_000);
});

describe('guest in SysfsScaling mode', () => {
  let vm: GuestVm;

  beforeAll(async () => {
    // All four vCPUs plugged at boot, one online (kernel maxcpus=1).
    vm = await boot('sysfs-scaling', {
      cpuScalingMode: 'SysfsScaling',
      guest: {
        cpus: { min: 1, max: 4, use: 1 },
        memorySlotSize: '128Mi',
        memorySlots: { min: 3, max: 3, use: 3 },
        rootDisk: { image: 'builtin' },
      },
    });
  }, 120_000);

  it('boots with one CPU online and all four present', async () => {
    const st = await getStatus(vm);
    expect(st.cpuScalingMode).toBe('SysfsScaling');
    expect(st.onlineCpus).toEqual([0]);
    expect(st.presentCpus).toEqual([0, 1, 2, 3]);
  });

  it('scales through PUT /cpu: 3 → 2 → 1 (milli-CPU rounded up)', async () => {
    for (const [put, expected] of [
      ['2500', 3000],
      ['2000', 2000],
      ['250', 1000],
    ] as const) {
      const started = Date.now();
      expect((await agent(vm, '/cpu', { method: 'PUT', body: put })).status).toBe(200);
      expect(await getCpu(vm)).toBe(expected);
      measurements.push(`sysfs PUT /cpu ${put} → ${expected}: ${Date.now() - started} ms`);
    }
    expect((await getStatus(vm)).onlineCpus).toEqual([0]);
    expect((await agent(vm, '/cpu', { method: 'PUT', body: '5000' })).status).toBe(500);
    expect((await agent(vm, '/cpu', { method: 'PUT', body: 'x' })).status).toBe(400);
  }, 60_000);
});
