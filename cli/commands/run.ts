import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import {
  defaultVirtualMachine,
  encodeGzipBase64,
  formatFieldErrors,
  validateVirtualMachine,
  type VirtualMachine,
} from '../../crds';
import { ImageStore } from '../../cluster/image-store';
import { rootDiskOf } from '../../image/builder';
import { parseRunnerFlags } from '../../runner/config/flags';
import { resolveRunnerConfig } from '../../runner/config/runner-config';
import { startRunner, type RunnerIo } from '../../runner/lifecycle';
import { readManifestFile } from '../manifest-files';
import { localVmDir } from '../local-vm-dirs';

export interface RunOptions {
  readonly ip: string;
  readonly port?: string;
  readonly dir?: string;
  readonly console?: boolean;
  readonly cpuScalingMode?: string;
  readonly imageStore?: string;
}

/** Pod path where `neonvm run` links the image's disk, as the init container copies it in a pod. */
const ROOT_DISK_BASE = '/vm/rootdisk-base.qcow2';

/**
 * What the runner pod's init container does on a cluster: the disk of `spec.guest.rootDisk.image`
 * from the local image store, here linked (the runner boots a qcow2 overlay on it, the store's disk
 * stays untouched). Fails naming the field when the store has no such VM image.
 */
function placeRootDisk(vm: VirtualMachine, root: string, storeDir: string | undefined): string {
  const disk = rootDiskOf(vm, new ImageStore(storeDir ? resolve(storeDir) : undefined));
  const link = join(root, ROOT_DISK_BASE);
  mkdirSync(join(link, '..'), { recursive: true });
  rmSync(link, { force: true });
  symlinkSync(disk, link);
  return disk;
}

/** Runner messages worth a progress line; the rest goes to <dir>/runner.log. */
const PROGRESS = new Set([
  'accelerator',
  'network mode',
  'disks ready',
  'runner API listening',
  'guest ready',
  'shutting down',
  'QEMU exited',
]);

function loadVm(file: string): VirtualMachine {
  const vm = readManifestFile(file)
    .map((s) => s.object)
    .find((o) => o.kind === 'VirtualMachine');
  if (!vm) throw new Error(`${file}: no VirtualMachine in the file`);
  const defaulted = defaultVirtualMachine(vm as unknown as VirtualMachine);
  const errors = validateVirtualMachine(defaulted);
  if (errors.length) throw new Error(`${file}: invalid VirtualMachine:\n${formatFieldErrors(errors)}`);
  return defaulted;
}

/**
 * SSH key pair and API token, made once per VM directory (the operator gets them from Secrets), at
 * the pod paths the runner reads by default (/vm/secrets/runner-token, /vm/ssh, /mnt/ssh).
 */
function ensureSecrets(root: string, ssh: boolean): string {
  const tokenFile = join(root, 'vm/secrets/runner-token');
  if (!existsSync(tokenFile)) {
    mkdirSync(join(root, 'vm/secrets'), { recursive: true });
    writeFileSync(tokenFile, randomBytes(24).toString('hex') + '\n', { mode: 0o600 });
  }
  const key = join(root, 'mnt/ssh/id_ed25519');
  if (ssh && !existsSync(key)) {
    mkdirSync(join(root, 'mnt/ssh'), { recursive: true });
    mkdirSync(join(root, 'vm/ssh'), { recursive: true });
    const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'neonvm', '-f', key], {
      stdio: 'inherit',
    });
    if (r.status !== 0) throw new Error('ssh-keygen failed');
    writeFileSync(join(root, 'vm/ssh/authorized_keys'), readFileSync(`${key}.pub`));
  }
  return tokenFile;
}

/** `neonvm run vm.yaml`: boots the VM of a manifest on this machine, without a cluster. */
export async function runVm(file: string, opts: RunOptions): Promise<number> {
  const vm = loadVm(file);
  const name = vm.metadata?.name ?? 'vm';
  const root = resolve(opts.dir ?? localVmDir(name));
  mkdirSync(root, { recursive: true });
  const disk = placeRootDisk(vm, root, opts.imageStore);
  const tokenFile = ensureSecrets(root, vm.spec.enableSSH !== false);
  const argv = [
    `-vmspec=${encodeGzipBase64(vm.spec)}`,
    `-memhp-auto-movable-ratio=${vm.spec.guest.memhpAutoMovableRatio ?? '301'}`,
    // O_DIRECT (cache=none) fails on tmpfs home directories; local runs do not need it.
    '-qemu-disk-cache-settings=cache=writeback',
    `-pod-ip=${opts.ip}`,
    `-rootdisk-base=${ROOT_DISK_BASE}`,
    ...(opts.port ? [`-api-port=${opts.port}`] : []),
    ...(opts.cpuScalingMode ? [`-cpu-scaling-mode=${opts.cpuScalingMode}`] : []),
  ];
  const config = resolveRunnerConfig(parseRunnerFlags(argv), {
    ...process.env,
    NEONVM_POD_ROOT: root,
    K8S_POD_NAME: name,
  });
  const consoleLog = createWriteStream(join(root, 'console.log'));
  const runnerLog = createWriteStream(join(root, 'runner.log'));
  const t0 = Date.now();
  const secs = () => ((Date.now() - t0) / 1000).toFixed(1);
  console.log(`==> ${name}: state in ${root}`);
  console.log(`==> root disk: ${vm.spec.guest.rootDisk.image} (${disk})`);
  const io: RunnerIo = {
    log: (msg, extra) => {
      runnerLog.write(JSON.stringify({ time: new Date().toISOString(), msg, ...extra }) + '\n');
      if (PROGRESS.has(msg))
        console.log(
          `==> [${secs()}s] ${msg}${extra && Object.keys(extra).length ? ` ${JSON.stringify(extra)}` : ''}`,
        );
      else if (msg.startsWith('guest serial console') || msg.startsWith('guest-build'))
        console.log(`==> [${secs()}s] ${msg}`);
    },
    console: (chunk) => {
      consoleLog.write(chunk);
      if (opts.console) process.stdout.write(chunk);
    },
    qemuStderr: (chunk) => runnerLog.write(chunk),
  };
  // Ctrl-C while starting undoes what the runner set up so far; once running it powers the guest off.
  const starting = new AbortController();
  const onStartSignal = () => starting.abort(new Error('interrupted while starting'));
  process.on('SIGINT', onStartSignal);
  process.on('SIGTERM', onStartSignal);
  const running = await startRunner(config, io, { signal: starting.signal }).finally(() => {
    process.off('SIGINT', onStartSignal);
    process.off('SIGTERM', onStartSignal);
  });
  console.log(`==> API ${running.apiUrl} (token in ${tokenFile}); console log ${join(root, 'console.log')}`);
  console.log(`==> attach: neonvm console ${name}   ssh: neonvm ssh ${name}   stop: Ctrl-C`);
  void running.vm.whenReady().then(() => console.log(`==> [${secs()}s] ${name} is up`));
  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) return console.log('==> already shutting down (the guest is powering off)');
    console.log(`==> [${secs()}s] shutting down ${name} (ACPI power button)`);
    void running.shutdown(30_000);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const code = await running.exited;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  console.log(`==> [${secs()}s] ${name} stopped (exit ${code})`);
  consoleLog.end();
  runnerLog.end();
  return code;
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('boot the VirtualMachine of a manifest on this machine (no cluster); Ctrl-C powers it off')
    .argument('<file>', 'YAML/JSON file with a VirtualMachine')
    .option('--ip <address>', 'address for the runner API and guest ports', '127.0.0.1')
    .option('--port <port>', 'runner API port (default: spec.runnerPort)')
    .option('--dir <dir>', 'state directory (default: ~/.local/state/neonvm/vms/<name>)')
    .option('--cpu-scaling-mode <mode>', 'QmpScaling or SysfsScaling (default: spec, else QmpScaling)')
    .option('--console', 'also print the guest console', false)
    .option(
      '--image-store <dir>',
      'where spec.guest.rootDisk.image is looked up (default: ${NEONVM_CACHE:-~/.cache/neonvm}/images, where "neonvm image build -t" stores)',
    )
    .action(async (file: string, opts: RunOptions) => {
      process.exitCode = await runVm(file, opts);
    });
}
