/**
 * ARM64 guests on an x86_64 host: the busybox test image built for linux/arm64 with the aarch64
 * guest (Debian's cloud-arm64 kernel Image, arm64 busybox, agent built with GOARCH=arm64), booted by
 * the runner's planners for a VirtualMachine with `targetArchitecture: arm64` (qemu-system-aarch64
 * -M virt -cpu max under TCG, direct -kernel boot, no firmware), in SysfsScaling mode: the guest
 * agent changes the number of online CPUs (vCPU hot-plug does not exist on `virt` in QEMU 7.2),
 * and virtio-mem adds memory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore } from '../../cluster/image-store';
import { pollUntil } from '../../host';
import { ensureGuestArtifacts, GuestArtifacts } from '../../guest';
import { killAllQemu, liveQemuPids } from '../../runner/qemu/qemu-process';
import { GuestVm, bootGuestVm, waitGuestReady } from '../../runner/testing/guest-vm';
import { RunnerHarness, TestRunner } from '../../runner/testing/runner-harness';
import { TEST_WORKLOAD_MARKER, writeBusyboxImage } from '../testing/busybox-image';
import { chardevPty, ptyShell } from '../testing/pty-shell';
import { buildVmImage } from './build';
import { rootDiskOf } from './root-disk-image';

const MiB = 1024 * 1024;
const IMAGE = 'neonvm-test/busybox-vm-arm64:latest';
let work: string;
let guest: GuestArtifacts;
let vm: GuestVm;
let console_ = '';
let readyMs = 0;
let disk: string;
const harness = new RunnerHarness();
const log: string[] = [];

/** Polls fn until ok accepts its value (errors: the agent may be busy under emulation, retry). */
function poll<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  return pollUntil(
    async () => {
      const v = await fn();
      return ok(v) ? v : undefined;
    },
    { timeoutMs, description: 'the arm64 guest' },
  );
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'neonvm-arm64-'));
  guest = await ensureGuestArtifacts({ arch: 'arm64' });
  await writeBusyboxImage(join(work, 'layout'), join(guest.rootfsDir, 'neonvm/bin/busybox'), {
    os: 'linux',
    architecture: 'arm64',
  });
  const store = new ImageStore(join(work, 'store'));
  const built = await buildVmImage({
    source: join(work, 'layout'),
    tags: [IMAGE],
    store,
    progress: (l) => log.push(l),
  });
  log.push(`arm64 image: build ${built.seconds}s, qcow2 ${built.qcow2Bytes} bytes`);
  // The disk `spec.guest.rootDisk.image` names, looked up as `neonvm run` looks it up.
  disk = rootDiskOf({ spec: { guest: { rootDisk: { image: IMAGE } } } }, store);
}, 900_000);

afterAll(async () => {
  await vm?.stop();
  await harness.stopAll();
  await killAllQemu();
  expect(liveQemuPids()).toEqual([]);
  rmSync(work, { recursive: true, force: true });
  console.log(log.join('\n'));
});

describe('planner-driven QEMU (runner/plan, as the runner builds it)', () => {
  beforeAll(async () => {
    vm = await bootGuestVm({
      dir: join(work, 'vm'),
      guest: { ...guest, rootDisk: disk },
      name: 'arm64-vm',
      accel: 'tcg',
      spec: {
        targetArchitecture: 'arm64',
        cpuScalingMode: 'SysfsScaling',
        guest: {
          cpus: { min: 1, max: 2, use: 1 },
          memorySlotSize: '256Mi',
          memorySlots: { min: 2, max: 4, use: 2 },
          rootDisk: { image: IMAGE },
        },
      },
      onOutput: (c) => (console_ += c),
    });
    readyMs = await waitGuestReady(vm, 240_000);
    log.push(`arm64 (TCG) boot to agent ready: ${readyMs} ms`);
  }, 600_000);

  afterAll(async () => {
    await vm?.stop();
  });

  it('boots the arm64 kernel and runs the workload of the arm64 image', async () => {
    // The planner puts the arm64 kernel console on hvc0 (virtio_console, a module in Debian's kernel),
    // which does not exist yet when the kernel opens init's console: userspace output does not reach
    // it. Ask the shell on the serial pty instead.
    expect(console_).toMatch(/ISOFS/); // kernel messages after the module loaded do
    const pty = await chardevPty(vm.qmp, 'serial0');
    const out = await poll(
      () => ptyShell(pty, 'cat /tmp/test-workload.log', 20_000),
      (o) => o.includes(`${TEST_WORKLOAD_MARKER} machine=aarch64`),
      90_000,
    );
    expect(out).toContain(
      `${TEST_WORKLOAD_MARKER} uid=1000 pwd=/app greeting=hello from the image argc=2 args=first second arg`,
    );
  }, 120_000);

  it('changes the online CPU count through the guest agent (SysfsScaling)', async () => {
    expect((await vm.agent.status(10_000)).cpuScalingMode).toBe('SysfsScaling');
    expect(await vm.agent.getCpuMilli(10_000)).toBe(1000);
    const up = Date.now();
    await vm.agent.setCpuMilli(2000, 30_000);
    await poll(
      () => vm.agent.getCpuMilli(10_000),
      (m) => m === 2000,
      30_000,
    );
    log.push(`arm64 sysfs CPU 1 → 2: ${Date.now() - up} ms`);
    const down = Date.now();
    await vm.agent.setCpuMilli(1000, 30_000);
    await poll(
      () => vm.agent.getCpuMilli(10_000),
      (m) => m === 1000,
      30_000,
    );
    log.push(`arm64 sysfs CPU 2 → 1: ${Date.now() - down} ms`);
  }, 120_000);

  it('grows memory with virtio-mem', async () => {
    const before = (await vm.agent.status(10_000)).memTotalBytes;
    const started = Date.now();
    await vm.qmp.execute('qom-set', {
      path: '/machine/peripheral/vm0',
      property: 'requested-size',
      value: 256 * MiB,
    });
    await poll(
      async () => (await vm.agent.status(10_000)).memTotalBytes,
      (t) => t >= before + 200 * MiB,
      60_000,
    );
    log.push(`arm64 virtio-mem +256 MiB visible: ${Date.now() - started} ms`);
  }, 90_000);
});

describe('the runner process with targetArchitecture: arm64', () => {
  let runner: TestRunner;

  beforeAll(async () => {
    harness.guest = { ...guest, rootDisk: disk };
    runner = harness.start({
      name: 'arm64-runner',
      ip: '127.0.0.64',
      spec: {
        targetArchitecture: 'arm64',
        cpuScalingMode: 'SysfsScaling',
        guest: {
          cpus: { min: 1, max: 2, use: 1 },
          memorySlotSize: '256Mi',
          memorySlots: { min: 2, max: 3, use: 2 },
          rootDisk: { image: IMAGE },
        },
      },
    });
    const ms = await harness.waitReady(runner, 300_000);
    log.push(`arm64 runner ready (QEMU + guest agent) after ${ms} ms`);
  }, 400_000);

  it('runs qemu-system-aarch64 under TCG', () => {
    expect(runner.output()).toMatch(/qemu-system-aarch64/);
    expect(runner.output()).toMatch(/is emulated on this host/);
  });

  it('scales CPUs 1 → 2 → 1 through the runner API (guest agent, sysfs)', async () => {
    for (const milli of [2000, 1000]) {
      await runner.client.setCpu(milli);
      expect(await runner.client.getCpu()).toBe(milli);
    }
  }, 120_000);

  it('scales memory by a slot through the runner API (virtio-mem)', async () => {
    const st = await runner.client.setMemory(3);
    expect(st).toMatchObject({ slots: 3, requestedSlots: 3 });
  }, 120_000);
});
