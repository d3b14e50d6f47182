/**
 * Deciding between KVM and TCG by trying KVM for real. /dev/kvm can exist and be unusable (nested
 * virtualization without vmx/svm). Measured on this kind of machine: QEMU accepts `-accel kvm`,
 * `query-kvm` says enabled and the firmware runs, yet the Linux kernel never prints its first line.
 * So the probe boots the guest kernel itself with early printk and waits for "Linux version";
 * anything else (exit, silence) means TCG.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { GuestArch, archInfo, hostGuestArch } from '../../guest';
import { systemClock, type Clock, type TimerHandle } from '../../host';
import { spawnQemu } from './qemu-process';

export type Accel = 'kvm' | 'tcg';

export interface AccelVerdict {
  readonly accel: Accel;
  readonly reason: string;
}

/** Observations of one probe run (pure input to decideAccel). */
export interface ProbeObservation {
  /** The kernel printed its banner under KVM after this many ms. */
  readonly bannerAfterMs?: number;
  /** QEMU exited before the banner: code/signal and the tail of its output. */
  readonly exited?: { readonly code: number | string; readonly output: string };
  /** Neither happened within this many ms. */
  readonly timedOutAfterMs?: number;
}

/** The first line Linux prints (early printk), proof that the vCPU really executes the kernel. */
export const KERNEL_BANNER = 'Linux version';

export function decideAccel(o: ProbeObservation): AccelVerdict {
  if (o.bannerAfterMs !== undefined)
    return { accel: 'kvm', reason: `guest kernel printed its banner under KVM in ${o.bannerAfterMs} ms` };
  if (o.exited) {
    const why = o.exited.output.trim().split('\n').slice(-2).join(' ') || 'no output';
    return { accel: 'tcg', reason: `qemu -accel kvm exited (${o.exited.code}): ${why}` };
  }
  return {
    accel: 'tcg',
    reason: `guest kernel printed nothing under KVM within ${o.timedOutAfterMs ?? '?'} ms (unusable nested KVM?)`,
  };
}

/** QEMU arguments for the verdict: same CPU model either way (`max`, as upstream). */
export function accelArgs(v: AccelVerdict): string[] {
  return v.accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'max'] : ['-accel', 'tcg,thread=multi', '-cpu', 'max'];
}

export interface ProbeOptions {
  /** The guest kernel (vmlinux / Image) the VMs will boot. */
  readonly kernel: string;
  readonly arch?: GuestArch;
  /** How long to wait for the kernel banner. Default 4000 ms (KVM prints it within a few hundred). */
  readonly timeoutMs?: number;
  /** Times the banner and the timeout. Default: real time. */
  readonly clock?: Clock;
  /** `NEONVM_ACCEL=kvm|tcg` forces the verdict (CI without KVM, debugging). */
  readonly env?: NodeJS.ProcessEnv;
}

const cache = new Map<string, Promise<AccelVerdict>>();

/** Probes once per process, arch and kernel; later calls return the cached verdict. */
export function probeAccel(opts: ProbeOptions): Promise<AccelVerdict> {
  const arch = opts.arch ?? hostGuestArch();
  const forced = (opts.env ?? process.env).NEONVM_ACCEL;
  if (forced === 'kvm' || forced === 'tcg')
    return Promise.resolve({ accel: forced, reason: `forced by NEONVM_ACCEL=${forced}` });
  const key = `${arch}:${opts.kernel}`;
  let p = cache.get(key);
  if (!p) {
    p = runProbe(arch, opts.kernel, opts.timeoutMs ?? 4000, opts.clock ?? systemClock);
    cache.set(key, p);
  }
  return p;
}

async function runProbe(
  arch: GuestArch,
  kernel: string,
  timeoutMs: number,
  clock: Clock,
): Promise<AccelVerdict> {
  if (arch !== hostGuestArch()) return { accel: 'tcg', reason: `guest arch ${arch} differs from the host` };
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch (e) {
    return { accel: 'tcg', reason: `/dev/kvm not usable: ${(e as Error).message}` };
  }
  const x86 = arch === 'amd64';
  const console = x86 ? 'console=ttyS0 earlyprintk=serial,ttyS0,115200' : 'console=ttyAMA0 earlycon';
  const started = clock.now();
  let output = '';
  let onBanner: () => void = () => undefined;
  const banner = new Promise<void>((r) => (onBanner = r));
  // prettier-ignore
  const qemu = spawnQemu(
    archInfo(arch).qemuBinary,
    [
      '-machine', x86 ? 'q35' : 'virt', '-accel', 'kvm', '-cpu', 'max', '-m', '256',
      '-nodefaults', '-nographic', '-no-reboot', '-serial', 'stdio',
      '-kernel', kernel, '-append', `${console} loglevel=1 panic=-1`,
    ],
    {
      onOutput: (c) => {
        output = (output + c).slice(-4000);
        if (output.includes(KERNEL_BANNER)) onBanner();
      },
    },
  );
  let timer: TimerHandle | undefined;
  try {
    const timeout = new Promise<'timeout'>((r) => (timer = clock.setTimer(timeoutMs, () => r('timeout'))));
    const outcome = await Promise.race([banner.then(() => 'banner' as const), qemu.exited, timeout]);
    if (outcome === 'banner') return decideAccel({ bannerAfterMs: clock.now() - started });
    if (outcome === 'timeout') return decideAccel({ timedOutAfterMs: timeoutMs });
    return decideAccel({ exited: { code: outcome, output } });
  } finally {
    timer?.cancel();
    await qemu.kill();
  }
}
