/**
 * Image benchmarks: `neonvm image build` time against the floor of the same work (mkfs.ext4 -d +
 * qemu-img convert of the finished tree), disk size against the input root filesystem, for the
 * minimal busybox image and the Debian 12 image; and an arm64 guest's boot under TCG against the
 * amd64 guest's, same image, same runner planners, both emulated.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore } from '../cluster/image-store';
import { buildVmImage, BuildVmImageResult } from '../image/builder/build';
import { convertToQcow2, makeExt4 } from '../image/builder/ext4-disk';
import { addGuestOverlay } from '../image/builder/guest-overlay';
import { materializeSource } from '../image/builder/rootfs-source';
import { debianRootfsDir, ensureDebianRootfs } from '../image/debian';
import { Platform } from '../image/oci';
import { writeBusyboxImage } from '../image/testing/busybox-image';
import { ensureGuestArtifacts, GuestArtifacts, type GuestArch } from '../guest';
import { isComplete } from '../host';
import { killAllQemu } from '../runner/qemu/qemu-process';
import { bootGuestVm, waitGuestReady } from '../runner/testing/guest-vm';
import type { BenchRow } from './table';

const MiB = 1024 * 1024;
const amd64: Platform = { os: 'linux', architecture: 'amd64' };
const arm64: Platform = { os: 'linux', architecture: 'arm64' };

/** Seconds for mkfs.ext4 -d + qemu-img convert of the tree the builder would make from source. */
async function mkfsFloor(
  work: string,
  source: string,
  platform: Platform,
  guest: GuestArtifacts,
  fsBytes: number,
): Promise<number> {
  const dir = await mkdtemp(join(work, 'floor-'));
  try {
    const rootfs = join(dir, 'rootfs');
    const src = await materializeSource(source, rootfs, platform, {
      platform,
      tmpDir: dir,
      progress: () => undefined,
    });
    await addGuestOverlay({ rootfs, guestRootfs: guest.rootfsDir, run: src.run, spec: {}, specDir: dir });
    const t0 = Date.now();
    await makeExt4(rootfs, join(dir, 'disk.raw'), fsBytes);
    await convertToQcow2(join(dir, 'disk.raw'), join(dir, 'disk.qcow2'));
    return (Date.now() - t0) / 1000;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function buildRows(
  label: string,
  r: BuildVmImageResult,
  floorSeconds: number,
  inputName: string,
): BenchRow[] {
  return [
    {
      name: `${label}: neonvm image build`,
      value: r.seconds,
      unit: 's',
      baseline: floorSeconds,
      baselineName: 'mkfs.ext4 -d + qemu-img convert alone',
      ratio: r.seconds / floorSeconds,
    },
    {
      name: `${label}: qcow2 size (ext4 ${Math.round(r.fsBytes / MiB)} MiB)`,
      value: r.qcow2Bytes / MiB,
      unit: 'MiB',
      baseline: r.sourceBytes / MiB,
      baselineName: inputName,
      ratio: r.qcow2Bytes / r.sourceBytes,
    },
  ];
}

async function bootMs(work: string, guest: GuestArtifacts, disk: string, arch: GuestArch): Promise<number> {
  const vm = await bootGuestVm({
    dir: await mkdtemp(join(work, `vm-${arch}-`)),
    guest: { ...guest, rootDisk: disk },
    name: `bench-${arch}`,
    accel: 'tcg',
    spec: {
      targetArchitecture: arch,
      cpuScalingMode: 'SysfsScaling',
      guest: {
        cpus: { min: 1, max: 2, use: 1 },
        memorySlotSize: '256Mi',
        memorySlots: { min: 2, max: 2, use: 2 },
        rootDisk: { image: 'bench' },
      },
    },
  });
  try {
    return await waitGuestReady(vm, 300_000);
  } finally {
    await vm.stop();
  }
}

export default async function benchImage(): Promise<BenchRow[]> {
  const work = await mkdtemp(join(tmpdir(), 'neonvm-bench-image-'));
  const store = new ImageStore(join(work, 'store'));
  const rows: BenchRow[] = [];
  try {
    const x86 = await ensureGuestArtifacts({ arch: 'amd64' });
    const arm = await ensureGuestArtifacts({ arch: 'arm64' });
    const quiet = () => undefined;

    // Minimal image: the two-layer busybox OCI layout of the tests.
    await writeBusyboxImage(join(work, 'bb-amd64'), join(x86.rootfsDir, 'neonvm/bin/busybox'), amd64);
    const minimal = await buildVmImage({
      source: join(work, 'bb-amd64'),
      tags: ['bench/minimal:amd64'],
      store,
      progress: quiet,
    });
    const minimalFloor = await mkfsFloor(work, join(work, 'bb-amd64'), amd64, x86, minimal.fsBytes);
    rows.push(...buildRows('minimal (busybox OCI, 2 layers)', minimal, minimalFloor, 'unpacked image'));

    // Debian 12: only when its debootstrap tree is cached or can be made (root + mirror).
    if (isComplete(debianRootfsDir()) || process.getuid?.() === 0) {
      const rootfs = await ensureDebianRootfs({ progress: quiet });
      const debian = await buildVmImage({
        source: rootfs,
        tags: ['bench/debian:12'],
        platform: amd64,
        store,
        progress: quiet,
      });
      const debianFloor = await mkfsFloor(work, rootfs, amd64, x86, debian.fsBytes);
      rows.push(...buildRows('Debian 12 (debootstrap minbase)', debian, debianFloor, 'debootstrap tree'));
    }

    // Boot: the same image built for each arch, booted by the runner planners under TCG.
    await writeBusyboxImage(join(work, 'bb-arm64'), join(arm.rootfsDir, 'neonvm/bin/busybox'), arm64);
    const minimalArm = await buildVmImage({
      source: join(work, 'bb-arm64'),
      tags: ['bench/minimal:arm64'],
      store,
      progress: quiet,
    });
    const x86Boot = await bootMs(work, x86, minimal.disk!, 'amd64');
    const armBoot = await bootMs(work, arm, minimalArm.disk!, 'arm64');
    rows.push({
      name: 'arm64 guest boot to agent ready (TCG, virt, -cpu max)',
      value: armBoot,
      unit: 'ms',
      baseline: x86Boot,
      baselineName: 'amd64 guest, same image and planners (TCG, q35)',
      ratio: armBoot / x86Boot,
    });
    rows.push({
      name: 'arm64 minimal image build',
      value: minimalArm.seconds,
      unit: 's',
      baseline: minimal.seconds,
      baselineName: 'amd64 minimal image build',
      ratio: minimalArm.seconds / minimal.seconds,
    });
    const s = await stat(minimalArm.disk!);
    rows.push({
      name: 'arm64 minimal qcow2 size',
      value: s.size / MiB,
      unit: 'MiB',
      baseline: minimal.qcow2Bytes / MiB,
      baselineName: 'amd64 minimal qcow2',
      ratio: s.size / minimal.qcow2Bytes,
    });
    return rows;
  } finally {
    await killAllQemu();
    await rm(work, { recursive: true, force: true });
  }
}
