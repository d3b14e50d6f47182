/**
 * Booting a guest the way the runner boots it, without the runner process: the same planners (VM
 * shape, disks and runtime ISO, user-mode network, kernel command line, QEMU argv) and the same disk
 * builder, started directly and driven over QMP and the guest agent. Guest and image tests and the
 * benchmarks' "raw QEMU" baselines use it, so they test the boot production runs. Every VM is torn
 * down by stop() (QMP closed, QEMU killed, its temp dir removed); tests also call killAllQemu().
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultVirtualMachine, type VirtualMachineSpec } from '../../crds';
import { archInfo, GUEST_AGENT_PORT, kernelHz, type GuestArtifacts } from '../../guest';
import { freePort, hostCpuMhz, runText } from '../../host';
import { buildDisks, imageVirtualSize } from '../pod-resources';
import { planDisks } from '../plan/disks';
import { planGuestArch } from '../plan/guest-arch';
import { kernelCmdline, planLoopsPerJiffy } from '../plan/kernel-cmdline';
import { guestMac, planUserNetwork } from '../plan/network-plan';
import { podPaths } from '../plan/pod-paths';
import { buildQemuArgs } from '../plan/qemu-args';
import { vmShape } from '../plan/vm-shape';
import { spawnQemu, type QemuProcess } from '../qemu/qemu-process';
import { QmpClient } from '../qmp';
import { GuestAgent } from '../vm-control';
import { ConsoleWatcher } from './console-watcher';

export interface BootGuestVmOptions {
  readonly name: string;
  /** `spec` of a VirtualMachine, defaulted as the API server stores it. Its guest arch must match `guest`. */
  readonly spec: Record<string, unknown>;
  /** Kernel and initramfs (and the root disk unless `rootDisk` is given). */
  readonly guest: GuestArtifacts;
  /** Base image of the root disk (booted through a qcow2 overlay); default the guest's own. */
  readonly rootDisk?: string;
  readonly accel: 'kvm' | 'tcg';
  /** Working directory (pod root); default a temp dir that stop() removes. */
  readonly dir?: string;
  /** authorized_keys line for root (the runner's ssh-authorized-keys ISO). */
  readonly sshPublicKey?: string;
  /**
   * Start as a migration target: listening on host:port at once, or `defer` (as the runner's target:
   * capabilities first, then QMP `migrate-incoming`).
   */
  readonly incoming?: { host: string; port: number } | 'defer';
  /**
   * Start with the vCPUs stopped (`-S`): a migration target then stays paused after the stream, so
   * its RAM can be compared with the source's (runner/migration-ram.int.test.ts).
   */
  readonly paused?: boolean;
  /** The agent's token (default: random, as a runner without an API token); a migration target takes its source's. */
  readonly agentToken?: string;
  /** arm64 UEFI firmware (the planner's `firmwarePath`). */
  readonly firmwarePath?: string;
  /** QEMU output (the kernel console and QEMU's diagnostics), as it arrives. */
  readonly onOutput?: (chunk: string) => void;
}

export interface GuestVm {
  readonly dir: string;
  readonly qemu: QemuProcess;
  readonly qmp: QmpClient;
  readonly agent: GuestAgent;
  /** http://127.0.0.1:<port> forwarded to the guest agent. */
  readonly agentUrl: string;
  /** The agent's bearer token (on the runtime ISO, as the runner writes it). */
  readonly agentToken: string;
  readonly sshPort: number;
  /** Host end of the guest's /dev/virtio-ports/tech.neon.log.0. */
  readonly logSocket: string;
  readonly args: readonly string[];
  /** When preparation started (disks, then QEMU): boot times are measured from here. */
  readonly spawnedAt: number;
  /** Everything QEMU printed so far (the kernel console). */
  console(): string;
  /** Resolves when the console (from the start) matches pattern. */
  waitForConsole(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  stop(): Promise<void>;
}

export async function bootGuestVm(o: BootGuestVmOptions): Promise<GuestVm> {
  // Timed from here: the same disk preparation the runner does, then QEMU.
  const spawnedAt = Date.now();
  const ownDir = o.dir === undefined;
  const dir = o.dir ?? (await mkdtemp(join(tmpdir(), 'neonvm-guest-vm-')));
  const spec = defaultVirtualMachine({ metadata: { name: o.name }, spec: o.spec as VirtualMachineSpec }).spec;
  const shape = vmShape(spec);
  const arch = planGuestArch(spec);
  if (arch !== o.guest.arch)
    throw new Error(`the spec's guest is ${arch}, the artifacts are ${o.guest.arch}`);
  const paths = podPaths(dir, join(dir, 'r'));
  // As a runner without a runner API token: a random one (agent-access.ts derives it otherwise).
  const agentToken = o.agentToken ?? randomBytes(32).toString('hex');
  let qemu: QemuProcess | undefined;
  let qmp: QmpClient | undefined;
  try {
    await mkdir(paths.state, { recursive: true });
    if (o.sshPublicKey) {
      await mkdir(paths.sshPublic, { recursive: true });
      await writeFile(join(paths.sshPublic, 'authorized_keys'), o.sshPublicKey.trim() + '\n');
    }
    const base = o.rootDisk ?? o.guest.rootDisk;
    const disks = planDisks(
      spec,
      shape,
      paths,
      { path: base, mode: 'overlay', virtualSizeBytes: await imageVirtualSize(base) },
      agentToken,
    );
    await buildDisks(disks);
    const [agentPort, sshPort] = [await freePort(), await freePort()];
    const network = planUserNetwork({
      mac: guestMac(o.name),
      ports: spec.guest.ports ?? [],
      podIp: '',
      agentHostPort: agentPort,
      sshHostPort: sshPort,
      agentGuestPort: GUEST_AGENT_PORT,
    });
    const cmdline = kernelCmdline({
      shape,
      arch,
      hostname: `vm-${o.name}`,
      memhpAutoMovableRatio: spec.guest.memhpAutoMovableRatio ?? '301',
      useVirtioConsole: false,
      appendKernelCmdline: spec.guest.appendKernelCmdline,
      lpj: planLoopsPerJiffy({
        accel: o.accel,
        arch,
        kernelHz: kernelHz(o.guest.kernel),
        hostCpuMhz: hostCpuMhz(),
      }),
    });
    const args = buildQemuArgs(shape, disks.drives, {
      arch,
      accel: o.accel,
      kernelPath: o.guest.kernel,
      initrdPath: o.guest.initramfs,
      firmwarePath: o.firmwarePath,
      qmpSocket: paths.qmpSocket,
      qmpManualSocket: paths.qmpManualSocket,
      logSocket: paths.logSocket,
      diskCacheSettings: 'cache=writeback',
      useVirtioConsole: false,
      network,
      incoming:
        o.incoming === 'defer'
          ? { kind: 'defer' }
          : o.incoming
            ? { kind: 'tcp', host: o.incoming.host, port: o.incoming.port }
            : undefined,
      cmdline,
      name: o.name,
    });
    if (o.paused) args.push('-S');
    const output = new ConsoleWatcher();
    qemu = spawnQemu(archInfo(arch).qemuBinary, args, {
      logFile: join(paths.state, 'console.log'),
      onOutput: (chunk) => {
        output.push(chunk);
        o.onOutput?.(chunk);
      },
    });
    const proc = qemu;
    void proc.exited.then((code) => output.end(`QEMU exited (${code})`));
    qmp = await QmpClient.connect({ socketPath: paths.qmpSocket, connectTimeoutMs: 15_000 });
    const client = qmp;
    return {
      dir,
      qemu,
      qmp,
      agent: new GuestAgent(`http://127.0.0.1:${agentPort}`, agentToken),
      agentUrl: `http://127.0.0.1:${agentPort}`,
      agentToken,
      sshPort,
      logSocket: paths.logSocket,
      args,
      spawnedAt,
      console: () => output.text(),
      waitForConsole: (pattern, timeoutMs) => output.waitFor(pattern, timeoutMs),
      async stop() {
        await client.close().catch(() => undefined);
        await proc.kill();
        if (ownDir) await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    const log = await readFile(join(paths.state, 'console.log'), 'utf8').catch(() => '');
    await qmp?.close().catch(() => undefined);
    await qemu?.kill();
    if (ownDir) await rm(dir, { recursive: true, force: true });
    if (log && e instanceof Error) e.message += `\nconsole:\n${log.slice(-3000)}`;
    throw e;
  }
}

/** Milliseconds from spawnedAt until the guest agent answers (the readiness signal the runner uses). */
export async function waitGuestReady(vm: GuestVm, timeoutMs = 120_000): Promise<number> {
  while (Date.now() - vm.spawnedAt < timeoutMs) {
    if (await vm.agent.ready(300)) return Date.now() - vm.spawnedAt;
    if (vm.qemu.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`guest agent of ${vm.dir} never answered; console:\n${vm.console().slice(-3000)}`);
}

/** Runs `command` in the guest as root over SSH (sshd forwarded to `vm.sshPort`) with this private key. */
export async function sshInGuest(
  vm: GuestVm,
  identityFile: string,
  command: string,
  timeoutMs = 30_000,
): Promise<string> {
  const opts = [
    'StrictHostKeyChecking=no',
    'UserKnownHostsFile=/dev/null',
    'BatchMode=yes',
    `ConnectTimeout=${Math.ceil(timeoutMs / 3000)}`,
    'LogLevel=ERROR',
  ];
  const argv = ['-i', identityFile, '-p', String(vm.sshPort), ...opts.flatMap((o) => ['-o', o])];
  return runText(['ssh', ...argv, 'root@127.0.0.1', command], { timeoutMs });
}
