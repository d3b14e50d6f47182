/**
 * Booting the built guest for integration tests: overlay disk, runtime and SSH ISOs, QEMU with
 * QMP and host forwards to the agent and sshd, console capture. Every VM is torn down by stop()
 * (QEMU killed, QMP closed, temp dir removed); tests also call killAllQemu() in afterAll.
 */
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  archInfo,
  GuestArtifacts,
  GUEST_AGENT_PORT,
  GUEST_READY_LINE,
  SSH_ISO_LABEL,
  guestKernelCmdline,
  hostLoopsPerJiffy,
  RuntimeConfig,
  writeIso,
  writeRuntimeIso,
} from '../../guest';
import { run } from '../../host';
import { AccelVerdict } from '../qemu/kvm-probe';
import { QemuProcess, spawnQemu } from '../qemu/qemu-process';
import { QmpClient } from '../qmp/client';
import { ConsoleWatcher } from './console-watcher';
import { testVmQemuArgs } from './test-vm-qemu-args';

export interface BootGuestOptions {
  readonly artifacts: GuestArtifacts;
  readonly accel: AccelVerdict;
  readonly cpus: { readonly boot: number; readonly max: number };
  readonly memory: { readonly baseMiB: number; readonly hotplugMiB: number };
  readonly runtime: RuntimeConfig;
  /** Public key line for root's authorized_keys (via the ssh-authorized-keys ISO). */
  readonly sshPublicKey?: string;
  /** Boot CPUs for SysfsScaling (kernel maxcpus=). */
  readonly sysfsBootCpus?: number;
  readonly readyTimeoutMs?: number;
  /** Grow the root disk overlay to this size before boot (the guest runs resize2fs). */
  readonly rootDiskMiB?: number;
  /** `-bios` image (see TestVmQemuOptions.bios). */
  readonly bios?: string;
}

export interface GuestVm {
  readonly dir: string;
  readonly qemu: QemuProcess;
  readonly qmp: QmpClient;
  /** http://127.0.0.1:<port> forwarded to the guest agent. */
  readonly agentUrl: string;
  /** Host end of the guest's /dev/virtio-ports/tech.neon.log.0. */
  readonly logSocket: string;
  readonly sshPort: number;
  /** ms from spawning QEMU to the guest's ready line. */
  readonly readyAfterMs: number;
  readonly args: readonly string[];
  console(): string;
  /** Resolves when the console (from the start) matches pattern. */
  waitForConsole(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

export async function bootGuest(o: BootGuestOptions): Promise<GuestVm> {
  const arch = archInfo(o.artifacts.arch);
  const dir = await mkdtemp(join(tmpdir(), 'neonvm-guest-test-'));
  let qemu: QemuProcess | undefined;
  let qmp: QmpClient | undefined;
  try {
    const overlay = join(dir, 'rootdisk.qcow2');
    const base = o.artifacts.rootDisk;
    await run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', base, overlay]);
    if (o.rootDiskMiB) await run(['qemu-img', 'resize', '-q', overlay, `${o.rootDiskMiB}M`]);
    const runtimeIso = join(dir, 'runtime.iso');
    await writeRuntimeIso(runtimeIso, o.runtime);
    let sshIso: string | undefined;
    if (o.sshPublicKey) {
      sshIso = join(dir, 'ssh-authorized-keys.iso');
      await writeIso(sshIso, SSH_ISO_LABEL, { authorized_keys: o.sshPublicKey.trim() + '\n' });
    }
    const [agentPort, sshPort] = [await freePort(), await freePort()];
    const cmdline = guestKernelCmdline({
      arch,
      cpuScalingMode: o.runtime.cpuScalingMode,
      bootCpus: o.sysfsBootCpus,
      lpj: hostLoopsPerJiffy(o.artifacts.manifest.kernelHz),
    });
    const args = testVmQemuArgs({
      arch,
      accel: o.accel,
      kernel: o.artifacts.kernel,
      initramfs: o.artifacts.initramfs,
      rootDisk: overlay,
      runtimeIso,
      sshIso,
      cpus: o.cpus,
      memory: o.memory,
      qmpSocket: join(dir, 'qmp.sock'),
      forwards: [
        { hostPort: agentPort, guestPort: GUEST_AGENT_PORT },
        { hostPort: sshPort, guestPort: 22 },
      ],
      cmdline,
      bios: o.bios,
      logSocket: join(dir, 'log.sock'),
    });

    const output = new ConsoleWatcher();
    const started = Date.now();
    qemu = spawnQemu(arch.qemuBinary, args, {
      logFile: join(dir, 'console.log'),
      onOutput: (chunk) => output.push(chunk),
    });
    const proc = qemu;
    void proc.exited.then((code) => output.end(`QEMU exited (${code})`));
    const waitForConsole = (pattern: RegExp, timeoutMs: number) => output.waitFor(pattern, timeoutMs);

    qmp = await QmpClient.connect({ socketPath: join(dir, 'qmp.sock'), connectTimeoutMs: 10_000 });
    await waitForConsole(new RegExp(GUEST_READY_LINE), o.readyTimeoutMs ?? 60_000);
    const readyAfterMs = Date.now() - started;
    const client = qmp;
    return {
      dir,
      qemu,
      qmp,
      agentUrl: `http://127.0.0.1:${agentPort}`,
      logSocket: join(dir, 'log.sock'),
      sshPort,
      readyAfterMs,
      args,
      console: () => output.text(),
      waitForConsole,
      async stop() {
        await client.close().catch(() => undefined);
        await proc.kill();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    const log = await readFile(join(dir, 'console.log'), 'utf8').catch(() => '');
    await qmp?.close().catch(() => undefined);
    await qemu?.kill();
    await rm(dir, { recursive: true, force: true });
    if (log && e instanceof Error && !e.message.includes(log.slice(-200)))
      e.message += `\nconsole:\n${log.slice(-3000)}`;
    throw e;
  }
}
